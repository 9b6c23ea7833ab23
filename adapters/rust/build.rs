//! Compiles the versions that were actually resolved into the binary:
//! - the `aws-sigv4` version from the Cargo.lock this build used,
//! - the rustc version that compiled it.
use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

fn lock_version(lock: &str, name: &str) -> Option<String> {
    // Cargo.lock is a list of [[package]] tables with `name = "..."` then `version = "..."`.
    let mut current: Option<&str> = None;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            current = None;
        } else if let Some(rest) = line.strip_prefix("name = ") {
            current = Some(rest.trim_matches('"'));
        } else if let Some(rest) = line.strip_prefix("version = ") {
            if current == Some(name) {
                return Some(rest.trim_matches('"').to_string());
            }
        }
    }
    None
}

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let lock_path = dir.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let lock = fs::read_to_string(&lock_path).expect("Cargo.lock next to Cargo.toml");
    let version = lock_version(&lock, "aws-sigv4").expect("aws-sigv4 in Cargo.lock");
    println!("cargo:rustc-env=SIGHARNESS_AWS_SIGV4_VERSION={version}");
    // rust-sdk-tokens' libraries (tokens.rs).
    for (name, var) in [("aws-sdk-rds", "SIGHARNESS_AWS_SDK_RDS_VERSION"), ("aws-sdk-dsql", "SIGHARNESS_AWS_SDK_DSQL_VERSION")] {
        let v = lock_version(&lock, name).unwrap_or_else(|| panic!("{name} in Cargo.lock"));
        println!("cargo:rustc-env={var}={v}");
    }
    // Where the crate came from: a crates.io entry has a `source`; a [patch] path build has none.
    let patched = lock
        .split("[[package]]")
        .find(|block| block.contains("name = \"aws-sigv4\""))
        .map(|block| !block.contains("source = "))
        .unwrap_or(false);
    println!(
        "cargo:rustc-env=SIGHARNESS_AWS_SIGV4_SOURCE={}",
        if patched { "path" } else { "crates.io" }
    );

    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    // "rustc 1.95.0 (59807616e 2026-04-14)" -> "rustc 1.95.0"
    let short: Vec<&str> = out.split_whitespace().take(2).collect();
    println!("cargo:rustc-env=SIGHARNESS_RUSTC_VERSION={}", short.join(" "));
}
