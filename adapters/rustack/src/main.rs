//! sigharness verifier (oracle) over the `rustack-auth` crate.
//!
//! Speaks the JSON-lines protocol of docs/adapter-protocol.md as a `verifier`: each `verify` message
//! carries a received request and the server's configuration (credentials, region, service, clock,
//! S3 or not). The request is built as `http::request::Parts` -- as a web framework hands it to the
//! crate -- and judged the way Rustack's own S3 server calls the crate (rustack-s3-http): a query
//! carrying `X-Amz-Signature` is a presigned URL (`verify_presigned`); otherwise header auth with the
//! SHA-256 of the received body (`hash_payload`), `sigv4::verify_s3_sigv4` for an S3 server and
//! `verify_sigv4` for any other. The secret keys come from the crate's `StaticCredentialProvider`.
//! The opinion is the crate's: `accept` when it verifies, `reject` with its error otherwise. Nothing
//! here computes any part of a signature.
//!
//! What the crate cannot judge is answered `n/a` with the reason read in its source (0.12.0):
//! SigV4A; presigned URLs of other services than S3 (`verify_presigned` ends every presigned
//! canonical request in UNSIGNED-PAYLOAD, S3's rule, where other services hash the body); an S3
//! server that normalizes or double-encodes the path (the crate has one path rule); requests the
//! `http` crate refuses. Presigned URLs are judged at the server's clock (adapters/oracle-clock).


use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};

use base64::Engine as _;
use rustack_auth::{hash_payload, sigv4, verify_presigned, verify_sigv4, AuthError, StaticCredentialProvider};
use serde_json::{json, Value};

/// The server's clock for presigned URLs (adapters/oracle-clock): rustack-auth 0.12.0 compares a
/// presigned URL's expiry with the wall clock only.
static CLOCK: sigharness_oracle_clock::Clock = sigharness_oracle_clock::Clock::new("SIGHARNESS_RUSTACK_CLOCK", "rustack-auth 0.12.0");

const LIBRARY: &str = "rustack-auth";
const LIBRARY_VERSION: &str = env!("SIGHARNESS_LIBRARY_VERSION");
const RUSTC_VERSION: &str = env!("SIGHARNESS_RUSTC_VERSION");
/// Why a presigned URL of another service than S3 is not judged (src/presigned.rs: `UNSIGNED_PAYLOAD`).
const PRESIGNED_NOT_S3: &str = "rustack-auth 0.12.0 has one presigned-URL entry point, verify_presigned (S3's), which ends \
every presigned canonical request in UNSIGNED-PAYLOAD; a server of another service hashes the body it receives, so the \
crate cannot judge this presigned URL";
const SIGV4A: &str = "rustack-auth 0.12.0 verifies AWS4-HMAC-SHA256 only (sigv4.rs SUPPORTED_ALGORITHM), not SigV4A";

/// An opinion: ("accept" | "reject" | "n/a", reason).
type Opinion = (&'static str, String);

fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    value.get(key).and_then(Value::as_str).ok_or_else(|| format!("verify message: `{key}` missing or not a string"))
}

/// The server's credentials as the crate's in-memory provider holds them (access key id -> secret key).
fn provider(server: &Value) -> Result<StaticCredentialProvider, String> {
    let list = server.get("credentials").and_then(Value::as_array).ok_or("verify message: `server.credentials` missing")?;
    let pairs = list.iter()
        .map(|c| Ok((text(c, "access_key_id")?.to_string(), text(c, "secret_access_key")?.to_string())))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(StaticCredentialProvider::new(pairs))
}

/// The received request as `http::request::Parts` and its body (Err with the reason when the http crate cannot carry it).
fn http_request(request: &Value) -> Result<Result<(http::request::Parts, Vec<u8>), String>, String> {
    let method = text(request, "method")?;
    let url = text(request, "url")?;
    let body = match request.get("body_b64").and_then(Value::as_str) {
        Some(b64) => base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("body_b64: {e}"))?,
        None => Vec::new(),
    };
    // What follows scheme://authority is the request target, byte for byte.
    let after_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let target = match after_scheme.find(|c| c == '/' || c == '?') {
        Some(i) if after_scheme.as_bytes()[i] == b'/' => after_scheme[i..].to_string(),
        Some(i) => format!("/{}", &after_scheme[i..]),
        None => "/".to_string(),
    };
    let mut builder = http::Request::builder().method(method).uri(target.as_str());
    let headers = request.get("headers").and_then(Value::as_array).ok_or("verify message: `request.headers` missing")?;
    for pair in headers {
        let name = pair.get(0).and_then(Value::as_str).unwrap_or_default();
        let value = pair.get(1).and_then(Value::as_str).unwrap_or_default();
        if http::HeaderValue::from_str(value).is_err() {
            return Ok(Err(format!("the http crate refuses the value of header {name:?} (control characters such as a line break)")));
        }
        builder = builder.header(name, value);
    }
    Ok(builder.body(()).map(|r| (r.into_parts().0, body)).map_err(|e| format!("the http crate refuses this request: {e}")))
}

/// The crate's error as a reason: its variant (e.g. `SignatureDoesNotMatch`) and its message.
fn reason(error: &AuthError) -> String {
    let debug = format!("{error:?}");
    let variant = debug.split(|c: char| c == '(' || c == ' ' || c == '{').next().unwrap_or_default();
    format!("rustack-auth {variant}: {error}")
}

fn judge(message: &Value) -> Result<Opinion, String> {
    let request = message.get("request").ok_or("verify message: `request` missing")?;
    let server = message.get("server").ok_or("verify message: `server` missing")?;
    let (parts, body) = match http_request(request)? {
        Ok(r) => r,
        Err(reason) => return Ok(("n/a", reason)),
    };
    let query = parts.uri.query().unwrap_or("");
    let sigv4a = parts.headers.get("authorization").and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-ECDSA-P256-SHA256")) || query.contains("AWS4-ECDSA-P256-SHA256");
    if sigv4a {
        return Ok(("n/a", SIGV4A.to_string()));
    }
    // The crate's S3 entry points are for an S3 server (its presigned rule, UNSIGNED-PAYLOAD, is S3's): chosen by the
    // service the server is, not by how it canonicalizes the path (`server.s3` is also set for other services that
    // sign without double encoding).
    let s3 = text(server, "service")? == "s3";
    let s3_paths = server.get("s3").and_then(Value::as_bool).unwrap_or(s3);
    let normalize = server.get("normalize_path").and_then(Value::as_bool).unwrap_or(!s3_paths);
    let double_encode = server.get("double_encode").and_then(Value::as_bool).unwrap_or(!s3_paths);
    if s3 && (normalize || double_encode) {
        return Ok(("n/a", format!("{LIBRARY} has one path rule (each segment decoded and encoded once, never normalized); \
            its S3 entry points cannot be an S3 server with normalize_path={normalize}, double_encode={double_encode}")));
    }
    let provider = provider(server)?;
    // As Rustack's S3 server decides (rustack-s3-http: `query.contains("X-Amz-Signature")`).
    let outcome = if query.contains("X-Amz-Signature") {
        if !s3 {
            return Ok(("n/a", PRESIGNED_NOT_S3.to_string()));
        }
        CLOCK.at_server_time(server)?;
        verify_presigned(&parts, &provider)
    } else if s3 {
        sigv4::verify_s3_sigv4(&parts, &hash_payload(&body), &provider)
    } else {
        verify_sigv4(&parts, &hash_payload(&body), &provider)
    };
    Ok(match outcome {
        Ok(_) => ("accept", String::new()),
        Err(AuthError::RequestExpired) if CLOCK.status().is_some() => ("n/a", format!("{LIBRARY} compares the expiry with \
            the wall clock only and the server's clock cannot be set: {}", CLOCK.status().as_deref().unwrap_or_default())),
        Err(e) => ("reject", reason(&e)),
    })
}

fn answer(message: &Value) -> Option<Value> {
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    match message.get("type").and_then(Value::as_str) {
        Some("hello") => {
            let (modes, mut why) = CLOCK.modes(); // presigned URLs need the server's clock (adapters/oracle-clock)
            why["sigv4a"] = json!(SIGV4A);
            why["query_services"] = json!(PRESIGNED_NOT_S3); // the engine answers those n/a without asking
            let mut hello = json!({
                "type": "hello", "protocol": 1, "language": "rust", "runtime": RUSTC_VERSION,
                "library": LIBRARY, "library_version": LIBRARY_VERSION,
                "capabilities": {"kind": "verifier", "algorithms": ["sigv4"], "modes": modes, "query_services": ["s3"],
                    "verifies": ["sigv4-header", "s3-header", "s3-presigned", "s3-path"], "why": why},
            });
            if let Some(name) = message.get("adapter") {
                hello["name"] = name.clone();
            }
            Some(hello)
        }
        Some("verify") => {
            let judged = panic::catch_unwind(AssertUnwindSafe(|| judge(message)));
            Some(match judged {
                Ok(Ok((verdict, reason))) => json!({"type": "opinion", "id": id, "verdict": verdict, "reason": reason}),
                Ok(Err(problem)) => json!({"type": "opinion", "id": id, "verdict": "n/a", "reason": problem}),
                Err(_) => json!({"type": "opinion", "id": id, "verdict": "n/a", "reason": format!("{LIBRARY} panicked on this request")}),
            })
        }
        Some("bye") => None,
        other => Some(json!({"type": "result", "id": id, "status": "error",
                             "reason": format!("unknown message type {other:?} (this adapter is a verifier)")})),
    }
}

fn main() {
    CLOCK.run_under_faketime();
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
