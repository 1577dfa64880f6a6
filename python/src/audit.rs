//! The library's events, to Python's `logging`: audit events (one per secret read or written:
//! names, references and versions, never a value) to the logger `cronos_secrets.audit`, the
//! library's warnings and errors to `cronos_secrets`. Only the library's own events are
//! forwarded: HTTP and SDK crates log bodies that hold secrets.

use std::fmt::{self, Write as _};
use std::path::Path;

use cronos_secrets::{AUDIT_TARGET, OWN_TARGET, Problem};

use pyo3::prelude::*;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;


/// Installs the forwarding as the process's tracing subscriber; a program that installed its
/// own (another Rust extension) keeps it.
pub fn forward_to_python_logging() {
    let _ = tracing_subscriber::registry()
        .with(PythonLogging.with_filter(LevelFilter::INFO))
        .try_init();
}

/// A manager's own subscriber when it has an `audit_log=` file: the forwarding to `logging`,
/// and its audit events appended to the file as the launcher's `--audit-log` writes them.
/// Used for the manager's calls only (see [`Audited::run`]), so two managers with files of
/// their own each write their own events.
pub struct Audited(Option<Dispatch>);

impl Audited {
    pub fn new(audit_log: Option<&Path>) -> Result<Self, Problem> {
        let Some(path) = audit_log else {
            return Ok(Audited(None));
        };
        let subscriber = tracing_subscriber::registry()
            .with(PythonLogging.with_filter(LevelFilter::INFO))
            .with(cronos_secrets::audit_file_layer(path)?);
        Ok(Audited(Some(Dispatch::new(subscriber))))
    }

    /// Runs one call of the manager (on this thread: the manager's runtime polls a call's
    /// future on the thread that waits for it) with its events going to this subscriber.
    pub fn run<T>(&self, call: impl FnOnce() -> T) -> T {
        match &self.0 {
            Some(dispatch) => tracing::dispatcher::with_default(dispatch, call),
            None => call(),
        }
    }
}

struct PythonLogging;

impl<S: Subscriber> Layer<S> for PythonLogging {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let metadata = event.metadata();
        let target = metadata.target();
        if !target.starts_with(OWN_TARGET) {
            return;
        }
        let mut text = EventText::default();
        event.record(&mut text);
        let logger = if target == AUDIT_TARGET {
            "cronos_secrets.audit"
        } else {
            "cronos_secrets"
        };
        // logging's numeric levels.
        let level = match *metadata.level() {
            Level::ERROR => 40,
            Level::WARN => 30,
            Level::INFO => 20,
            Level::DEBUG => 10,
            Level::TRACE => 5,
        };
        let message = text.finish();
        Python::attach(|py| {
            // A program that never imported `logging` cannot have configured it, and unconfigured
            // it drops INFO and below (its last-resort handler prints warnings and errors):
            // importing it (5 ms) just to drop an audit event would slow a cold start.
            if level < 30 && !logging_imported(py) {
                return;
            }
            let logged = py
                .import("logging")
                .and_then(|logging| logging.call_method1("getLogger", (logger,)))
                .and_then(|logger| logger.call_method1("log", (level, message)));
            if let Err(error) = logged {
                // A handler that raised: Python's own way of reporting it, not a crash here.
                error.write_unraisable(py, None);
            }
        });
    }
}

fn logging_imported(py: Python<'_>) -> bool {
    py.import("sys")
        .and_then(|sys| sys.getattr("modules"))
        .and_then(|modules| modules.contains("logging"))
        .unwrap_or(true)
}

/// `secret read: reference=vault://… source=vault version=3`.
#[derive(Default)]
struct EventText {
    message: String,
    fields: String,
}

impl EventText {
    fn finish(self) -> String {
        if self.fields.is_empty() {
            self.message
        } else {
            format!("{}:{}", self.message, self.fields)
        }
    }
}

impl Visit for EventText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}
