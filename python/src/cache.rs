//! `cache_ttl=`: values kept in memory and, once older than the TTL, kept on only while the
//! backend's metadata shows the same version (as `run --watch` polls: no value is read again
//! unless it changed). Reads of missing or changed values go in one batch.
//!
//! A poll's version is compared only with an earlier poll's (as the watcher compares them: a
//! read's metadata is in another form), so a value is read after a poll: a rotation between
//! the two makes the next poll differ, and the value is read again, never kept stale.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cronos_secrets::{Failure, SecretString, SecretsManager, Version};

pub struct Cache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    value: SecretString,
    /// The version polled just before the value was read; `None` when the poll could not
    /// tell (the value is then read again once stale).
    version: Option<Version>,
    /// When the version was last known current.
    checked: Instant,
}

impl Cache {
    pub fn new(ttl: Duration) -> Self {
        Cache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The values of `names`, in order: fresh ones from memory, stale ones kept when their
    /// version is unchanged, the rest read in one batch. Never holds the lock across a call to
    /// the backend, so threads reading other names are not held up.
    pub fn get(
        &self,
        manager: &SecretsManager,
        names: &[&str],
    ) -> Result<Vec<SecretString>, Failure> {
        let now = Instant::now();
        let mut stale: Vec<&str> = Vec::new();
        let mut missing: Vec<&str> = Vec::new();
        {
            let entries = self.lock();
            for &name in names {
                match entries.get(name) {
                    Some(entry) if now.duration_since(entry.checked) < self.ttl => {}
                    Some(_) if !stale.contains(&name) => stale.push(name),
                    None if !missing.contains(&name) => missing.push(name),
                    _ => {}
                }
            }
        }
        // The versions polled for stale entries, kept for those read again: one poll each.
        let mut polled: HashMap<&str, Option<Version>> = HashMap::new();
        if !stale.is_empty() {
            let versions = manager.current_versions(&stale)?;
            let mut entries = self.lock();
            for (name, version) in stale.iter().zip(versions) {
                match (entries.get_mut(*name), version) {
                    (Some(entry), Ok(version)) if entry.version.as_ref() == Some(&version) => {
                        entry.checked = now
                    }
                    // Changed, or unknown now: read again (a failure is raised by the read).
                    (_, version) => {
                        polled.insert(name, version.ok());
                        missing.push(name);
                    }
                }
            }
        }
        if !missing.is_empty() {
            let unpolled: Vec<&str> = missing
                .iter()
                .copied()
                .filter(|name| !polled.contains_key(name))
                .collect();
            if !unpolled.is_empty() {
                let versions = manager.current_versions(&unpolled)?;
                polled.extend(unpolled.into_iter().zip(versions.into_iter().map(Result::ok)));
            }
            let reads = manager.read_secrets(&missing)?;
            let mut entries = self.lock();
            for (name, read) in missing.iter().zip(reads) {
                let entry = Entry {
                    value: read.value,
                    version: polled.remove(name).flatten(),
                    checked: now,
                };
                entries.insert(name.to_string(), entry);
            }
        }
        let entries = self.lock();
        Ok(names
            .iter()
            .map(|name| entries[*name].value.clone())
            .collect())
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Forgets a name's value (after this manager wrote a new one).
    pub fn forget(&self, name: &str) {
        self.lock().remove(name);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic elsewhere while holding the lock leaves whole entries: still usable.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
