//! aws-chunked uploads and event streams (docs/streaming.md) with the crate's own streaming API,
//! as the AWS SDK for Rust uses it: the seed request is signed by `http_request::sign` with
//! `SignableBody::Precomputed(STREAMING-...)` (or `StreamingUnsignedPayloadTrailer`) and
//! `PayloadChecksumKind::XAmzSha256`; each chunk by `sign::v4::sign_chunk`, the trailing headers by
//! `sign::v4::sign_trailer`, chained on the previous signature (aws-smithy-runtime's
//! `AwsChunkedBody` signer); each event by `event_stream::sign_message` and the end of the stream
//! by `sign_empty_message` (aws-sigv4's SigV4MessageSigner), the envelope written by
//! aws-smithy-eventstream's `write_message_to`.

use std::time::SystemTime;

use aws_sigv4::event_stream::{sign_empty_message, sign_message};
use aws_sigv4::sign::v4;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_runtime_api::http::Headers;
use aws_smithy_types::date_time::{DateTime, Format};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::{get_str, guarded, handle_sign, parse_check, Outcome, Res, LIBRARY_VERSION};

fn b64(text: &str, what: &str) -> Res<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Outcome::Error(format!("{what}: {e}")))
}

fn time_of(text: &str) -> Res<SystemTime> {
    DateTime::from_str(text, Format::DateTime)
        .map_err(|e| e.to_string())
        .and_then(|dt| SystemTime::try_from(dt).map_err(|e| e.to_string()))
        .map_err(|e| Outcome::Error(format!("time `{text}`: {e}")))
}

fn signed_err(what: &str, e: impl std::fmt::Display) -> Outcome {
    Outcome::Rejected(format!("{what}: {e}"))
}

/// An aws-chunked or event-stream check: the seed through `handle_sign`, then the chain.
pub fn handle_stream(check: &Value) -> Res<Value> {
    let surface = get_str(check, "surface")?;
    let mut seed_check = check.clone();
    seed_check["mode"] = json!("header");
    let payload = match surface {
        "aws-chunked" => {
            if get_str(check, "algorithm")? != "sigv4" {
                return Err(Outcome::Unsupported(format!(
                    "aws-sigv4 {LIBRARY_VERSION} sign_chunk and sign_trailer are HMAC-SHA256 (SigV4) only: no SigV4A chunk signing"
                )));
            }
            get_str(&check["chunked"], "payload")?.to_string()
        }
        "event-stream" => get_str(&check["event_stream"], "payload")?.to_string(),
        other => return Err(Outcome::Unsupported(format!("unknown surface `{other}`"))),
    };
    seed_check["context"]["payload"] = json!(payload);
    seed_check["context"]["content_sha256_header"] = json!(true);
    let mut answer = handle_sign(&seed_check)?;
    let auth = answer["signed"]["headers"]
        .as_array()
        .and_then(|hs| {
            hs.iter().find(|h| h[0].as_str().map(|n| n.eq_ignore_ascii_case("authorization")) == Some(true))
        })
        .and_then(|h| h[1].as_str())
        .ok_or(Outcome::Error("the signed seed has no Authorization header".into()))?;
    let seed = auth.rsplit("Signature=").next().unwrap_or("").trim().to_string();
    let c = parse_check(&seed_check)?;
    let stream = if surface == "aws-chunked" {
        chunked(&check["chunked"], &c, seed)?
    } else {
        events(&check["event_stream"], &c, seed)?
    };
    answer["stream"] = stream;
    Ok(answer)
}

fn chunked(spec: &Value, c: &crate::Check, seed: String) -> Res<Value> {
    let unsigned = spec["unsigned"].as_bool().unwrap_or(false);
    if unsigned {
        // STREAMING-UNSIGNED-PAYLOAD-TRAILER: only the seed is signed.
        return Ok(json!({"chunk_signatures": [], "trailer_signature": null}));
    }
    let params = v4::SigningParams::builder()
        .identity(&c.identity)
        .region(&c.region)
        .name(&c.service)
        .time(c.time)
        .settings(())
        .build()
        .map_err(|e| signed_err("SigningParams", e))?;
    let mut running = seed;
    let mut signatures = Vec::new();
    let mut chunks = Vec::new();
    for item in spec["chunks_b64"].as_array().into_iter().flatten() {
        chunks.push(Bytes::from(b64(item.as_str().unwrap_or(""), "chunks_b64")?));
    }
    chunks.push(Bytes::new()); // the final, empty chunk
    for chunk in &chunks {
        let out = guarded("sign_chunk", || v4::sign_chunk(chunk, &running, &params).map_err(|e| signed_err("sign_chunk", e)))?;
        running = out.signature().to_string();
        signatures.push(running.clone());
    }
    let mut trailer = Value::Null;
    let pairs = spec["trailers"].as_array().cloned().unwrap_or_default();
    if !pairs.is_empty() {
        let mut headers = Headers::new();
        for pair in &pairs {
            let (n, v) = (pair[0].as_str().unwrap_or(""), pair[1].as_str().unwrap_or(""));
            headers.try_append(n.to_string(), v.to_string()).map_err(|e| signed_err("Headers", e))?;
        }
        let out = guarded("sign_trailer", || v4::sign_trailer(&headers, &running, &params).map_err(|e| signed_err("sign_trailer", e)))?;
        trailer = json!(out.signature());
    }
    Ok(json!({"chunk_signatures": signatures, "trailer_signature": trailer}))
}

fn header_value(h: &Value) -> Res<Header> {
    let name = get_str(h, "name")?.to_string();
    let v = &h["value"];
    let int = || v.as_i64().ok_or(Outcome::Error(format!("header {name}: not an integer")));
    let value = match get_str(h, "type")? {
        "bool" => HeaderValue::Bool(v.as_bool().unwrap_or(false)),
        "byte" => HeaderValue::Byte(int()? as i8),
        "short" => HeaderValue::Int16(int()? as i16),
        "integer" => HeaderValue::Int32(int()? as i32),
        "long" => HeaderValue::Int64(int()?),
        "bytes" => HeaderValue::ByteArray(Bytes::from(b64(v.as_str().unwrap_or(""), "bytes header")?)),
        "string" => HeaderValue::String(v.as_str().unwrap_or("").to_string().into()),
        "timestamp" => HeaderValue::Timestamp(DateTime::from_millis(int()?)),
        "uuid" => HeaderValue::Uuid(
            u128::from_str_radix(&v.as_str().unwrap_or("").replace('-', ""), 16)
                .map_err(|e| Outcome::Error(format!("uuid header {name}: {e}")))?,
        ),
        other => return Err(Outcome::Error(format!("unknown header type `{other}`"))),
    };
    Ok(Header::new(name, value))
}

fn events(spec: &Value, c: &crate::Check, seed: String) -> Res<Value> {
    let mut last = seed;
    let mut out = Vec::new();
    for event in spec["events"].as_array().into_iter().flatten() {
        let time = time_of(get_str(event, "time")?)?;
        let params = v4::SigningParams::builder()
            .identity(&c.identity)
            .region(&c.region)
            .name(&c.service)
            .time(time)
            .settings(())
            .build()
            .map_err(|e| signed_err("SigningParams", e))?;
        let signed = if event["payload_b64"].as_str() == Some("") {
            guarded("sign_empty_message", || sign_empty_message(&last, &params).map_err(|e| signed_err("sign_empty_message", e)))?
        } else {
            let inner = match event.get("message") {
                Some(m) if !m.is_null() => m,
                _ => {
                    return Err(Outcome::Unsupported(format!(
                        "aws-sigv4 {LIBRARY_VERSION} sign_message takes an event stream Message and signs its encoding: a raw payload that is not a message cannot be expressed"
                    )))
                }
            };
            let mut message = Message::new(b64(get_str(inner, "payload_b64")?, "message.payload_b64")?);
            for h in inner["headers"].as_array().into_iter().flatten() {
                message = message.add_header(header_value(h)?);
            }
            guarded("sign_message", || sign_message(&message, &last, &params).map_err(|e| signed_err("sign_message", e)))?
        };
        let (envelope, signature) = signed.into_parts();
        last = signature;
        let mut wire = Vec::new();
        write_message_to(&envelope, &mut wire).map_err(|e| signed_err("write_message_to", e))?;
        out.push(json!({"message_b64": base64::engine::general_purpose::STANDARD.encode(wire)}));
    }
    Ok(json!({"events": out}))
}
