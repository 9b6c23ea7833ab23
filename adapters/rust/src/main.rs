//! sigharness adapter for the Rust `aws-sigv4` crate (feature `sigv4a`).
//!
//! Speaks the JSON-lines protocol of docs/adapter-protocol.md on stdin/stdout. Each `sign` check
//! is mapped onto the crate's own `SigningSettings`, signed with `aws_sigv4::http_request::sign`,
//! and the returned `SigningInstructions` are applied to an `http::Request` with
//! `apply_to_request_http1x`, as a user of the crate does. The adapter never computes any part of
//! a signature: the canonical request and string to sign it reports are the ones the crate logs
//! through its TRACE `tracing` events, captured by the subscriber in `capture`.

mod capture;
mod send;
mod streaming;
#[cfg(feature = "tokens")]
mod tokens;
#[cfg(not(feature = "tokens"))]
mod tokens {
    //! A build without the `tokens` feature (only the tests' build with a patched aws-sigv4, build.sh):
    //! `rust-sdk-tokens` answers its hello with an error saying so, and the harness shows it unavailable.
    use serde_json::{json, Value};
    pub const NAME: &str = "rust-sdk-tokens";
    const WHY: &str = "this build of the adapter has no token generators (built without the `tokens` feature)";
    pub fn hello() -> Value {
        json!({"type": "result", "status": "error", "reason": WHY})
    }
    pub fn handle_sign(_: &Value) -> crate::Res<Value> {
        Err(crate::Outcome::Error(WHY.into()))
    }
}

use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody,
    SignableRequest, SignatureLocation, SigningParams, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::{v4, v4a};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::date_time::{DateTime, Format};
use base64::Engine as _;
use serde_json::{json, Map, Value};

const LIBRARY: &str = "aws-sigv4";
const LIBRARY_VERSION: &str = env!("SIGHARNESS_AWS_SIGV4_VERSION");
const LIBRARY_SOURCE: &str = env!("SIGHARNESS_AWS_SIGV4_SOURCE");
const RUSTC_VERSION: &str = env!("SIGHARNESS_RUSTC_VERSION");

/// How a check ends when it is not signed.
enum Outcome {
    Unsupported(String),
    Rejected(String),
    Error(String),
}

type Res<T> = Result<T, Outcome>;

fn adapter_err<T>(msg: impl Into<String>) -> Res<T> {
    Err(Outcome::Error(msg.into()))
}

// ---------------------------------------------------------------------------------------------
// Reading the check
// ---------------------------------------------------------------------------------------------

fn get_str<'a>(obj: &'a Value, key: &str) -> Res<&'a str> {
    match obj.get(key).and_then(Value::as_str) {
        Some(s) => Ok(s),
        None => adapter_err(format!("check field `{key}` missing or not a string")),
    }
}

fn get_bool(obj: &Value, key: &str) -> Res<bool> {
    match obj.get(key).and_then(Value::as_bool) {
        Some(b) => Ok(b),
        None => adapter_err(format!("check field `{key}` missing or not a boolean")),
    }
}

/// Everything of a check the crate needs, owned, so that the borrowing API of aws-sigv4
/// (`SignableRequest<'a>`, `SigningParams<'a>`) can borrow from it.
struct Check {
    algorithm: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    identity: Identity,
    region: String,
    region_set: String,
    service: String,
    time: SystemTime,
    payload: String,
    settings: SigningSettings,
}

fn parse_check(check: &Value) -> Res<Check> {
    let algorithm = get_str(check, "algorithm")?.to_string();
    let mode = get_str(check, "mode")?.to_string();
    let request = check.get("request").ok_or(Outcome::Error("check has no `request`".into()))?;
    let context = check.get("context").ok_or(Outcome::Error("check has no `context`".into()))?;

    if algorithm != "sigv4" && algorithm != "sigv4a" {
        return Err(Outcome::Unsupported(format!(
            "aws-sigv4 signs only sigv4 and sigv4a, not `{algorithm}`"
        )));
    }
    let signature_location = match mode.as_str() {
        "header" => SignatureLocation::Headers,
        "query" => SignatureLocation::QueryParams,
        other => return Err(Outcome::Unsupported(format!("unknown mode `{other}`"))),
    };

    let method = get_str(request, "method")?.to_string();
    let url = get_str(request, "url")?.to_string();
    let mut headers = Vec::new();
    for h in request
        .get("headers")
        .and_then(Value::as_array)
        .ok_or(Outcome::Error("request.headers missing".into()))?
    {
        match h.as_array().map(|a| a.as_slice()) {
            Some([Value::String(n), Value::String(v)]) => headers.push((n.clone(), v.clone())),
            _ => return adapter_err("request.headers entry is not a [name, value] pair"),
        }
    }
    let body_b64 = request.get("body_b64").and_then(Value::as_str).unwrap_or("");
    let body = match base64::engine::general_purpose::STANDARD.decode(body_b64) {
        Ok(b) => b,
        Err(e) => return adapter_err(format!("request.body_b64: {e}")),
    };

    let access_key_id = get_str(context, "access_key_id")?;
    let secret_access_key = get_str(context, "secret_access_key")?;
    let session_token = context
        .get("session_token")
        .and_then(Value::as_str)
        .map(str::to_string);
    let credentials = Credentials::new(
        access_key_id,
        secret_access_key,
        session_token,
        None,
        "sigharness-check",
    );
    let identity: Identity = credentials.into();

    let region = get_str(context, "region")?.to_string();
    let region_set = match context.get("region_set").and_then(Value::as_array) {
        Some(list) => {
            let mut parts = Vec::new();
            for r in list {
                match r.as_str() {
                    Some(s) => parts.push(s),
                    None => return adapter_err("context.region_set holds a non-string"),
                }
            }
            // aws-sigv4 takes the region set as the one comma-separated string it signs.
            parts.join(",")
        }
        None => region.clone(),
    };
    let service = get_str(context, "service")?.to_string();

    // The library's own date-time type parses the timestamp; `.time(SystemTime)` pins it.
    let timestamp = get_str(context, "timestamp")?;
    let time = match DateTime::from_str(timestamp, Format::DateTime)
        .map_err(|e| e.to_string())
        .and_then(|dt| SystemTime::try_from(dt).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => return adapter_err(format!("context.timestamp `{timestamp}`: {e}")),
    };
    let expires = context.get("expires").and_then(Value::as_u64);

    let payload = get_str(context, "payload")?.to_string();
    if !matches!(payload.as_str(), "body" | "empty" | "unsigned") && !payload.starts_with("STREAMING-") {
        return Err(Outcome::Unsupported(format!("unknown payload kind `{payload}`")));
    }

    let mut settings = SigningSettings::default();
    settings.signature_location = signature_location;
    settings.percent_encoding_mode = if get_bool(context, "double_encode")? {
        PercentEncodingMode::Double
    } else {
        PercentEncodingMode::Single
    };
    settings.uri_path_normalization_mode = if get_bool(context, "normalize_path")? {
        UriPathNormalizationMode::Enabled
    } else {
        UriPathNormalizationMode::Disabled
    };
    settings.payload_checksum_kind = if get_bool(context, "content_sha256_header")? {
        PayloadChecksumKind::XAmzSha256
    } else {
        PayloadChecksumKind::NoHeader
    };
    settings.session_token_mode = match get_str(context, "session_token_placement")? {
        "signed" => SessionTokenMode::Include,
        "after" => SessionTokenMode::Exclude,
        other => {
            return Err(Outcome::Unsupported(format!(
                "unknown session_token_placement `{other}`"
            )))
        }
    };
    if signature_location == SignatureLocation::QueryParams {
        match expires {
            Some(secs) => settings.expires_in = Some(Duration::from_secs(secs)),
            None if context.get("expires").and_then(Value::as_i64).is_some() => {
                return Err(Outcome::Unsupported(
                    "aws-sigv4 takes expires_in as a std::time::Duration, which cannot hold a negative number of seconds".to_string(),
                ))
            }
            None => return adapter_err("query mode check without context.expires"),
        }
    }

    Ok(Check {
        algorithm,
        method,
        url,
        headers,
        body,
        identity,
        region,
        region_set,
        service,
        time,
        payload,
        settings,
    })
}

// ---------------------------------------------------------------------------------------------
// Calling the library
// ---------------------------------------------------------------------------------------------

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".into()
    }
}

/// Runs library code; a panic inside the library is the library refusing the input.
fn guarded<T>(what: &str, f: impl FnOnce() -> Res<T>) -> Res<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Outcome::Rejected(format!(
            "{what} panicked: {}",
            panic_message(payload.as_ref())
        ))),
    }
}

fn signable_body<'a>(c: &'a Check) -> SignableBody<'a> {
    match c.payload.as_str() {
        "body" => SignableBody::Bytes(&c.body),
        // The crate's own helper for an empty body: it hashes zero bytes itself.
        "empty" => SignableBody::empty(),
        // A streaming seed (streaming.rs), as the SDK's aws-chunked and event-stream clients sign it.
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => SignableBody::StreamingUnsignedPayloadTrailer,
        p if p.starts_with("STREAMING-") => SignableBody::Precomputed(p.to_string()),
        _ => SignableBody::UnsignedPayload,
    }
}

fn build_params<'a>(c: &'a Check) -> Res<SigningParams<'a>> {
    let built: Result<SigningParams<'a>, String> = if c.algorithm == "sigv4" {
        v4::SigningParams::builder()
            .identity(&c.identity)
            .region(&c.region)
            .name(&c.service)
            .time(c.time)
            .settings(c.settings.clone())
            .build()
            .map(Into::into)
            .map_err(|e| e.to_string())
    } else {
        v4a::SigningParams::builder()
            .identity(&c.identity)
            .region_set(&c.region_set)
            .name(&c.service)
            .time(c.time)
            .settings(c.settings.clone())
            .build()
            .map(Into::into)
            .map_err(|e| e.to_string())
    };
    built.map_err(|e| Outcome::Rejected(format!("SigningParams: {e}")))
}

/// One library signing call: SignableRequest::new from the raw check, then `sign`.
fn sign_once(
    c: &Check,
    params: &SigningParams<'_>,
) -> Res<aws_sigv4::http_request::SigningInstructions> {
    let request = SignableRequest::new(
        &c.method,
        c.url.as_str(),
        c.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        signable_body(c),
    )
    .map_err(|e| Outcome::Rejected(format!("SignableRequest::new: {}", error_chain(&e))))?;
    let output =
        sign(request, params).map_err(|e| Outcome::Rejected(format!("sign: {}", error_chain(&e))))?;
    let (instructions, _signature) = output.into_parts();
    Ok(instructions)
}

/// The user's request, as an `http` 1.x request (the type the crate applies signatures to).
fn http_request(c: &Check) -> Result<http::Request<()>, String> {
    let mut builder = http::Request::builder()
        .method(c.method.as_str())
        .uri(c.url.as_str());
    for (n, v) in &c.headers {
        builder = builder.header(n.as_str(), v.as_str());
    }
    builder.body(()).map_err(|e| error_chain(&e))
}

fn handle_sign(check: &Value) -> Res<Value> {
    let c = parse_check(check)?;
    let params = guarded("SigningParams", || build_params(&c))?;

    capture::begin();
    let started = Instant::now();
    let signed = guarded("aws-sigv4", || sign_once(&c, &params));
    let elapsed_ns = started.elapsed().as_nanos() as u64;
    let traced = capture::end();
    let instructions = signed?;

    let mut request = http_request(&c).map_err(|e| {
        Outcome::Rejected(format!(
            "the crate signed, but the request cannot be built as an http::Request to apply \
             the signature to: {e}"
        ))
    })?;
    guarded("SigningInstructions::apply_to_request_http1x", || {
        instructions.apply_to_request_http1x(&mut request);
        Ok(())
    })?;

    let headers: Vec<Value> = request
        .headers()
        .iter()
        .map(|(n, v)| json!([n.as_str(), String::from_utf8_lossy(v.as_bytes())]))
        .collect();

    // The canonical request is logged with sensitive header values (the session token)
    // replaced; such a text is not the canonical request that was signed, so it is not reported.
    let canonical_request = traced
        .canonical_request
        .filter(|cr| !cr.contains("** redacted (length="));

    Ok(json!({
        "status": "signed",
        "signed": {
            "method": request.method().as_str(),
            "url": request.uri().to_string(),
            "headers": headers,
            "body_b64": Value::Null,
        },
        "canonical_request": canonical_request,
        "string_to_sign": traced.string_to_sign,
        "elapsed_ns": elapsed_ns,
    }))
}

/// `send`: sign as for `sign`, then send the signed request with the client named (send.rs).
fn handle_send(msg: &Value) -> Res<Value> {
    let client = msg.get("client").and_then(Value::as_str).unwrap_or("");
    if !send::CLIENTS.contains(&client) {
        return adapter_err(format!(
            "unknown client {client:?} (this adapter sends with: {})",
            send::CLIENTS.join(", ")
        ));
    }
    let Some(check) = msg.get("check") else {
        return adapter_err("send message without `check`");
    };
    if let Some(surface) = check.get("surface").and_then(Value::as_str) {
        if surface != "single" {
            return Err(Outcome::Unsupported(format!(
                "{client} sends single signed requests; this check is {surface}"
            )));
        }
    }
    let mut answer = handle_sign(check)?;
    let scheme = msg.get("scheme").and_then(Value::as_str).unwrap_or("http");
    let sent = send::send(&answer["signed"], check, client, scheme);
    answer["sent"] = sent;
    Ok(answer)
}

// ---------------------------------------------------------------------------------------------
// Bench
// ---------------------------------------------------------------------------------------------

fn bench_check(check: &Value, iterations: u64) -> Res<u64> {
    let c = parse_check(check)?;
    let params = guarded("SigningParams", || build_params(&c))?;
    // Make sure the check signs at all before timing it.
    guarded("aws-sigv4", || sign_once(&c, &params))?;
    let started = Instant::now();
    for _ in 0..iterations {
        let out = guarded("aws-sigv4", || sign_once(&c, &params))?;
        std::hint::black_box(out);
    }
    Ok(started.elapsed().as_nanos() as u64)
}

/// The bare SigV4 HMAC-SHA256 chain with the `hmac` + `sha2` crates (the ones aws-sigv4 uses):
/// four HMACs for the signing key, one for the signature, over fixed inputs.
fn bench_floor(iterations: u64) -> u64 {
    use hmac::{Hmac, KeyInit, Mac};
    type HmacSha256 = Hmac<sha2::Sha256>;
    fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key size");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
    let secret = b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    let string_to_sign = b"AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63";
    let started = Instant::now();
    for _ in 0..iterations {
        let k_date = hmac(std::hint::black_box(secret), b"20150830");
        let k_region = hmac(&k_date, b"us-east-1");
        let k_service = hmac(&k_region, b"service");
        let k_signing = hmac(&k_service, b"aws4_request");
        std::hint::black_box(hmac(&k_signing, string_to_sign));
    }
    started.elapsed().as_nanos() as u64
}

fn handle_bench(msg: &Value) -> Res<Value> {
    let iterations = msg.get("iterations").and_then(Value::as_u64).unwrap_or(1).max(1);
    let elapsed_ns = if let Some(check) = msg.get("check") {
        capture::set_enabled(false);
        let r = bench_check(check, iterations);
        capture::set_enabled(true);
        r?
    } else {
        match msg.get("floor").and_then(Value::as_str) {
            Some("hmac-sha256-chain") => bench_floor(iterations),
            Some(other) => return Err(Outcome::Unsupported(format!("unknown bench floor `{other}`"))),
            None => return adapter_err("bench message has neither `check` nor `floor`"),
        }
    };
    Ok(json!({"type": "bench", "iterations": iterations, "elapsed_ns": elapsed_ns}))
}

// ---------------------------------------------------------------------------------------------
// Protocol loop
// ---------------------------------------------------------------------------------------------

fn hello() -> Value {
    let library_version = if LIBRARY_SOURCE == "crates.io" {
        LIBRARY_VERSION.to_string()
    } else {
        format!("{LIBRARY_VERSION}+{LIBRARY_SOURCE}")
    };
    json!({
        "type": "hello",
        "protocol": 1,
        "name": "rust-aws-sigv4",
        "language": "rust",
        "runtime": RUSTC_VERSION,
        "library": LIBRARY,
        "library_version": library_version,
        "capabilities": {
            "algorithms": ["sigv4", "sigv4a"],
            "modes": ["header", "query"],
            "exposes": ["canonical_request", "string_to_sign"],
            "bench": true,
            "surfaces": ["single", "aws-chunked", "event-stream"],
            "clients": send::CLIENTS,
        },
    })
}

fn answer(id: &Value, kind: &str, outcome: Res<Value>) -> Value {
    let mut obj = match outcome {
        Ok(Value::Object(m)) => m,
        Ok(other) => {
            let mut m = Map::new();
            m.insert("status".into(), "error".into());
            m.insert("reason".into(), format!("adapter bug: non-object {other}").into());
            m
        }
        Err(o) => {
            let (status, reason) = match o {
                Outcome::Unsupported(r) => ("unsupported", r),
                Outcome::Rejected(r) => ("rejected", r),
                Outcome::Error(r) => ("error", r),
            };
            let mut m = Map::new();
            m.insert("status".into(), status.into());
            m.insert("reason".into(), reason.into());
            m
        }
    };
    if !obj.contains_key("type") {
        obj.insert("type".into(), kind.into());
    }
    obj.insert("id".into(), id.clone());
    Value::Object(obj)
}

fn main() {
    // Panics are caught and reported; keep their text on stderr (the harness logs it).
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        eprintln!("[rust-aws-sigv4] caught panic:");
        default_hook(info);
    }));
    capture::install();
    // `rust-sdk-tokens` (the SDK's IAM token generators, tokens.rs) when named on the command line.
    let token_generators = std::env::args().nth(1).as_deref() == Some(tokens::NAME);

    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("[rust-aws-sigv4] stdin: {e}");
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let msg: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("[rust-aws-sigv4] not JSON: {e}");
                let reply = json!({"type": "result", "id": Value::Null, "status": "error",
                                   "reason": format!("adapter got a line that is not JSON: {e}")});
                let _ = writeln!(out, "{reply}");
                let _ = out.flush();
                continue;
            }
        };
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let reply = match msg.get("type").and_then(Value::as_str) {
            Some("hello") if token_generators => tokens::hello(),
            Some("hello") => hello(),
            Some("bye") => break,
            Some("sign") => match msg.get("check") {
                Some(check) if token_generators => answer(&id, "result", tokens::handle_sign(check)),
                Some(check) if check.get("surface").is_some() => answer(&id, "result", streaming::handle_stream(check)),
                Some(check) => answer(&id, "result", handle_sign(check)),
                None => answer(&id, "result", adapter_err("sign message without `check`")),
            },
            Some("send") => answer(&id, "result", handle_send(&msg)),
            Some("bench") if token_generators => answer(&id, "result", Err(Outcome::Unsupported(
                "rust-sdk-tokens does not bench (capabilities.bench: false)".into()))),
            Some("bench") => {
                let r = handle_bench(&msg);
                let kind = if r.is_ok() { "bench" } else { "result" };
                answer(&id, kind, r)
            }
            other => answer(
                &id,
                "result",
                adapter_err(format!("unknown message type {other:?}")),
            ),
        };
        if writeln!(out, "{reply}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
}
