//! aws-chunked uploads (surface `aws-chunked`): what s3s 0.14.1 checks and how the oracle asks it.
//!
//! s3s authenticates the seed (header auth with `x-amz-content-sha256: STREAMING-...`) before
//! routing, then replaces the body with its `AwsChunkedStream` (ops/signature.rs,
//! `v4_check_header_auth`), which verifies each chunk signature chained on the previous one, the
//! final chunk's, and the trailer signature, while the body is read (http/aws_chunked_stream.rs).
//! The route therefore reads the decoded body to its end: s3s's stream error (`SignatureMismatch`,
//! `Incomplete`, `FormatError`, ...) is the rejection. What the stream hands the application
//! (decoded bytes, verified trailing headers) is the accept's reason, so a reviewer sees what s3s
//! let through. Nothing here parses the chunks or checks a signature.
//!
//! Read in s3s 0.14.1's source, and left to the application by s3s (docs/oracles.md; the reviewed
//! differences s3s-chunked-* in harness/oracle_differences.yaml):
//! - a body that ends at a chunk boundary (no final 0-size chunk, or no trailer section) ends the
//!   stream without an error (`read_meta_bytes` returns None at the end of the body: `break`);
//! - `x-amz-decoded-content-length` is not compared with the bytes decoded (`AwsChunkedStream`
//!   only counts it down, `saturating_sub`);
//! - checksum trailers (`x-amz-checksum-*`) are not compared with the payload (they are handed to
//!   the application as `S3Request::trailing_headers`);
//! - no chunk-size floor (S3's 8 KiB for every signed chunk but the last).
//! SigV4A streaming (`STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER]`) is not implemented: its
//! header auth answers NotImplemented ("AWS4-ECDSA-P256-SHA256 signing method is not implemented
//! yet"), and before that its Authorization parser refuses a SigV4A header (a credential scope
//! without a region).

use s3s::{Body, S3Request, S3Result};
use serde_json::{json, Value};

/// The streaming `x-amz-content-sha256` values s3s 0.14.1 turns into an `AwsChunkedStream`
/// (sig_v4/amz_content_sha256.rs `is_streaming`, minus the ECDSA ones it does not implement).
pub const PAYLOADS: [&str; 3] =
    ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"];

/// Add the aws-chunked surface and what s3s cannot judge to the hello's capabilities.
pub fn declare(capabilities: &mut Value) {
    let Some(capabilities) = capabilities.as_object_mut() else { return };
    // (a list left out means its default: surfaces ["single"], verifies none)
    let mut push = |key: &str, default: Value, values: &[&str]| {
        if let Some(list) = capabilities.entry(key).or_insert(default).as_array_mut() {
            list.extend(values.iter().map(|v| json!(v)));
        }
    };
    push("surfaces", json!(["single"]), &["aws-chunked"]);
    push("verifies", json!([]), &["aws-chunked-chain", "aws-chunked-trailer-signature"]);
    if let Some(why) = capabilities.entry("why").or_insert_with(|| json!({})).as_object_mut() {
        why.insert("sigv4a".into(), json!(
            "s3s 0.14.1 has no SigV4A: its Authorization parser (sig_v4/authorization_v4.rs) refuses a SigV4A header (a credential \
scope without a region), and its header auth answers NotImplemented for STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER] \
(ops/signature.rs)"));
        why.insert("event-stream".into(), json!(
            "s3s 0.14.1 verifies no event-stream message signatures (its event_stream module only encodes \
SelectObjectContent responses)"));
    }
}

/// Whether s3s reads this request's body as aws-chunked (its `x-amz-content-sha256`).
pub fn is_aws_chunked(headers: &http::HeaderMap) -> bool {
    headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| PAYLOADS.contains(&v))
}

/// Read the aws-chunked body to its end (s3s verifies the chain meanwhile): what s3s handed over,
/// or its stream error as an S3 error.
pub async fn read_to_end(req: &mut S3Request<Body>) -> S3Result<String> {
    let decoded = match req.input.store_all_limited(usize::MAX).await {
        Ok(bytes) => bytes.len(),
        Err(e) => return Err(stream_error(&e.to_string())),
    };
    let trailers = req
        .trailing_headers
        .as_ref()
        .and_then(|t| t.read(|map| map.keys().map(|k| k.as_str().to_owned()).collect::<Vec<_>>()))
        .unwrap_or_default();
    let trailers = if trailers.is_empty() { "none".to_owned() } else { trailers.join(", ") };
    Ok(format!("s3s read the body to its end: {decoded} decoded bytes, verified trailers: {trailers}"))
}

/// s3s's `AwsChunkedStreamError` (not exported by 0.14.1: its text) as the S3 error S3 answers for it.
fn stream_error(text: &str) -> s3s::S3Error {
    if text.contains("SignatureMismatch") {
        s3s::s3_error!(SignatureDoesNotMatch, "reading the aws-chunked body: {}", text)
    } else if text.contains("Incomplete") {
        s3s::s3_error!(IncompleteBody, "reading the aws-chunked body: {}", text)
    } else {
        s3s::s3_error!(InvalidRequest, "reading the aws-chunked body: {}", text)
    }
}
