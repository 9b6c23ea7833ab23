//! A minimal `tracing` subscriber that records what aws-sigv4 logs at TRACE level while it signs.
//!
//! aws-sigv4 1.x (src/http_request/sign.rs) emits:
//! - header mode: `tracing::trace!(canonical_request = %creq.redacted())`
//! - query mode:  `tracing::trace!(canonical_request = %creq.redacted(),
//!                                 string_to_sign = %string_to_sign, "calculated signing parameters")`
//!
//! Nothing else is parsed or rebuilt: the field values are taken as the crate formatted them.
//! Events are only listened to while a check is being signed (not during benches).

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Dispatch, Event, LevelFilter, Metadata, Subscriber};

static ENABLED: AtomicBool = AtomicBool::new(true);

#[derive(Default, Debug)]
pub struct Traced {
    pub canonical_request: Option<String>,
    pub string_to_sign: Option<String>,
}

thread_local! {
    static CURRENT: RefCell<Option<Traced>> = const { RefCell::new(None) };
}

struct Capture;

fn from_library(meta: &Metadata<'_>) -> bool {
    meta.target() == "aws_sigv4" || meta.target().starts_with("aws_sigv4::")
}

struct Fields<'a>(&'a mut Traced);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.store(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%value` fields arrive as DisplayValue, whose Debug is the value's Display.
        self.store(field, format!("{value:?}"));
    }
}

impl Fields<'_> {
    fn store(&mut self, field: &Field, value: String) {
        match field.name() {
            "canonical_request" => self.0.canonical_request = Some(value),
            "string_to_sign" => self.0.string_to_sign = Some(value),
            _ => {}
        }
    }
}

impl Subscriber for Capture {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_event() && from_library(meta) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        ENABLED.load(Ordering::Relaxed)
            && meta.is_event()
            && from_library(meta)
            && CURRENT.with(|c| c.borrow().is_some())
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        CURRENT.with(|c| {
            if let Some(traced) = c.borrow_mut().as_mut() {
                event.record(&mut Fields(traced));
            }
        });
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// Installs the subscriber as the process-wide default.
pub fn install() {
    if tracing_core::dispatcher::set_global_default(Dispatch::new(Capture)).is_err() {
        eprintln!("[rust-aws-sigv4] a tracing subscriber was already installed");
    }
}

/// Turns listening on or off (off while benchmarking).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Starts recording the events of one signing call on this thread.
pub fn begin() {
    CURRENT.with(|c| *c.borrow_mut() = Some(Traced::default()));
}

/// Stops recording and returns what the library logged.
pub fn end() -> Traced {
    CURRENT.with(|c| c.borrow_mut().take()).unwrap_or_default()
}
