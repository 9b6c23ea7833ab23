//! The JSON-lines protocol of a `verifier` (docs/adapter-protocol.md): one message a line on stdin,
//! one answer a line on stdout; `hello` is answered with the oracle's capabilities, `verify` with its
//! library's opinion, `bye` ends the process.

use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};

use serde_json::{json, Value};

/// An opinion: ("accept" | "reject" | "n/a", reason).
pub type Opinion = (&'static str, String);

/// The library an oracle judges with, as its hello names it.
pub struct Oracle {
    pub library: &'static str,
    /// From the Cargo.lock the binary was built with (`build_script::versions`).
    pub library_version: &'static str,
    /// The rustc that built it.
    pub runtime: &'static str,
}

/// `Oracle` for the library `$library`, with the versions the oracle's build.rs compiled in.
#[macro_export]
macro_rules! oracle {
    ($library:expr) => {
        $crate::protocol::Oracle {
            library: $library,
            library_version: env!("SIGHARNESS_LIBRARY_VERSION"),
            runtime: env!("SIGHARNESS_RUSTC_VERSION"),
        }
    };
}

impl Oracle {
    /// The hello: the oracle's `capabilities`, and the name the harness gave it.
    pub fn hello(&self, message: &Value, capabilities: Value) -> Value {
        let mut hello = json!({
            "type": "hello", "protocol": 1, "language": "rust", "runtime": self.runtime,
            "library": self.library, "library_version": self.library_version,
            "capabilities": capabilities,
        });
        if let Some(name) = message.get("adapter") {
            hello["name"] = name.clone();
        }
        hello
    }

    /// The answer to a `verify` message: `judge(request, server)`'s opinion; `n/a` with the problem when
    /// the message lacks what it needs, or when the library panics.
    pub fn verify(&self, message: &Value, judge: impl FnOnce(&Value, &Value) -> Result<Opinion, String>) -> Value {
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        let judged = panic::catch_unwind(AssertUnwindSafe(|| {
            let request = message.get("request").ok_or("verify message: `request` missing")?;
            let server = message.get("server").ok_or("verify message: `server` missing")?;
            judge(request, server)
        }));
        match judged {
            Ok(Ok((verdict, reason))) => json!({"type": "opinion", "id": id, "verdict": verdict, "reason": reason}),
            Ok(Err(problem)) => json!({"type": "opinion", "id": id, "verdict": "n/a", "reason": problem}),
            Err(_) => json!({"type": "opinion", "id": id, "verdict": "n/a", "reason": format!("{} panicked on this request", self.library)}),
        }
    }

    /// The answer to any message (None for `bye`).
    pub fn answer(
        &self,
        message: &Value,
        capabilities: impl FnOnce() -> Value,
        judge: impl FnOnce(&Value, &Value) -> Result<Opinion, String>,
    ) -> Option<Value> {
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        match message.get("type").and_then(Value::as_str) {
            Some("hello") => Some(self.hello(message, capabilities())),
            Some("verify") => Some(self.verify(message, judge)),
            Some("bye") => None,
            other => Some(json!({"type": "result", "id": id, "status": "error",
                                 "reason": format!("unknown message type {other:?} (this adapter is a verifier)")})),
        }
    }

    /// The oracle's process: `serve` with `answer`.
    pub fn serve(&self, capabilities: impl Fn() -> Value, judge: impl Fn(&Value, &Value) -> Result<Opinion, String>) {
        serve(|message| self.answer(message, &capabilities, &judge));
    }
}

/// Read messages from stdin until `bye` or its end, and write each answer on a line of its own. A line
/// that is not JSON becomes a `garbled` message (answered as an unknown type); a panic is reported on
/// stderr.
pub fn serve(mut answer: impl FnMut(&Value) -> Option<Value>) {
    panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let message: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => json!({"type": "garbled", "error": e.to_string()}),
        };
        if message.get("type").and_then(Value::as_str) == Some("bye") {
            break;
        }
        if let Some(out) = answer(&message) {
            let _ = writeln!(stdout, "{out}");
            let _ = stdout.flush();
        }
    }
}
