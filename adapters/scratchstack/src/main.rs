//! sigharness verifier (oracle) over the `scratchstack-aws-signature` crate.
//!
//! Speaks the JSON-lines protocol of docs/adapter-protocol.md as a `verifier`: each `verify`
//! message carries a received request and the server's configuration (credentials, region,
//! service, clock, S3 or not). The request is built as an `http::Request` -- as a web framework
//! hands it to the crate -- and judged by `sigv4_validate_request`, with the signing key given by
//! the crate's own `KSecretKey::to_ksigning` from the server's credentials. The opinion is the
//! crate's: `accept` when it validates, `reject` with its error otherwise. Nothing here computes
//! any part of a signature.

use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};
use std::str::FromStr;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use scratchstack_aws_signature::{
    sigv4_validate_request, GetSigningKeyRequest, GetSigningKeyResponse,
    KSecretKey, SignatureOptions, NO_ADDITIONAL_SIGNED_HEADERS,
};
use serde_json::{json, Value};
use tower::BoxError;

const LIBRARY: &str = "scratchstack-aws-signature";
const LIBRARY_VERSION: &str = env!("SIGHARNESS_LIBRARY_VERSION");
const RUSTC_VERSION: &str = env!("SIGHARNESS_RUSTC_VERSION");
/// Why presigned URLs are left out: the crate rejects every one before it checks a signature.
const QUERY_LEFT_OUT: &str = "scratchstack-aws-signature 0.11.4 reads X-Amz-Credential still percent-encoded \
    (query_string_to_normalized_map keeps %2F), so it rejects every presigned URL before checking its signature \
    (known difference scratchstack-encoded-credential); it is not asked about them";

/// An opinion: ("accept" | "reject" | "n/a", reason).
type Opinion = (&'static str, String);

#[derive(Clone)]
struct Credential {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    value.get(key).and_then(Value::as_str).ok_or_else(|| format!("verify message: `{key}` missing or not a string"))
}

fn credentials(server: &Value) -> Result<Vec<Credential>, String> {
    let list = server.get("credentials").and_then(Value::as_array).ok_or("verify message: `server.credentials` missing")?;
    list.iter()
        .map(|c| {
            Ok(Credential {
                access_key_id: text(c, "access_key_id")?.to_string(),
                secret_access_key: text(c, "secret_access_key")?.to_string(),
                session_token: c.get("session_token").and_then(Value::as_str).map(str::to_string),
            })
        })
        .collect()
}

/// The received request as an `http::Request` (None with the reason when the http crate cannot carry it).
fn http_request(request: &Value) -> Result<Result<http::Request<Vec<u8>>, String>, String> {
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
    Ok(builder.body(body).map_err(|e| format!("the http crate refuses this request: {e}")))
}

/// The server's credentials: the secret key of an access key, and the session token it was issued with.
struct KeyStore(Vec<Credential>);

impl KeyStore {
    fn lookup(&self, req: &GetSigningKeyRequest) -> Result<GetSigningKeyResponse, BoxError> {
        let cred = self.0.iter().find(|c| c.access_key_id == req.access_key())
            .ok_or_else(|| format!("unknown access key {:?}", req.access_key()))?;
        if cred.session_token.as_deref() != req.session_token() {
            let what = if req.session_token().is_none() { "the session token is missing" } else { "the session token does not match" };
            return Err(what.into());
        }
        let secret = KSecretKey::from_str(&cred.secret_access_key).map_err(|e| format!("{e}"))?;
        let key = secret.to_ksigning(req.request_date(), req.region(), req.service());
        Ok(GetSigningKeyResponse::builder().signing_key(key).build()?)
    }
}

impl tower::Service<GetSigningKeyRequest> for KeyStore {
    type Response = GetSigningKeyResponse;
    type Error = BoxError;
    type Future = std::future::Ready<Result<GetSigningKeyResponse, BoxError>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: GetSigningKeyRequest) -> Self::Future {
        std::future::ready(self.lookup(&req))
    }
}

fn judge(message: &Value) -> Result<Opinion, String> {
    let request = message.get("request").ok_or("verify message: `request` missing")?;
    let server = message.get("server").ok_or("verify message: `server` missing")?;
    let request = match http_request(request)? {
        Ok(r) => r,
        Err(reason) => return Ok(("n/a", reason)),
    };
    let sigv4a = request.headers().get("authorization").and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-ECDSA-P256-SHA256"))
        || request.uri().query().is_some_and(|q| q.contains("AWS4-ECDSA-P256-SHA256"));
    if sigv4a {
        return Ok(("n/a", format!("{LIBRARY} verifies SigV4 (AWS4-HMAC-SHA256) only, not SigV4A")));
    }
    let region = text(server, "region")?.to_string();
    let service = text(server, "service")?.to_string();
    let now: DateTime<Utc> = DateTime::from_str(text(server, "now")?).map_err(|e| format!("server.now: {e}"))?;
    let s3 = server.get("s3").and_then(Value::as_bool).unwrap_or(false);
    let normalize = server.get("normalize_path").and_then(Value::as_bool).unwrap_or(!s3);
    let double_encode = server.get("double_encode").and_then(Value::as_bool).unwrap_or(!s3);
    if normalize == s3 || double_encode == s3 {
        return Ok(("n/a", format!("{LIBRARY} canonicalizes either as S3 (no path normalization, no double encoding) or as \
            other services (both); SignatureOptions has no option for normalize_path={normalize}, double_encode={double_encode}")));
    }
    let known = credentials(server)?;

    // The key lookup a server built on the crate supplies (a tower Service, as the crate asks).
    let mut get_key = KeyStore(known);
    let options = if s3 { SignatureOptions::S3 } else { SignatureOptions::default() };
    let outcome = pollster::block_on(sigv4_validate_request(
        request, &region, &service, &mut get_key, now, &NO_ADDITIONAL_SIGNED_HEADERS, options,
    ));
    Ok(match outcome {
        Ok(_) => ("accept", String::new()),
        Err(e) => ("reject", e.to_string()),
    })
}

fn answer(message: &Value) -> Option<Value> {
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    match message.get("type").and_then(Value::as_str) {
        Some("hello") => {
            let mut hello = json!({
                "type": "hello", "protocol": 1, "language": "rust", "runtime": RUSTC_VERSION,
                "library": LIBRARY, "library_version": LIBRARY_VERSION,
                "capabilities": {"kind": "verifier", "algorithms": ["sigv4"], "modes": ["header"], "verifies": ["sigv4-header", "s3-path"],
                    "why": {"query": QUERY_LEFT_OUT}},
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
