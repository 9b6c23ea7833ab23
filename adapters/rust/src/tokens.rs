//! rust-sdk-tokens: the IAM token generators of the AWS SDK for Rust, called as their
//! documentation shows (`AuthTokenGenerator::new(Config::builder()...build()?)`, then
//! `.auth_token(&sdk_config)` for RDS, `.db_connect_auth_token(&sdk_config)` /
//! `.db_connect_admin_auth_token(&sdk_config)` for Aurora DSQL).
//!
//! Both read the signing time from the `SdkConfig`'s time source (`SdkConfig::builder()
//! .time_source(..)`, the SDK's own option, which its tests set to a fixed `ManualTimeSource`):
//! the adapter gives it a `StaticTimeSource` at the check's time. The token is the library's
//! `AuthToken`, unchanged; canonical request and string to sign are what aws-sigv4 logs while it
//! signs (capture.rs).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_smithy_async::time::StaticTimeSource;
use aws_smithy_types::date_time::{DateTime, Format};
use aws_types::region::Region;
use aws_types::sdk_config::SdkConfig;
use serde_json::{json, Value};

use crate::{capture, get_str, guarded, Outcome, Res};

pub const NAME: &str = "rust-sdk-tokens";
const RDS_VERSION: &str = env!("SIGHARNESS_AWS_SDK_RDS_VERSION");
const DSQL_VERSION: &str = env!("SIGHARNESS_AWS_SDK_DSQL_VERSION");

pub fn hello() -> Value {
    json!({
        "type": "hello",
        "protocol": 1,
        "name": NAME,
        "language": "rust",
        "runtime": crate::RUSTC_VERSION,
        "library": "aws-sdk-rds, aws-sdk-dsql",
        "library_version": format!("aws-sdk-rds {RDS_VERSION}, aws-sdk-dsql {DSQL_VERSION}"),
        "capabilities": {
            "algorithms": ["sigv4"],
            "modes": ["header", "query"],
            "surfaces": ["rds", "dsql"],
            "exposes": ["canonical_request", "string_to_sign"],
            "bench": false,
            "why": {
                "single": "this adapter calls the SDK's token generators; single-shot signing is rust-aws-sigv4",
                "eks": "the AWS SDK for Rust has no EKS token generator (aws-sdk-eks and aws-sdk-sts have no presigner for GetCallerIdentity with x-k8s-aws-id)",
            },
        },
    })
}

/// Polls a future that completes without I/O (the static credentials resolve at once).
fn block_on<F: Future>(future: F) -> Res<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Ok(out);
        }
    }
    Err(Outcome::Error("the token generator's future did not complete without I/O".into()))
}

fn credentials(ctx: &Value) -> Res<Credentials> {
    Ok(Credentials::new(
        get_str(ctx, "access_key_id")?,
        get_str(ctx, "secret_access_key")?,
        ctx.get("session_token").and_then(Value::as_str).map(str::to_string),
        None,
        "sigharness",
    ))
}

fn sdk_config(ctx: &Value) -> Res<SdkConfig> {
    let stamp = get_str(ctx, "timestamp")?;
    let time = DateTime::from_str(stamp, Format::DateTime)
        .map_err(|e| Outcome::Error(format!("check timestamp {stamp:?}: {e}")))?;
    let at: SystemTime = SystemTime::try_from(time)
        .map_err(|e| Outcome::Error(format!("check timestamp {stamp:?}: {e}")))?;
    Ok(SdkConfig::builder()
        .time_source(StaticTimeSource::new(at))
        .region(Region::new(get_str(ctx, "region")?.to_string()))
        .build())
}

fn expires(token: &Value) -> Option<u64> {
    token.get("expires").and_then(Value::as_u64)
}

fn rds_token(token: &Value, ctx: &Value, cfg: &SdkConfig) -> Res<String> {
    use aws_sdk_rds::auth_token::{AuthTokenGenerator, Config};
    let port = token.get("port").and_then(Value::as_u64).ok_or_else(|| Outcome::Error("rds check without token.port".into()))?;
    let mut builder = Config::builder()
        .hostname(get_str(token, "host")?)
        .port(port)
        .username(get_str(token, "user")?)
        .credentials(credentials(ctx)?);
    if let Some(e) = expires(token) {
        builder = builder.expires_in(e);
    }
    let config = guarded("aws_sdk_rds::auth_token::Config", || builder.build().map_err(|e| Outcome::Rejected(e.to_string())))?;
    let generator = AuthTokenGenerator::new(config);
    guarded("AuthTokenGenerator::auth_token", || match block_on(generator.auth_token(cfg))? {
        Ok(t) => Ok(t.as_str().to_string()),
        Err(e) => Err(Outcome::Rejected(e.to_string())),
    })
}

fn dsql_token(token: &Value, ctx: &Value, cfg: &SdkConfig) -> Res<String> {
    use aws_sdk_dsql::auth_token::{AuthTokenGenerator, Config};
    let mut builder = Config::builder().hostname(get_str(token, "host")?).credentials(credentials(ctx)?);
    if let Some(e) = expires(token) {
        builder = builder.expires_in(e);
    }
    let config = guarded("aws_sdk_dsql::auth_token::Config", || builder.build().map_err(|e| Outcome::Rejected(e.to_string())))?;
    let generator = AuthTokenGenerator::new(config);
    let admin = token.get("action").and_then(Value::as_str) == Some("DbConnectAdmin");
    guarded("AuthTokenGenerator::db_connect(_admin)_auth_token", || {
        let made = if admin {
            block_on(generator.db_connect_admin_auth_token(cfg))?
        } else {
            block_on(generator.db_connect_auth_token(cfg))?
        };
        made.map(|t| t.as_str().to_string()).map_err(|e| Outcome::Rejected(e.to_string()))
    })
}

pub fn handle_sign(check: &Value) -> Res<Value> {
    let surface = check.get("surface").and_then(Value::as_str).unwrap_or("single");
    if surface != "rds" && surface != "dsql" {
        return Err(Outcome::Unsupported(format!("no AWS SDK for Rust token generator for surface {surface:?}")));
    }
    let ctx = check.get("context").ok_or_else(|| Outcome::Error("check without context".into()))?;
    let token = check.get("token").ok_or_else(|| Outcome::Error("check without token".into()))?;
    let cfg = sdk_config(ctx)?;
    capture::begin();
    let started = Instant::now();
    let made = match surface {
        "rds" => rds_token(token, ctx, &cfg),
        _ => dsql_token(token, ctx, &cfg),
    };
    let elapsed_ns = started.elapsed().as_nanos() as u64;
    let traced = capture::end();
    let text = made?;
    let canonical_request = traced.canonical_request.filter(|cr| !cr.contains("** redacted (length="));
    Ok(json!({
        "status": "signed",
        "token": text,
        "canonical_request": canonical_request,
        "string_to_sign": traced.string_to_sign,
        "elapsed_ns": elapsed_ns,
    }))
}
