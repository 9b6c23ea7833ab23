//! For an oracle's build.rs: compiles the resolved verifier version (from the Cargo.lock this build
//! used) and the rustc version into the binary, for its hello (`SIGHARNESS_LIBRARY_VERSION`,
//! `SIGHARNESS_RUSTC_VERSION`; `protocol::oracle!` reads them).
use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// The version of package `name` in a Cargo.lock's text ("unknown" when it is not there).
pub fn lock_version(lock: &str, name: &str) -> String {
    let mut current = None;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            current = None;
        } else if let Some(rest) = line.strip_prefix("name = ") {
            current = Some(rest.trim_matches('"').to_string());
        } else if let Some(rest) = line.strip_prefix("version = ") {
            if current.as_deref() == Some(name) {
                return rest.trim_matches('"').to_string();
            }
        }
    }
    "unknown".into()
}

/// Called from build.rs's `main` with the crate the oracle judges with (e.g. "s3s").
pub fn versions(library: &str) {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = fs::read_to_string(dir.join("Cargo.lock")).unwrap_or_default();
    println!("cargo:rustc-env=SIGHARNESS_LIBRARY_VERSION={}", lock_version(&lock, library));
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc).arg("--version").output().ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()).unwrap_or_default();
    println!("cargo:rustc-env=SIGHARNESS_RUSTC_VERSION={}", version.trim());
}
