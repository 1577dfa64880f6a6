//! Logs and audit events on stderr (or audit events in `--audit-log FILE`).
//!
//! Only this crate's own events are ever printed, whatever RUST_LOG says: HTTP and SDK crates
//! log request and response bodies at trace level, and those bodies hold secrets.

use std::fs::File;
use std::io::{self, IsTerminal};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use tracing::{Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterFn, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

use crate::output::{PRIVATE_MODE, open_private_append};
use crate::problem::Problem;

/// The target of audit events: one per secret read.
pub const AUDIT_TARGET: &str = "cronos_secrets::audit";
/// The target prefix of every event of this crate's own (the Python binding forwards only these).
pub const OWN_TARGET: &str = "cronos_secrets";
/// The target of warnings that a security check was relaxed on purpose: printed even under
/// `-q`, since a quiet launch is exactly where nobody would notice otherwise.
pub const RELAXED_CHECK_TARGET: &str = "cronos_secrets::relaxed_check";

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub struct LogSettings<'a> {
    pub verbose: u8,
    pub quiet: bool,
    pub format: LogFormat,
    pub audit_log: Option<&'a Path>,
    /// RUST_LOG, when set.
    pub directives: Option<&'a str>,
    /// Audit events reach stderr without `-v` (`run`, the watchers): a launch's stderr is its
    /// log. Commands whose output is the answer (`check`, `get`, `render`, `export`) would
    /// only repeat it there: theirs go to `--audit-log`, or to stderr at `-v`.
    pub audit_by_default: bool,
}

pub fn init(settings: &LogSettings) -> Result<(), Problem> {
    let level = match (settings.quiet, settings.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let audit_on_stderr =
        settings.audit_by_default && !settings.quiet && settings.audit_log.is_none();
    let mut default = format!("{OWN_TARGET}={level},{RELAXED_CHECK_TARGET}=warn");
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
        Some(path) => Some(audit_file_layer(path)?),
        None => None,
    };
    tracing_subscriber::registry()
        .with(stderr_layer.with_filter(filter).with_filter(own_events))
        .with(audit_layer)
        .try_init()
        .map_err(|error| Problem::new("logging", error.to_string()))
}

/// The audit events, as JSON lines appended to `path` (`--audit-log`; the Python binding's
/// `audit_log=`): opened as [`open_audit_log`] says, write errors remembered for
/// [`check_audit_written`].
pub fn audit_file_layer<S>(path: &Path) -> Result<impl Layer<S> + Send + Sync, Problem>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let file = open_audit_log(path).map_err(|error| {
        let reason = if error.raw_os_error() == Some(nix::libc::ELOOP) {
            "it is a symbolic link, and the audit log is opened without following links"
                .to_string()
        } else if error.raw_os_error() == Some(nix::libc::ENXIO) {
            "it is a FIFO with no reader".to_string()
        } else {
            error.to_string()
        };
        Problem::new(
            path.display().to_string(),
            format!("cannot open the audit log: {reason}"),
        )
        .with_hint(
            "choose a writable path for the audit log (--audit-log; in Python, audit_log=): the file itself, not a link to it",
        )
    })?;
    let audit_only = FilterFn::new(|metadata: &Metadata| metadata.target() == AUDIT_TARGET);
    Ok(fmt::layer()
        .json()
        .with_writer(Mutex::new(AuditFile(file)))
        .with_filter(audit_only)
        .with_filter(LevelFilter::INFO))
}

/// The first error writing an audit record. A launch whose reads were not all recorded does
/// not start: [`check_audit_written`] turns this into its error.
static AUDIT_WRITE_ERROR: OnceLock<String> = OnceLock::new();

/// The audit log: write errors (a full disk, `/dev/full`) are remembered, not dropped as the
/// formatter would drop them.
struct AuditFile(File);

impl io::Write for AuditFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self.0.write(bytes) {
            Ok(written) => Ok(written),
            Err(error) => {
                let _ = AUDIT_WRITE_ERROR.set(error.to_string());
                // Reported by check_audit_written; the formatter would only print a warning.
                Ok(bytes.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Opens `--audit-log`: never through a symlink (in a shared directory one could point it at
/// another file), a FIFO only when something reads it (else the launch would block), and a
/// regular file made 0600 even when it already existed with a wider mode.
fn open_audit_log(path: &Path) -> io::Result<File> {
    let file = open_private_append(path, nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)?;
    // Blocking again, so a slow reader of a FIFO is waited for rather than an error.
    let flags = nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let mut flags = nix::fcntl::OFlag::from_bits_retain(flags);
    flags.remove(nix::fcntl::OFlag::O_NONBLOCK);
    nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
    let metadata = file.metadata()?;
    if metadata.is_file() && metadata.permissions().mode() & 0o777 != PRIVATE_MODE {
        file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_MODE))?;
    }
    Ok(file)
}

/// Fails when an audit record could not be written: nothing may start unrecorded.
pub fn check_audit_written() -> Result<(), Problem> {
    match AUDIT_WRITE_ERROR.get() {
        None => Ok(()),
        Some(error) => Err(Problem::new(
            "audit log",
            format!("cannot write the audit record of a secret read: {error}; nothing was started"),
        )
        .with_hint("free space or fix the --audit-log path, then run again")),
    }
}
