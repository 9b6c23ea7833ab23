//! sigharness verifier (oracle) over the `s3s` crate's S3 service.
//!
//! s3s keeps its SigV4 functions private (`mod sig_v4`), so this oracle uses what it makes public:
//! an `S3Service` built with `S3ServiceBuilder` and called in-process with `S3Service::call` (no
//! socket, no HTTP server). Its `S3Auth` knows the server's credentials; a custom `S3Route` that
//! matches every request is reached only after s3s has authenticated the request; it reads the body
//! (s3s checks the payload hash while the body streams, as for any operation) and answers 200. The opinion is s3s's: `accept` when the route is reached with credentials, `reject` with
//! the S3 error code and message s3s answers otherwise. Nothing here computes any part of a signature.
//!
//! Presigned POST forms (surface `post-policy`) arrive as the browser's multipart/form-data POST.
//! s3s authenticates them (`v4_check_post_signature`: the policy's signature, its x-amz-date,
//! x-amz-credential and x-amz-algorithm conditions against the fields, the scope's date) before
//! routing; the catch-all route is then reached, so the opinion covers the form's authentication,
//! not the policy's expiration and conditions (s3s checks those on its PostObject path only, after
//! any custom route, and the expiration against the wall clock).
//!
//! aws-chunked uploads (surface `aws-chunked`) arrive as the wire body; the route reads s3s's
//! decoded stream to its end, so s3s checks every chunk and trailer signature (chunked.rs).
//!
//! Configuration, as a user of s3s sets it: `presigned_url_max_skew_time_secs = u32::MAX` (the
//! harness judges signatures, not clock skew), and a bucket-name validation that accepts every name
//! (the generic SigV4 paths are not S3 bucket names; s3s checks names before auth). The process's
//! clock is the server's (`server.now`): s3s reads only the wall clock, so the oracle runs under
//! libfaketime (adapters/oracle-clock); presigned URLs are judged only when that clock follows.

mod chunked;

use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use base64::Engine as _;
use s3s::auth::{S3Auth, SecretKey};
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::route::S3Route;
use s3s::service::S3ServiceBuilder;
use s3s::validation::NameValidation;
use s3s::{Body, S3Request, S3Response, S3Result, S3};
use serde_json::{json, Value};

/// The server's clock for presigned URLs (adapters/oracle-clock): s3s 0.14.1 checks a presigned URL's
/// expiry before its signature, against the wall clock only: `v4_check_presigned_url`
/// (src/ops/signature.rs) takes `time::OffsetDateTime::now_utc()` and answers `AccessDenied: Request has
/// expired` when `now - X-Amz-Date > X-Amz-Expires`; it has no clock option (`S3Config` has
/// `presigned_url_max_skew_time_secs`, which bounds dates in the future only).
static CLOCK: sigharness_oracle_clock::Clock = sigharness_oracle_clock::Clock::new("SIGHARNESS_S3S_CLOCK", "s3s 0.14.1");

const LIBRARY: &str = "s3s";
const LIBRARY_VERSION: &str = env!("SIGHARNESS_LIBRARY_VERSION");
const RUSTC_VERSION: &str = env!("SIGHARNESS_RUSTC_VERSION");
const REACHED: &str = "sigharness: authenticated";

type Opinion = (&'static str, String);

/// Why an STS presigned URL is not judged (sig_v4/methods.rs: `create_presigned_canonical_request`).
const PRESIGNED_STS: &str = "s3s 0.14.1 ends every presigned canonical request in UNSIGNED-PAYLOAD (S3's rule); \
an STS server hashes the body it receives, so s3s cannot judge an STS presigned URL";

/// The storage: none (every operation is s3s's default, NotImplemented; never reached).
struct NoStorage;
impl S3 for NoStorage {}

/// The server's credentials.
struct Keys(Vec<(String, String)>);

#[async_trait::async_trait]
impl S3Auth for Keys {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.iter().find(|(id, _)| id == access_key) {
            Some((_, secret)) => Ok(SecretKey::from(secret.as_str())),
            None => Err(s3s::s3_error!(InvalidAccessKeyId)),
        }
    }
}

/// Reached only once s3s has authenticated the request (the default `check_access` refuses anonymous ones).
struct Authenticated;

#[async_trait::async_trait]
impl S3Route for Authenticated {
    fn is_match(&self, _: &http::Method, _: &http::Uri, _: &http::HeaderMap, _: &mut http::Extensions) -> bool {
        true
    }
    async fn call(&self, mut req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        if chunked::is_aws_chunked(&req.headers) {
            let read = chunked::read_to_end(&mut req).await?;
            return Ok(S3Response::new(Body::from(format!("{REACHED}\n{read}"))));
        }
        // Read the body as an operation would: s3s checks x-amz-content-sha256 while the body streams.
        if let Err(e) = req.input.store_all_limited(usize::MAX).await {
            return Err(s3s::s3_error!(BadDigest, "reading the body: {}", e));
        }
        let who = if req.credentials.is_some() { "" } else { " (anonymous)" };
        Ok(S3Response::new(Body::from(format!("{REACHED}{who}"))))
    }
}

struct AnyBucketName;
impl NameValidation for AnyBucketName {
    fn validate_bucket_name(&self, _: &str) -> bool {
        true
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    value.get(key).and_then(Value::as_str).ok_or_else(|| format!("verify message: `{key}` missing or not a string"))
}

fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

fn judge(message: &Value) -> Result<Opinion, String> {
    let request = message.get("request").ok_or("verify message: `request` missing")?;
    let server = message.get("server").ok_or("verify message: `server` missing")?;
    let service = text(server, "service")?;
    if service != "s3" && service != "sts" {
        return Ok(("n/a", format!("s3s is an S3 server: it verifies credential scopes for s3 (and sts), not {service:?}")));
    }
    let keys = server.get("credentials").and_then(Value::as_array).ok_or("verify message: `server.credentials` missing")?
        .iter().map(|c| Ok((text(c, "access_key_id")?.to_string(), text(c, "secret_access_key")?.to_string())))
        .collect::<Result<Vec<_>, String>>()?;

    let url = text(request, "url")?;
    let after_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let target = match after_scheme.find(|c| c == '/' || c == '?') {
        Some(i) if after_scheme.as_bytes()[i] == b'/' => after_scheme[i..].to_string(),
        Some(i) => format!("/{}", &after_scheme[i..]),
        None => "/".to_string(),
    };
    let body = match request.get("body_b64").and_then(Value::as_str) {
        Some(b64) => base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("body_b64: {e}"))?,
        None => Vec::new(),
    };
    let presigned = target.contains("X-Amz-Signature=");
    if presigned && service == "sts" {
        return Ok(("n/a", PRESIGNED_STS.to_string()));
    }
    let mut builder = http::Request::builder().method(text(request, "method")?).uri(target.as_str());
    for pair in request.get("headers").and_then(Value::as_array).ok_or("verify message: `request.headers` missing")? {
        let name = pair.get(0).and_then(Value::as_str).unwrap_or_default();
        let value = pair.get(1).and_then(Value::as_str).unwrap_or_default();
        if http::HeaderValue::from_str(value).is_err() {
            return Ok(("n/a", format!("the http crate refuses the value of header {name:?} (control characters such as a line break)")));
        }
        builder = builder.header(name, value);
    }
    let req = match builder.body(Body::from(body)) {
        Ok(r) => r,
        Err(e) => return Ok(("n/a", format!("the http crate refuses this request: {e}"))),
    };

    let mut config = S3Config::default();
    config.presigned_url_max_skew_time_secs = u32::MAX;
    let mut builder = S3ServiceBuilder::new(NoStorage);
    builder.set_config(Arc::new(StaticConfigProvider::new(Arc::new(config))));
    builder.set_auth(Keys(keys));
    builder.set_route(Authenticated);
    builder.set_validation(AnyBucketName);
    let service = builder.build();
    CLOCK.at_server_time(server)?;
    let response = pollster::block_on(service.call(req)).map_err(|e| format!("s3s failed: {e:?}"))?;
    let status = response.status();
    let body = response.into_body().bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    if status.is_success() && body == REACHED {
        return Ok(("accept", String::new()));
    }
    if let Some(read) = body.strip_prefix(REACHED).and_then(|rest| rest.strip_prefix('\n')).filter(|_| status.is_success()) {
        return Ok(("accept", read.to_string()));  // an aws-chunked body s3s read to its end
    }
    let code = tag(&body, "Code").unwrap_or("");
    let why = tag(&body, "Message").unwrap_or("");
    let reason = format!("s3s answers {} {code}: {why}", status.as_u16());
    if code == "NotImplemented" {
        return Ok(("n/a", reason));
    }
    if presigned && why.contains("expired") && CLOCK.status().is_some() {
        return Ok(("n/a", format!("{reason} (s3s checks a presigned URL's expiry against the wall clock only, not the server's configured time)")));
    }
    Ok(("reject", reason))
}

fn answer(message: &Value) -> Option<Value> {
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    match message.get("type").and_then(Value::as_str) {
        Some("hello") => {
            let (modes, why) = CLOCK.modes(); // presigned URLs need the server's clock (adapters/oracle-clock)
            let mut hello = json!({
                "type": "hello", "protocol": 1, "language": "rust", "runtime": RUSTC_VERSION,
                "library": LIBRARY, "library_version": LIBRARY_VERSION,
                "capabilities": {"kind": "verifier", "algorithms": ["sigv4"], "modes": modes, "surfaces": ["single", "post-policy"], "verifies": ["s3-header", "s3-path", "s3-post-form-signature"], "services": ["s3", "sts"],
                                 "why": why},
            });
            chunked::declare(&mut hello["capabilities"]);
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
        let message: Value = serde_json::from_str(&line).unwrap_or_else(|e| json!({"type": "garbled", "error": e.to_string()}));
        if message.get("type").and_then(Value::as_str) == Some("bye") {
            break;
        }
        if let Some(out) = answer(&message) {
            let _ = writeln!(stdout, "{out}");
            let _ = stdout.flush();
        }
    }
}
