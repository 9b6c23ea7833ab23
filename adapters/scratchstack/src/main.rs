//! sigharness verifier (oracle) over the `scratchstack-aws-signature` crate.
//!
//! Speaks the JSON-lines protocol of docs/adapter-protocol.md as a `verifier`: each `verify`
//! message carries a received request and the server's configuration (credentials, region,
//! service, clock, S3 or not). The request is built as an `http::Request` -- as a web framework
//! hands it to the crate -- and judged by `sigv4_validate_request`, with the signing key given by
//! the crate's own `KSecretKey::to_ksigning` from the server's credentials. The opinion is the
//! crate's: `accept` when it validates, `reject` with its error otherwise. Nothing here computes
//! any part of a signature.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use scratchstack_aws_signature::{
    sigv4_validate_request, GetSigningKeyRequest, GetSigningKeyResponse,
    KSecretKey, SignatureOptions, NO_ADDITIONAL_SIGNED_HEADERS,
};
use serde_json::{json, Value};
use sigharness_oracle_common::protocol::{Opinion, Oracle};
use sigharness_oracle_common::message::{self, text, Credential, PathRules};
use tower::BoxError;

const LIBRARY: &str = "scratchstack-aws-signature";
const ORACLE: Oracle = sigharness_oracle_common::oracle!(LIBRARY);
/// Why presigned URLs are left out: the crate rejects every one before it checks a signature.
const QUERY_LEFT_OUT: &str = "scratchstack-aws-signature 0.11.4 reads X-Amz-Credential still percent-encoded \
    (query_string_to_normalized_map keeps %2F), so it rejects every presigned URL before checking its signature \
    (known difference scratchstack-encoded-credential); it is not asked about them";

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

fn judge(request: &Value, server: &Value) -> Result<Opinion, String> {
    let request = match message::received(request)? {
        Ok(r) => r,
        Err(reason) => return Ok(("n/a", reason)),
    };
    if message::is_sigv4a(request.headers(), request.uri()) {
        return Ok(("n/a", format!("{LIBRARY} verifies SigV4 (AWS4-HMAC-SHA256) only, not SigV4A")));
    }
    let region = text(server, "region")?.to_string();
    let service = text(server, "service")?.to_string();
    let now: DateTime<Utc> = DateTime::from_str(text(server, "now")?).map_err(|e| format!("server.now: {e}"))?;
    let PathRules { s3, normalize, double_encode } = PathRules::of(server, false);
    if normalize == s3 || double_encode == s3 {
        return Ok(("n/a", format!("{LIBRARY} canonicalizes either as S3 (no path normalization, no double encoding) or as \
            other services (both); SignatureOptions has no option for normalize_path={normalize}, double_encode={double_encode}")));
    }
    let known = message::credentials(server)?;

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

fn capabilities() -> Value {
    json!({"kind": "verifier", "algorithms": ["sigv4"], "modes": ["header"], "verifies": ["sigv4-header", "s3-path"],
        "why": {"query": QUERY_LEFT_OUT}})
}

fn main() {
    ORACLE.serve(capabilities, judge);
}
