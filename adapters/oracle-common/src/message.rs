//! The verify message's fields (docs/adapter-protocol.md, "verify"): the received request, carried as
//! the `http` crate carries it (as a web framework hands it to a library), and the server's
//! configuration.

use base64::Engine as _;
use serde_json::Value;

/// The string at `key` (an error naming the key when it is missing or not a string).
pub fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    value.get(key).and_then(Value::as_str).ok_or_else(|| format!("verify message: `{key}` missing or not a string"))
}

/// One of the server's credentials.
#[derive(Clone)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// The server's credentials (`server.credentials`).
pub fn credentials(server: &Value) -> Result<Vec<Credential>, String> {
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

/// How the server canonicalizes paths: as S3 (`server.s3`, default `s3`) and, unless told otherwise,
/// neither normalized nor double-encoded for S3, both for other services.
pub struct PathRules {
    pub s3: bool,
    pub normalize: bool,
    pub double_encode: bool,
}

impl PathRules {
    pub fn of(server: &Value, s3: bool) -> PathRules {
        let s3 = server.get("s3").and_then(Value::as_bool).unwrap_or(s3);
        let normalize = server.get("normalize_path").and_then(Value::as_bool).unwrap_or(!s3);
        let double_encode = server.get("double_encode").and_then(Value::as_bool).unwrap_or(!s3);
        PathRules { s3, normalize, double_encode }
    }
}

/// The request target of `request.url`: what follows scheme://authority, byte for byte ("/" when empty).
pub fn target(url: &str) -> String {
    let after_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    match after_scheme.find(|c| c == '/' || c == '?') {
        Some(i) if after_scheme.as_bytes()[i] == b'/' => after_scheme[i..].to_string(),
        Some(i) => format!("/{}", &after_scheme[i..]),
        None => "/".to_string(),
    }
}

/// The received body (`request.body_b64`; empty without one).
pub fn body(request: &Value) -> Result<Vec<u8>, String> {
    match request.get("body_b64").and_then(Value::as_str) {
        Some(b64) => base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("body_b64: {e}")),
        None => Ok(Vec::new()),
    }
}

/// The received request as an `http::Request` with `method`, `target`, `request.headers` in their order and
/// `body`; the inner Err is the reason when the http crate cannot carry it (an `n/a`).
pub fn http_request<B>(request: &Value, method: &str, target: &str, body: B) -> Result<Result<http::Request<B>, String>, String> {
    let mut builder = http::Request::builder().method(method).uri(target);
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

/// The received request as an `http::Request` with its body: `request.method`, `request.url`'s target,
/// `request.body_b64` and `request.headers`, read in that order (as `http_request`, whose inner Err is an `n/a`).
pub fn received(request: &Value) -> Result<Result<http::Request<Vec<u8>>, String>, String> {
    let method = text(request, "method")?;
    let target = target(text(request, "url")?);
    let body = body(request)?;
    http_request(request, method, &target, body)
}

/// Signed with SigV4A (its algorithm in the Authorization header or the query).
pub fn is_sigv4a(headers: &http::HeaderMap, uri: &http::Uri) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("AWS4-ECDSA-P256-SHA256"))
        || uri.query().is_some_and(|q| q.contains("AWS4-ECDSA-P256-SHA256"))
}
