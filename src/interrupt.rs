//! Ending a launch at once on SIGTERM, SIGINT, SIGHUP or SIGQUIT, whatever it is doing.
//!
//! As PID 1 (a container without `--init`) the kernel delivers no signal whose disposition is
//! the default, so without handlers `docker stop` would wait for `--timeout` while the launcher
//! fetches. The handlers exit with 128+N, as a shell reports a process killed by N, and start
//! nothing; `exec` gives the program back the dispositions the launcher inherited.

use nix::libc;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use crate::inherited_signals;

/// The signals that stop a launch (`docker stop`, Ctrl-C, a closed terminal, Ctrl-\).
pub const TERMINATING: [Signal; 4] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

extern "C" fn exit_now(signal: libc::c_int) {
    // SAFETY: _exit is async-signal-safe; nothing else runs in the handler.
    unsafe { libc::_exit(128 + signal) }
}

/// Installs the handlers (except for signals inherited ignored); call once, before any work.
pub fn exit_on_terminating_signals() {
    let action = SigAction::new(
        SigHandler::Handler(exit_now),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in TERMINATING {
        // A signal ignored on entry stays ignored, as a shell does for its commands:
        // `nohup cronos-secrets run …` must survive a hangup while it fetches too.
        if inherited_signals::was_ignored(signal as libc::c_int) {
            continue;
        }
        // SAFETY: the handler only calls the async-signal-safe _exit.
        if let Err(error) = unsafe { sigaction(signal, &action) } {
            tracing::debug!(%signal, %error, "could not install a signal handler");
        }
    }
}
