//! The server's clock, for the oracles that judge presigned URLs (adapters/s3s, adapters/rustack).
//!
//! Their libraries check a presigned URL's expiry against the wall clock only, and have no clock
//! option (each oracle's main.rs names where, in the version it pins). The cases are dated in the past
//! (the official vectors: 2015), so with the real clock every presigned URL is expired before its
//! signature is looked at.
//!
//! So an oracle sets its process's clock, as one tests a server at a given time: it runs under
//! Debian's libfaketime (`LD_PRELOAD`, package `libfaketime`), and before each request sets the
//! clock to the server's time the harness sends (`server.now`, the check's signing time) through
//! the `FAKETIME` variable, which libfaketime reads on every clock call with `FAKETIME_NO_CACHE=1`.
//! The library's own code is untouched: it reads the wall clock as always and gets the server's time.
//! Monotonic clocks are left alone (`FAKETIME_DONT_FAKE_MONOTONIC=1`).

use std::env;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LIBRARY: &str = "libfaketime.so.1";

/// One oracle's clock: the variable that marks its process as restarted under libfaketime, and what the
/// oracle judges with (named in the reason it gives when the clock cannot be set).
pub struct Clock {
    marker: &'static str,
    judge: &'static str,
    status: std::sync::OnceLock<Option<String>>,
}

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

impl Clock {
    /// `marker`: e.g. "SIGHARNESS_S3S_CLOCK"; `judge`: e.g. "s3s 0.14.1".
    pub const fn new(marker: &'static str, judge: &'static str) -> Clock {
        Clock { marker, judge, status: std::sync::OnceLock::new() }
    }

    /// Start this process again under libfaketime (once; nothing happens when it is not installed: then
    /// `check` says why presigned URLs cannot be judged).
    pub fn run_under_faketime(&self) {
        if env::var_os(self.marker).is_some() {
            return;
        }
        let (Some(lib), Ok(exe)) = (library(), env::current_exe()) else { return };
        let preload = match env::var("LD_PRELOAD") {
            Ok(other) if !other.is_empty() => format!("{}:{other}", lib.display()),
            _ => lib.display().to_string(),
        };
        let error = Command::new(exe).args(env::args_os().skip(1)).env(self.marker, lib.as_os_str()).env("LD_PRELOAD", preload)
            .env("FAKETIME", "+0").env("FAKETIME_NO_CACHE", "1").env("FAKETIME_DONT_FAKE_MONOTONIC", "1").env("TZ", "UTC")
            .exec();
        eprintln!("could not start under libfaketime ({error}); presigned URLs cannot be judged");
    }

    /// Set the clock to `now` ("2015-08-30T12:36:00Z", the verify message's `server.now`).
    pub fn set(&self, now: &str) -> Result<(), String> {
        let (date, time) = now.trim_end_matches('Z').split_once('T').ok_or_else(|| format!("server.now {now:?} is not YYYY-MM-DDThh:mm:ssZ"))?;
        env::set_var("FAKETIME", format!("{date} {time}"));
        Ok(())
    }

    /// None when setting the clock works (checked once at start), else why presigned URLs cannot be judged.
    pub fn check(&self) -> Option<String> {
        if env::var_os(self.marker).is_none() {
            return Some(format!("libfaketime ({LIBRARY}) is not installed (apt-get install libfaketime), so the oracle cannot set \
    the server's clock, and {} compares a presigned URL's expiry with the wall clock only", self.judge));
        }
        let wanted = Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
        let got = self.set("2015-08-30T12:36:00Z").ok().and_then(|_| SystemTime::now().duration_since(UNIX_EPOCH).ok());
        env::set_var("FAKETIME", "+0");
        match got {
            Some(t) if t.as_secs() == wanted.as_secs() => None,
            other => Some(format!("libfaketime is loaded but the clock did not follow it (set 2015-08-30T12:36:00Z, read {other:?} \
    seconds since 1970), so presigned URLs cannot be judged")),
        }
    }

    /// `check`, once per process.
    pub fn status(&self) -> &Option<String> {
        self.status.get_or_init(|| self.check())
    }

    /// Before a request: the clock at the server's time (`server.now`), when it can be set.
    pub fn at_server_time(&self, server: &serde_json::Value) -> Result<(), String> {
        if self.status().is_some() {
            return Ok(());
        }
        self.set(server.get("now").and_then(serde_json::Value::as_str).ok_or("verify message: `server.now` missing or not a string")?)
    }

    /// The hello's modes and their reasons: presigned URLs (query mode) only when the clock can be set.
    pub fn modes(&self) -> (serde_json::Value, serde_json::Value) {
        match self.status() {
            None => (serde_json::json!(["header", "query"]), serde_json::json!({})),
            Some(why) => (serde_json::json!(["header"]), serde_json::json!({"query": why})),
        }
    }
}
