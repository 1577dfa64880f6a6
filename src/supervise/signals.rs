//! The supervisor's signals: every catchable one is blocked in all threads and read from a
//! signalfd by the main loop, so none is lost while a poll or a restart is under way, and none
//! runs a handler (as PID 1, a signal left at its default disposition would never arrive).

use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::str::FromStr;
use std::time::Instant;

use nix::libc;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::problem::Problem;

/// Passed on to the program's process group. Not SIGCHLD (ours, for reaping), SIGPIPE (the
/// launcher's own broken pipes), SIGURG (socket noise the Go runtime also uses for preemption;
/// forwarding it broke envconsul, #254), nor the fault signals a process sends only itself.
pub const FORWARDED: [Signal; 13] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGTERM,
    Signal::SIGALRM,
    Signal::SIGWINCH,
    Signal::SIGCONT,
    Signal::SIGTSTP,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
    Signal::SIGPWR,
];

/// The signals that ask the launcher itself to end (the program first, when there is one).
pub fn is_terminating(signal: Signal) -> bool {
    matches!(signal, Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT)
}

/// Blocks the forwarded signals and SIGCHLD in this thread (and so in every thread started
/// after it) and opens the signalfd that reads them. Call before starting any thread.
pub fn take_over() -> Result<SignalFd, Problem> {
    let mut mask = SigSet::empty();
    for signal in FORWARDED {
        mask.add(signal);
    }
    mask.add(Signal::SIGCHLD);
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)
        .and_then(|()| SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC))
        .map_err(|errno| {
            Problem::new(
                "signals",
                format!("cannot take over the signals: {}", errno.desc()),
            )
        })
}

/// `TERM`, `SIGTERM` or `15`; never KILL or STOP, by name or by number.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    let trimmed = text.trim();
    let signal = match trimmed.parse::<i32>() {
        Ok(number) => {
            Signal::try_from(number).map_err(|_| format!("no signal numbered {number}"))?
        }
        Err(_) => {
            let upper = trimmed.to_ascii_uppercase();
            let name = if upper.starts_with("SIG") {
                upper
            } else {
                format!("SIG{upper}")
            };
            Signal::from_str(&name).map_err(|_| {
                format!(
                    "unknown signal \"{text}\" (expected a name such as TERM, QUIT, HUP, USR1, or a number)"
                )
            })?
        }
    };
    match signal {
        Signal::SIGKILL | Signal::SIGSTOP => Err(format!(
            "{signal} cannot be caught, so it cannot ask the program to stop gracefully or reload; --stop-timeout ends with SIGKILL anyway"
        )),
        signal => Ok(signal),
    }
}

/// Sleeps until a signal, a set from the watcher, or the deadline.
pub fn wait(signals: &impl AsFd, wake: &UnixStream, deadline: Option<Instant>) {
    let timeout = deadline.map_or(-1, |deadline| {
        let left = deadline.saturating_duration_since(Instant::now());
        i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(0) + 1
    });
    let mut fds = [
        libc::pollfd {
            fd: signals.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // SAFETY: two valid pollfds owned by this frame; an error (EINTR) just loops again.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_name_or_number() {
        assert_eq!(parse_signal("TERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("sigquit"), Ok(Signal::SIGQUIT));
        assert_eq!(parse_signal("1"), Ok(Signal::SIGHUP));
        assert!(parse_signal("KILL").is_err());
        assert!(parse_signal("9").unwrap_err().contains("SIGKILL"));
        assert!(parse_signal("19").unwrap_err().contains("SIGSTOP"));
        assert!(parse_signal("NOPE").unwrap_err().contains("unknown signal"));
    }
}
