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
//! libfaketime (adapters/oracle-common, `clock`); presigned URLs are judged only when that clock follows.

mod chunked;

use std::sync::Arc;

use s3s::auth::{S3Auth, SecretKey};
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::route::S3Route;
use s3s::service::S3ServiceBuilder;
use s3s::validation::NameValidation;
use s3s::{Body, S3Request, S3Response, S3Result, S3};
use serde_json::{json, Value};
use sigharness_oracle_common::clock::Clock;
use sigharness_oracle_common::message::{self, text};
use sigharness_oracle_common::protocol::{Opinion, Oracle};

/// The server's clock for presigned URLs (adapters/oracle-common, `clock`): s3s 0.14.1 checks a presigned URL's
/// expiry before its signature, against the wall clock only: `v4_check_presigned_url`
/// (src/ops/signature.rs) takes `time::OffsetDateTime::now_utc()` and answers `AccessDenied: Request has
/// expired` when `now - X-Amz-Date > X-Amz-Expires`; it has no clock option (`S3Config` has
/// `presigned_url_max_skew_time_secs`, which bounds dates in the future only).
static CLOCK: Clock = Clock::new("SIGHARNESS_S3S_CLOCK", "s3s 0.14.1");

const ORACLE: Oracle = sigharness_oracle_common::oracle!("s3s");
const REACHED: &str = "sigharness: authenticated";

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

fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

fn judge(request: &Value, server: &Value) -> Result<Opinion, String> {
    let service = text(server, "service")?;
    if service != "s3" && service != "sts" {
        return Ok(("n/a", format!("s3s is an S3 server: it verifies credential scopes for s3 (and sts), not {service:?}")));
    }
    let keys = message::credentials(server)?.into_iter().map(|c| (c.access_key_id, c.secret_access_key)).collect();

    let target = message::target(text(request, "url")?);
    let body = message::body(request)?;
    let presigned = target.contains("X-Amz-Signature=");
    if presigned && service == "sts" {
        return Ok(("n/a", PRESIGNED_STS.to_string()));
    }
    let req = match message::http_request(request, text(request, "method")?, &target, Body::from(body))? {
        Ok(r) => r,
        Err(reason) => return Ok(("n/a", reason)),
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

fn capabilities() -> Value {
    let (modes, why) = CLOCK.modes(); // presigned URLs need the server's clock (adapters/oracle-common, `clock`)
    let mut capabilities = json!({"kind": "verifier", "algorithms": ["sigv4"], "modes": modes, "surfaces": ["single", "post-policy"],
        "verifies": ["s3-header", "s3-path", "s3-post-form-signature"], "services": ["s3", "sts"], "why": why});
    chunked::declare(&mut capabilities);
    capabilities
}

fn main() {
    CLOCK.run_under_faketime();
    ORACLE.serve(capabilities, judge);
}
