//! The `send` capability (docs/adapter-protocol.md, docs/wire.md): after `handle_sign`, the signed
//! request goes out with `reqwest` (blocking client, default features off: no TLS, since the wire
//! scheme is http), the way users of aws-sigv4 send what it signed: the method, the signed URL,
//! every header of the signed `http::Request` (`RequestBuilder::header`), the body. One client
//! for the process, as reqwest's documentation advises (it holds the connection pool), with a
//! 5 s timeout per request.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

pub const CLIENTS: &[&str] = &["reqwest"];
const TIMEOUT: Duration = Duration::from_secs(5);

fn client() -> Result<&'static reqwest::blocking::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::blocking::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::blocking::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .map_err(|e| format!("reqwest::Error: {}", crate::error_chain(&e)))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The signed URL with its scheme replaced; an explicit default port 443 becomes 80.
pub fn wire_url(url: &str, scheme: &str) -> String {
    let Some(i) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[i + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut authority = rest[..end].to_string();
    if url[..i].eq_ignore_ascii_case("https") && authority.ends_with(":443") {
        authority.truncate(authority.len() - 4);
        authority.push_str(":80");
    }
    format!("{scheme}://{authority}{}", &rest[end..])
}

/// Send the `signed` block of a sign answer; the `sent` block of the answer.
pub fn send(signed: &Value, check: &Value, client_name: &str, scheme: &str) -> Value {
    match send_inner(signed, check, scheme) {
        Ok((status, received)) => {
            let mut sent = json!({"client": client_name, "status": status});
            if let Some(r) = received {
                sent["received"] = Value::String(r);
            }
            sent
        }
        Err(e) => json!({"client": client_name, "error": e}),
    }
}

fn send_inner(
    signed: &Value,
    check: &Value,
    scheme: &str,
) -> Result<(u16, Option<String>), String> {
    let method = signed["method"].as_str().unwrap_or("GET");
    let url = wire_url(signed["url"].as_str().unwrap_or(""), scheme);
    let body_b64 = match &signed["body_b64"] {
        Value::String(s) => s.as_str(),
        _ => check["request"]["body_b64"].as_str().unwrap_or(""),
    };
    let body = base64::engine::general_purpose::STANDARD
        .decode(body_b64)
        .map_err(|e| format!("adapter: bad body_b64: {e}"))?;
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|e| format!("http::method::InvalidMethod: {e}"))?;
    let mut request = client()?.request(method, url.as_str());
    if let Some(headers) = signed["headers"].as_array() {
        for h in headers {
            if let (Some(n), Some(v)) = (h[0].as_str(), h[1].as_str()) {
                request = request.header(n, v);
            }
        }
    }
    if !body.is_empty() {
        request = request.body(body);
    }
    let response = request
        .send()
        .map_err(|e| format!("reqwest::Error: {}", crate::error_chain(&e)))?;
    let status = response.status().as_u16();
    let received = response
        .headers()
        .get("x-sigharness-received")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let _ = response.bytes();
    Ok((status, received))
}
