//! `render --signal-pidfile`: signal the app whose pid a file holds, on that file's say-so
//! only as far as it can be checked. Whoever can write the file chooses the pid, so it is read
//! like an untrusted input (a few bytes of a regular file, never waiting on a FIFO), pids 0
//! and 1 (and negative ones, which would name process groups) are refused, and a pid is
//! signalled only if its process already ran when the file was last written: a process
//! started later reuses the pid of an app that is gone (an app that restarts rewrites its
//! pidfile). All of it runs on a thread of its own, never on the loop that handles signals and
//! reaping.

use std::path::Path;
use std::time::{Duration, SystemTime};

use nix::sys::signal::Signal;
use nix::time::{ClockId, clock_gettime};
use nix::unistd::{Pid, SysconfVar, sysconf};

use crate::bounded;

/// A pid, its newline and some spaces.
const PIDFILE_LIMIT: u64 = 32;

/// How much later than the file's time a process may seem to start: the clocks compared here
/// count in ticks of 10 ms, and file times lag by up to a scheduler tick.
const CLOCK_SLACK: Duration = Duration::from_millis(100);

/// Signals the process of `file` from a thread of its own, and logs what was done.
pub fn signal_pidfile(file: &Path, signal: Signal) {
    let file = file.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("signal-pidfile".into())
        .spawn(move || signal_once(&file, signal));
    if let Err(error) = spawned {
        tracing::error!("cannot start the thread that signals the pidfile's process: {error}");
    }
}

fn signal_once(file: &Path, signal: Signal) {
    let pid = match checked_pid(file) {
        Ok(pid) => pid,
        Err(refusal) => {
            tracing::warn!(
                %signal,
                "files rewritten, but no process signalled: {}: {refusal}",
                file.display()
            );
            return;
        }
    };
    match nix::sys::signal::kill(pid, signal) {
        Ok(()) => tracing::info!(
            %signal,
            pid = pid.as_raw(),
            "files rewritten: signalled the process of the pidfile"
        ),
        Err(errno) => tracing::error!(
            %signal,
            pid = pid.as_raw(),
            "cannot signal the process of {}: {}",
            file.display(),
            errno.desc()
        ),
    }
}

/// The pid the file holds, if its process may be the one that wrote it; else why not.
fn checked_pid(file: &Path) -> Result<Pid, String> {
    let opened = bounded::open_regular(file, 0).map_err(|error| error.to_string())?;
    let bytes = bounded::read_limited(&opened, PIDFILE_LIMIT)
        .map_err(|error| format!("{error}, which is not a pidfile"))?;
    // Read after the content: a rewrite in place while we read makes the time newer, never
    // older than the pid it wrote.
    let written = opened
        .metadata()
        .and_then(|metadata| metadata.modified())
        .map_err(|error| format!("cannot read its modification time: {error}"))?;
    let pid = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
        .ok_or("does not hold a process id")?;
    if pid <= 1 {
        return Err(format!(
            "holds {pid}: refused, only a pid above 1 names one process (0 and negative pids name process groups, 1 is the init process)"
        ));
    }
    let started = process_start(pid)?;
    if started > written + CLOCK_SLACK {
        return Err(format!(
            "holds {pid}, but that process started after the file was last written: the pid belongs to another process now (the app that wrote it is gone, or has not rewritten its pidfile since it restarted)"
        ));
    }
    Ok(Pid::from_raw(pid))
}

/// When process `pid` started, on the wall clock: its start in clock ticks since boot
/// (`/proc/PID/stat`, field 22), placed against the boot clock now.
fn process_start(pid: i32) -> Result<SystemTime, String> {
    let stat = bounded::read_regular_file(Path::new(&format!("/proc/{pid}/stat")), 4096)
        .map_err(|_| format!("holds {pid}, and there is no process {pid}"))?;
    let stat = String::from_utf8_lossy(&stat);
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after_name
        .split_whitespace()
        .nth(22 - 3)
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| format!("cannot read when process {pid} started"))?;
    let per_second = sysconf(SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|value| u64::try_from(value).ok())
        .filter(|value| *value > 0)
        .ok_or("cannot read the clock tick rate")?;
    let since_boot = Duration::from_secs(ticks / per_second)
        + Duration::from_nanos((ticks % per_second) * 1_000_000_000 / per_second);
    let now_since_boot = clock_gettime(ClockId::CLOCK_BOOTTIME)
        .map(Duration::from)
        .map_err(|errno| format!("cannot read the boot clock: {}", errno.desc()))?;
    let age = now_since_boot.saturating_sub(since_boot);
    Ok(SystemTime::now() - age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_started_before_now_and_after_boot() {
        let started = process_start(std::process::id() as i32).unwrap();
        assert!(started <= SystemTime::now());
        assert!(SystemTime::now().duration_since(started).unwrap() < Duration::from_secs(3600));
    }
}
