//! What sigharness's Rust oracles share (adapters/scratchstack, adapters/s3s, adapters/rustack).
//!
//! - `protocol`: the JSON-lines protocol of a `verifier` (docs/adapter-protocol.md): the read loop,
//!   the hello, and the `verify` answer around the oracle's own judging.
//! - `message`: the verify message's fields: the received request as the `http` crate carries it,
//!   the server's credentials.
//! - `clock`: the server's clock for presigned URLs (libfaketime), for s3s and rustack.
//! - `build_script`: what each oracle's build.rs compiles into its binary (the library's version
//!   from Cargo.lock, the rustc version).
//!
//! Nothing here computes any part of a signature: the judging is each library's.

pub mod build_script;
#[cfg(feature = "oracle")]
pub mod clock;
#[cfg(feature = "oracle")]
pub mod message;
#[cfg(feature = "oracle")]
pub mod protocol;
