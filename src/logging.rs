//! Logs and audit events on stderr (or audit events in `--audit-log FILE`).
//!
//! Only this crate's own events are ever printed, whatever RUST_LOG says: HTTP and SDK crates
//! log request and response bodies at trace level, and those bodies hold secrets.

use std::io::{self, IsTerminal};
use std::path::Path;
use std::sync::Mutex;

use tracing::Metadata;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterFn, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

use crate::cli::LogFormat;
use crate::output::open_private_append;
use crate::problem::Problem;

/// The target of audit events: one per secret read.
pub const AUDIT_TARGET: &str = "cronos_secrets::audit";
const OWN_TARGET: &str = "cronos_secrets";

pub struct LogSettings<'a> {
    pub verbose: u8,
    pub quiet: bool,
    pub format: LogFormat,
    pub audit_log: Option<&'a Path>,
    /// RUST_LOG, when set.
    pub directives: Option<&'a str>,
}

pub fn init(settings: &LogSettings) -> Result<(), Problem> {
    let level = match (settings.quiet, settings.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let audit_on_stderr = !settings.quiet && settings.audit_log.is_none();
    let mut default = format!("{OWN_TARGET}={level}");
    if audit_on_stderr {
        default.push_str(&format!(",{AUDIT_TARGET}=info"));
    }
    let filter = match settings.directives {
        Some(directives) if !directives.trim().is_empty() => EnvFilter::try_new(directives)
            .map_err(|error| {
                Problem::new("RUST_LOG", format!("invalid log filter: {error}"))
                    .with_hint("use a level like RUST_LOG=debug or RUST_LOG=cronos_secrets=trace")
            })?,
        _ => EnvFilter::new(default),
    };
    let own_events = FilterFn::new(|metadata: &Metadata| metadata.target().starts_with(OWN_TARGET));
    let not_audit = FilterFn::new(|metadata: &Metadata| metadata.target() != AUDIT_TARGET);
    let stderr_layer = match settings.format {
        LogFormat::Text => fmt::layer()
            .with_writer(io::stderr)
            .with_ansi(io::stderr().is_terminal())
            .with_target(false)
            .without_time()
            .boxed(),
        LogFormat::Json => fmt::layer().json().with_writer(io::stderr).boxed(),
    };
    let stderr_layer = if settings.audit_log.is_some() {
        stderr_layer.with_filter(not_audit).boxed()
    } else {
        stderr_layer
    };
    let audit_layer = match settings.audit_log {
        Some(path) => {
            let file = open_private_append(path).map_err(|error| {
                Problem::new(
                    path.display().to_string(),
                    format!("cannot open the audit log: {error}"),
                )
                .with_hint("choose a writable path for --audit-log")
            })?;
            let audit_only = FilterFn::new(|metadata: &Metadata| metadata.target() == AUDIT_TARGET);
            Some(
                fmt::layer()
                    .json()
                    .with_writer(Mutex::new(file))
                    .with_filter(audit_only)
                    .with_filter(LevelFilter::INFO),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(stderr_layer.with_filter(filter).with_filter(own_events))
        .with(audit_layer)
        .try_init()
        .map_err(|error| Problem::new("logging", error.to_string()))
}
