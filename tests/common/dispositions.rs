//! The signal state a test hands to the process it starts, set explicitly so a test never
//! depends on what its runner inherited (`nohup cargo test` ignores SIGHUP; a shell's
//! background job ignores SIGINT and SIGQUIT).

use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::libc;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};

/// Starts `command` with every signal at its default disposition except `ignored`, and none
/// blocked, as `nohup` (with `&[Signal::SIGHUP]`) or a fresh login shell would.
pub fn with_dispositions<'a>(command: &'a mut Command, ignored: &[Signal]) -> &'a mut Command {
    let ignored: Vec<libc::c_int> = ignored
        .iter()
        .map(|signal| *signal as libc::c_int)
        .collect();
    // SAFETY: signal and sigprocmask are async-signal-safe; the closure allocates nothing.
    unsafe {
        command.pre_exec(move || {
            for signal in 1..=libc::SIGRTMAX() {
                if signal == libc::SIGKILL || signal == libc::SIGSTOP {
                    continue;
                }
                let disposition = if ignored.contains(&signal) {
                    libc::SIG_IGN
                } else {
                    libc::SIG_DFL
                };
                libc::signal(signal, disposition);
            }
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
                .map_err(std::io::Error::from)
        })
    }
}
