//! The program as a child: in a process group of its own (so a signal reaches everything it
//! started), reaped with everything else that ends up reparented to us.

use std::ffi::{OsStr, OsString};
use std::io::ErrorKind;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::exec::ExecError;
use crate::inherited_signals;
use crate::secret::SecretString;

/// Orphans of the program's tree are reparented to us, to be reaped (tini's `-s`). As PID 1
/// that is already so.
pub fn become_subreaper() {
    if nix::unistd::getpid().as_raw() == 1 {
        return;
    }
    if let Err(errno) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(
            "cannot become the subreaper ({}): orphaned grandchildren will be reaped by PID 1 instead",
            errno.desc()
        );
    }
}

/// Whether a child is the supervised program or an `--on-change` hook (which never takes the
/// terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Program,
    Hook,
}

/// Starts `program` in a new process group with exactly `env`. std's spawn is safe in a process
/// with threads (the watcher's), and reports an
/// exec failure from the child; the errors are `exec`'s, with GNU `env`'s exit codes.
pub fn spawn(
    program: &OsStr,
    args: &[OsString],
    env: &[(OsString, SecretString)],
    role: Role,
) -> Result<Pid, ExecError> {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(name, value)| (name, value.as_os_str())))
        .process_group(0);
    // The supervisor blocks the signals it forwards and catches others; the program starts
    // with none blocked and the dispositions the launcher inherited.
    // SAFETY: restore_before_exec is async-signal-safe and touches only the forked child.
    unsafe {
        command.pre_exec(|| {
            inherited_signals::restore_before_exec();
            Ok(())
        });
    }
    let child = command.spawn().map_err(|error| {
        let name = program.to_string_lossy();
        match error.kind() {
            ErrorKind::NotFound => ExecError {
                code: 127,
                message: format!("program \"{name}\" not found"),
                hint: "check the name, or give the full path; with --pristine, PATH comes from the env files",
            },
            ErrorKind::PermissionDenied => ExecError {
                code: 126,
                message: format!("cannot run {name}: permission denied"),
                hint: "make it executable (chmod +x) and check the directory permissions",
            },
            _ => ExecError {
                code: 126,
                message: format!("cannot run {name}: {error}"),
                hint: "check that the program is a valid executable for this machine",
            },
        }
    })?;
    // The Child handle is dropped without waiting: the supervisor reaps every pid itself.
    let pid = Pid::from_raw(child.id() as i32);
    if role == Role::Program {
        give_terminal(pid);
    }
    Ok(pid)
}

/// In an interactive terminal the program's group becomes the foreground one, so it can read
/// the terminal and gets Ctrl-C itself (SIGTTOU is blocked, which lets us hand it over).
fn give_terminal(group: Pid) {
    use nix::libc;
    // SAFETY: plain ioctls on fd 0; failures (not a terminal) are ignored.
    unsafe {
        if libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() {
            libc::tcsetpgrp(0, group.as_raw());
        }
    }
}

/// Sends `signal` to the group; a group already gone is not an error.
pub fn signal_group(group: Pid, signal: Signal) {
    match killpg(group, signal) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(errno) => tracing::warn!(%signal, "cannot signal the program: {}", errno.desc()),
    }
}

/// One reaped process.
pub struct Reaped {
    pub pid: Pid,
    /// The shell's convention: the exit code, or 128+N when killed by signal N.
    pub status: i32,
}

/// Reaps, without blocking, what has ended among `known` (the program, hooks) and the
/// orphans reparented to us. It leaves alone the launcher's own helpers — an AWS
/// `credential_process`, `az account get-access-token` — which run in the launcher's process
/// group and are waited for by the code that started them: reaping one first would leave that
/// code with ECHILD ("No child processes") and fail the poll.
pub fn reap_ended(known: &[Pid]) -> Vec<Reaped> {
    let own_group = nix::unistd::getpgrp();
    let mut candidates: Vec<Pid> = known.to_vec();
    candidates.extend(
        ended_children()
            .into_iter()
            .filter(|(_, group)| *group != own_group)
            .map(|(pid, _)| pid),
    );
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .into_iter()
        .filter_map(|pid| match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => Some(Reaped { pid, status: code }),
            Ok(WaitStatus::Signaled(pid, signal, _)) => Some(Reaped {
                pid,
                status: 128 + signal as i32,
            }),
            // Still running (StillAlive), or not ours to wait for.
            Ok(_) | Err(_) => None,
        })
        .collect()
}

/// Our children that have ended (zombies), each with its process group, from /proc.
fn ended_children() -> Vec<(Pid, Pid)> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "PID (COMM) STATE PPID PGRP …": COMM may hold spaces and parentheses.
            let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ');
            let state = fields.next()?;
            let parent: u32 = fields.next()?.parse().ok()?;
            let group: i32 = fields.next()?.parse().ok()?;
            (state == "Z" && parent == me).then(|| (Pid::from_raw(pid), Pid::from_raw(group)))
        })
        .collect()
}
