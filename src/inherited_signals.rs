//! The signal dispositions the launcher inherited, recorded before it changes any, so the
//! program starts with them: `nohup cronos-secrets run -- prog` leaves `prog` ignoring SIGHUP,
//! as `nohup env prog` does.
//!
//! SIGPIPE is the exception: the Rust runtime ignores it before `main` runs and keeps no record
//! of what it replaced, so the program gets the default (what a shell gives a program).

use std::sync::atomic::{AtomicU64, Ordering};

use nix::libc;
use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};

/// Bit `n - 1` is set when signal `n` (1 to 64 on Linux) was inherited ignored.
static IGNORED_AT_START: AtomicU64 = AtomicU64::new(0);

/// Records which signals were ignored when the process started. Call first thing in `main`,
/// before any handler is installed.
pub fn record() {
    let mut ignored = 0u64;
    for signal in every_signal() {
        if signal == libc::SIGPIPE {
            continue;
        }
        // SAFETY: a null new action only reads the current one into `current`.
        let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
        let read = unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) };
        if read == 0 && current.sa_sigaction == libc::SIG_IGN {
            ignored |= bit(signal);
        }
    }
    IGNORED_AT_START.store(ignored, Ordering::Relaxed);
}

/// Whether `signal` was ignored when the launcher started (by `nohup`, or a shell starting a
/// background job).
pub fn was_ignored(signal: libc::c_int) -> bool {
    IGNORED_AT_START.load(Ordering::Relaxed) & bit(signal) != 0
}

/// Gives this process back the dispositions it inherited (ignored stays ignored, everything
/// else default) and an empty mask, just before `execve`: the launcher's handlers and blocked
/// signals are its own, and `execve` would keep ignored dispositions and the mask.
///
/// Async-signal-safe (atomics, `signal`, `sigprocmask`): it runs in a forked child too.
pub fn restore_before_exec() {
    for signal in every_signal() {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        let disposition = if was_ignored(signal) {
            libc::SIG_IGN
        } else {
            libc::SIG_DFL
        };
        // SAFETY: SIG_DFL and SIG_IGN install no code as a handler; the C library refuses
        // the few real-time signals it reserves for itself, which is harmless.
        unsafe { libc::signal(signal, disposition) };
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// Every signal number, real-time ones included.
fn every_signal() -> std::ops::RangeInclusive<libc::c_int> {
    1..=libc::SIGRTMAX().min(64)
}

fn bit(signal: libc::c_int) -> u64 {
    match signal {
        1..=64 => 1 << (signal - 1),
        _ => 0,
    }
}
