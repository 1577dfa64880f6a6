//! `run --watch` and `render --watch`: stay up, watch the backends, and deliver a changed set
//! of secrets only once it resolved and validated in full.
//!
//! Two threads. The watcher ([`watcher`]) polls versions and re-runs the one resolution path
//! (`launch::resolve_for_program`) for a changed set. The main loop ([`supervisor`]) owns the
//! program: it is PID 1's stand-in (signals forwarded to the program's process group, every
//! zombie reaped, the program's exit status as ours) and applies each validated set with the
//! `--on-change` action, within the restart budget.

mod budget;
mod child;
mod lease_keeper;
mod metrics;
mod on_change;
mod pidfile;
pub(crate) mod poll;
mod signals;
mod supervisor;
mod watcher;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::launch::Ready;
use crate::problem::Problem;
use crate::secret::SecretString;

pub use lease_keeper::LeaseKeeper;
pub use on_change::{OnChange, parse_command};
pub use signals::parse_signal;
pub use supervisor::supervise;

/// When to look and how long to wait before acting.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Between polls (`--interval`).
    pub interval: Duration,
    /// Quiet period after a change before resolving (`--debounce`).
    pub debounce: Duration,
    /// A random delay up to this before acting on a change (`--splay`).
    pub splay: Option<Duration>,
}

/// The program `run --watch` supervises.
pub struct Program {
    pub name: OsString,
    pub args: Vec<OsString>,
    pub stop_signal: Signal,
    pub stop_timeout: Duration,
    pub max_restarts: u32,
    pub restart_window: Duration,
}

/// What is done with each validated set after the first.
#[derive(Debug, Clone)]
pub enum Action {
    /// `--on-change restart|signal:SIG|exec:CMD|none` of `run`.
    OnChange(OnChange),
    /// `render --signal-pidfile FILE`: signal the process whose pid the file holds.
    SignalPidfile { file: PathBuf, signal: Signal },
}

pub struct Supervision {
    pub timing: Timing,
    /// `None` for the `render --watch` sidecar, which only keeps files current.
    pub program: Option<Program>,
    pub actions: Vec<Action>,
    /// Written (empty, mode 0644) once the first set is delivered (`render --ready-file`).
    pub ready_file: Option<PathBuf>,
    /// Rewritten after each poll and restart (`--metrics-file`).
    pub metrics_file: Option<PathBuf>,
}

/// How a set reaches the program: implemented by `run` and `render`.
pub trait Delivery {
    /// Writes the rendered files, all or none; nothing when there are none.
    fn write_files(&self, ready: &Ready) -> Result<(), Problem>;
    /// The environment of the program, or of an `exec:` hook.
    fn environment(&self, ready: &Ready) -> Vec<(OsString, SecretString)>;
}
