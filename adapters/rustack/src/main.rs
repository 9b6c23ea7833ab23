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
//! `http` crate refuses. Presigned URLs are judged at the server's clock (adapters/oracle-common, `clock`).

use rustack_auth::{hash_payload, sigv4, verify_presigned, verify_sigv4, AuthError, StaticCredentialProvider};
use serde_json::{json, Value};
use sigharness_oracle_common::clock::Clock;
use sigharness_oracle_common::message::{self, text, PathRules};
use sigharness_oracle_common::protocol::{Opinion, Oracle};

/// The server's clock for presigned URLs (adapters/oracle-common, `clock`): rustack-auth 0.12.0 compares a
/// presigned URL's expiry with the wall clock only.
static CLOCK: Clock = Clock::new("SIGHARNESS_RUSTACK_CLOCK", "rustack-auth 0.12.0");

const LIBRARY: &str = "rustack-auth";
const ORACLE: Oracle = sigharness_oracle_common::oracle!(LIBRARY);
/// Why a presigned URL of another service than S3 is not judged (src/presigned.rs: `UNSIGNED_PAYLOAD`).
const PRESIGNED_NOT_S3: &str = "rustack-auth 0.12.0 has one presigned-URL entry point, verify_presigned (S3's), which ends \
every presigned canonical request in UNSIGNED-PAYLOAD; a server of another service hashes the body it receives, so the \
crate cannot judge this presigned URL";
const SIGV4A: &str = "rustack-auth 0.12.0 verifies AWS4-HMAC-SHA256 only (sigv4.rs SUPPORTED_ALGORITHM), not SigV4A";

/// The server's credentials as the crate's in-memory provider holds them (access key id -> secret key).
fn provider(server: &Value) -> Result<StaticCredentialProvider, String> {
    let pairs = message::credentials(server)?.into_iter().map(|c| (c.access_key_id, c.secret_access_key)).collect::<Vec<_>>();
    Ok(StaticCredentialProvider::new(pairs))
}

/// The crate's error as a reason: its variant (e.g. `SignatureDoesNotMatch`) and its message.
fn reason(error: &AuthError) -> String {
    let debug = format!("{error:?}");
    let variant = debug.split(|c: char| c == '(' || c == ' ' || c == '{').next().unwrap_or_default();
    format!("rustack-auth {variant}: {error}")
}

fn judge(request: &Value, server: &Value) -> Result<Opinion, String> {
    // The received request as `http::request::Parts` and its body.
    let (parts, body) = match message::received(request)? {
        Ok(r) => r.into_parts(),
        Err(reason) => return Ok(("n/a", reason)),
    };
    let query = parts.uri.query().unwrap_or("");
    if message::is_sigv4a(&parts.headers, &parts.uri) {
        return Ok(("n/a", SIGV4A.to_string()));
    }
    // The crate's S3 entry points are for an S3 server (its presigned rule, UNSIGNED-PAYLOAD, is S3's): chosen by the
    // service the server is, not by how it canonicalizes the path (`server.s3` is also set for other services that
    // sign without double encoding).
    let s3 = text(server, "service")? == "s3";
    let PathRules { normalize, double_encode, .. } = PathRules::of(server, s3);
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

fn capabilities() -> Value {
    let (modes, mut why) = CLOCK.modes(); // presigned URLs need the server's clock (adapters/oracle-common, `clock`)
    why["sigv4a"] = json!(SIGV4A);
    why["query_services"] = json!(PRESIGNED_NOT_S3); // the engine answers those n/a without asking
    json!({"kind": "verifier", "algorithms": ["sigv4"], "modes": modes, "query_services": ["s3"],
        "verifies": ["sigv4-header", "s3-header", "s3-presigned", "s3-path"], "why": why})
}

fn main() {
    CLOCK.run_under_faketime();
    ORACLE.serve(capabilities, judge);
}
