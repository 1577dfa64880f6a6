//! Stopping what credential loading started. aws-config runs a profile's `credential_process`
//! as `sh -c '…'` through tokio's process API without `kill_on_drop`, so when the launch gives
//! up on it at the deadline the process (and whatever it started) would keep running after
//! the launcher has exited or exec'd. The launcher starts no other process before exec, so the
//! processes that became its children while credentials loaded are that command's: they and
//! their descendants are killed.
//!
//! Library use (`SecretsManager`) shares the caveat: a child the host program starts on another
//! thread during a credential load that times out would be killed too.

use std::collections::{BTreeMap, BTreeSet};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// This process's children at one moment.
pub struct Spawned {
    before: BTreeSet<i32>,
}

impl Spawned {
    pub fn snapshot() -> Spawned {
        let me = std::process::id() as i32;
        Spawned {
            before: parents()
                .into_iter()
                .filter(|(_, parent)| *parent == me)
                .map(|(pid, _)| pid)
                .collect(),
        }
    }

    /// SIGKILLs every child started since the snapshot, and their descendants (a shell's
    /// `sleep` outlives the shell otherwise). Returns how many processes were signalled.
    pub fn kill_new(&self) -> usize {
        let me = std::process::id() as i32;
        let table = parents();
        let mut children_of: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
        for (&pid, &parent) in &table {
            children_of.entry(parent).or_default().push(pid);
        }
        let mut doomed: Vec<i32> = children_of
            .get(&me)
            .into_iter()
            .flatten()
            .copied()
            .filter(|pid| !self.before.contains(pid))
            .collect();
        let mut next = 0;
        while next < doomed.len() {
            if let Some(children) = children_of.get(&doomed[next]) {
                doomed.extend(children);
            }
            next += 1;
        }
        // Collected first, killed together: a killed shell's children are re-parented at once.
        for &pid in &doomed {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        if !doomed.is_empty() {
            tracing::debug!(
                processes = doomed.len(),
                "killed what credential loading had started"
            );
        }
        doomed.len()
    }
}

/// Every process's parent, from `/proc/<pid>/stat`.
fn parents() -> BTreeMap<i32, i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            Some((pid, parent_in_stat(&stat)?))
        })
        .collect()
}

/// `pid (comm) state ppid …`; the command name may hold spaces and parentheses.
fn parent_in_stat(stat: &str) -> Option<i32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_is_read_past_odd_command_names() {
        assert_eq!(parent_in_stat("42 (sh) S 7 42 42 0"), Some(7));
        assert_eq!(parent_in_stat("43 (a) b (c) R 9 1 1"), Some(9));
        assert_eq!(parent_in_stat("garbage"), None);
    }
}
