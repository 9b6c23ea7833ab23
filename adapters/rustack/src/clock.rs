//! The server's clock, for presigned URLs.
//!
//! s3s 0.14.1 checks a presigned URL's expiry before its signature, against the wall clock only:
//! `v4_check_presigned_url` (src/ops/signature.rs) takes `time::OffsetDateTime::now_utc()` and answers
//! `AccessDenied: Request has expired` when `now - X-Amz-Date > X-Amz-Expires`. It has no clock option
//! (`S3Config` has `presigned_url_max_skew_time_secs`, which bounds dates in the future only). The
//! cases are dated in the past (the official vectors: 2015), so with the real clock every presigned
//! URL is expired before s3s looks at its signature.
//!
//! So the oracle sets the process's clock, as one tests a server at a given time: it runs under
//! Debian's libfaketime (`LD_PRELOAD`, package `libfaketime`), and before each request sets the
//! clock to the server's time the harness sends (`server.now`, the check's signing time) through
//! the `FAKETIME` variable, which libfaketime reads on every clock call with `FAKETIME_NO_CACHE=1`.
//! s3s's own code is untouched: it reads `now_utc()` as always and gets the server's time.
//! Monotonic clocks are left alone (`FAKETIME_DONT_FAKE_MONOTONIC=1`).

use std::env;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MARKER: &str = "SIGHARNESS_RUSTACK_CLOCK";
const LIBRARY: &str = "libfaketime.so.1";

/// Where Debian (any architecture) and a local build install libfaketime.
fn library() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = vec![];
    for root in ["/usr/lib", "/usr/local/lib", "/lib"] {
        dirs.push(Path::new(root).join("faketime"));
        if let Ok(entries) = std::fs::read_dir(root) {
            dirs.extend(entries.flatten().map(|e| e.path().join("faketime")));
        }
    }
    dirs.into_iter().map(|d| d.join(LIBRARY)).find(|p| p.is_file())
}

/// Start this process again under libfaketime (once; nothing happens when it is not installed: then
/// `check` says why presigned URLs cannot be judged).
pub fn run_under_faketime() {
    if env::var_os(MARKER).is_some() {
        return;
    }
    let (Some(lib), Ok(exe)) = (library(), env::current_exe()) else { return };
    let preload = match env::var("LD_PRELOAD") {
        Ok(other) if !other.is_empty() => format!("{}:{other}", lib.display()),
        _ => lib.display().to_string(),
    };
    let error = Command::new(exe).args(env::args_os().skip(1)).env(MARKER, lib.as_os_str()).env("LD_PRELOAD", preload)
        .env("FAKETIME", "+0").env("FAKETIME_NO_CACHE", "1").env("FAKETIME_DONT_FAKE_MONOTONIC", "1").env("TZ", "UTC")
        .exec();
    eprintln!("could not start under libfaketime ({error}); presigned URLs cannot be judged");
}

/// Set the clock to `now` ("2015-08-30T12:36:00Z", the verify message's `server.now`).
pub fn set(now: &str) -> Result<(), String> {
    let (date, time) = now.trim_end_matches('Z').split_once('T').ok_or_else(|| format!("server.now {now:?} is not YYYY-MM-DDThh:mm:ssZ"))?;
    env::set_var("FAKETIME", format!("{date} {time}"));
    Ok(())
}

/// None when setting the clock works (checked once at start), else why presigned URLs cannot be judged.
pub fn check() -> Option<String> {
    if env::var_os(MARKER).is_none() {
        return Some(format!("libfaketime ({LIBRARY}) is not installed (apt-get install libfaketime), so the oracle cannot set \
the server's clock, and rustack-auth 0.12.0 compares a presigned URL's expiry with the wall clock only"));
    }
    let wanted = Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
    let got = set("2015-08-30T12:36:00Z").ok().and_then(|_| SystemTime::now().duration_since(UNIX_EPOCH).ok());
    env::set_var("FAKETIME", "+0");
    match got {
        Some(t) if t.as_secs() == wanted.as_secs() => None,
        other => Some(format!("libfaketime is loaded but the clock did not follow it (set 2015-08-30T12:36:00Z, read {other:?} \
seconds since 1970), so presigned URLs cannot be judged")),
    }
}

/// `check`, once per process.
pub fn status() -> &'static Option<String> {
    static STATUS: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    STATUS.get_or_init(check)
}

/// Before a request: the clock at the server's time (`server.now`), when it can be set.
pub fn at_server_time(server: &serde_json::Value) -> Result<(), String> {
    if status().is_some() {
        return Ok(());
    }
    set(server.get("now").and_then(serde_json::Value::as_str).ok_or("verify message: `server.now` missing or not a string")?)
}

/// The hello's modes and their reasons: presigned URLs (query mode) only when the clock can be set.
pub fn modes() -> (serde_json::Value, serde_json::Value) {
    match status() {
        None => (serde_json::json!(["header", "query"]), serde_json::json!({})),
        Some(why) => (serde_json::json!(["header"]), serde_json::json!({"query": why})),
    }
}
