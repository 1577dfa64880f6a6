//! The watcher thread: resolves the first set, then polls versions (metadata, not values) and
//! re-runs the one resolution path only when a version moved, after a quiet period, reading
//! again only the secrets whose version moved (or could not be polled). It sends
//! the main loop a set only when the digest of the validated values differs from the last one
//! sent, so a poll that finds the same values never restarts anything.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::Sender;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::Timing;
use super::lease_keeper::SharedKeeper;
use super::metrics::Metrics;
use super::poll;
use crate::backend::{Version, Versions};
use crate::error::Error;
use crate::launch::{self, LaunchSettings, Prepared, Ready};
use crate::random;
use crate::reference::{Reference, Scheme};
use crate::resolve::{PlaceholderValue, Reuse};
use crate::runtime;

/// How often the quiet period may be extended by yet another change before the set is
/// resolved anyway (envconsul's `wait { max }`).
const MAX_QUIET_ROUNDS: u32 = 5;
/// A set that failed validation is tried again after this many polls even when no version
/// moved (the failure may have been an outage during the resolution).
const RETRY_REJECTED_AFTER_POLLS: u32 = 10;

pub enum Event {
    /// A validated set whose values differ from the previous one (the first set included).
    Ready(Box<Ready>),
    /// The first resolution failed: nothing was started.
    Failed(Error),
}

pub struct Watcher {
    /// The leases of the dynamic secrets delivered: renewed here, revoked by the main loop.
    pub leases: SharedKeeper,
    pub prepared: Prepared,
    pub settings: LaunchSettings,
    pub extras: Vec<PlaceholderValue>,
    pub timing: Timing,
    pub events: Sender<Event>,
    pub wake: UnixStream,
    pub metrics: Metrics,
}

type Known = HashMap<Reference, Version>;

impl Watcher {
    pub fn run(mut self) {
        // Versions before values: a change between the two is seen by the next poll.
        let mut applied = self.known(self.poll());
        let (mut last_digest, mut cache) = match self.resolve(&Reuse::new()) {
            Ok((ready, fetched)) => {
                let digest = digest(&ready);
                self.adopt_leases(&fetched);
                self.send(Event::Ready(Box::new(ready)));
                (digest, fetched)
            }
            Err(error) => return self.send(Event::Failed(error)),
        };
        let mut rejected: Option<(Known, u32)> = None;
        let mut next_poll = Instant::now() + self.timing.interval;
        loop {
            // A lease renewal may be due before the next poll.
            sleep_until(self.lease_due().map_or(next_poll, |due| due.min(next_poll)));
            let renewing = self.keep_leases();
            if Instant::now() < next_poll && renewing.is_empty() {
                continue;
            }
            next_poll = (next_poll + self.timing.interval).max(Instant::now());
            let current = self.known(self.poll());
            let mut changed = moved(&applied, &current);
            // Dynamic secrets that need new credentials count as changed secrets.
            changed.extend(
                renewing
                    .iter()
                    .map(|name| format!("vault-dynamic://{name}")),
            );
            if changed.is_empty() {
                continue;
            }
            if let Some((set, polls)) = &mut rejected
                && moved(set, &current).is_empty()
                && renewing.is_empty()
            {
                *polls += 1;
                if *polls < RETRY_REJECTED_AFTER_POLLS {
                    continue;
                }
            }
            tracing::info!(
                references = %changed.join(", "),
                "a secret changed; waiting {}ms for related changes",
                self.timing.debounce.as_millis()
            );
            let seen = self.settle(current);
            if let Some(splay) = self.timing.splay {
                std::thread::sleep(random::duration_up_to(splay));
            }
            // Values whose version has not moved since they were read are not read again;
            // dynamic secrets due for new credentials are.
            let reuse: Reuse = cache
                .iter()
                .filter(|(reference, _)| {
                    seen.get(*reference)
                        .is_some_and(|version| applied.get(*reference) == Some(version))
                })
                .filter(|(reference, _)| {
                    !(reference.scheme == Scheme::VaultDynamic
                        && renewing.contains(&reference.target))
                })
                .map(|(reference, fetched)| (reference.clone(), fetched.clone()))
                .collect();
            match self.resolve(&reuse) {
                Ok((ready, fetched)) => {
                    applied.extend(seen);
                    self.adopt_leases(&fetched);
                    cache = fetched;
                    rejected = None;
                    let digest = digest(&ready);
                    if digest == last_digest {
                        tracing::info!("the new versions hold the same values: nothing to do");
                    } else {
                        last_digest = digest;
                        self.send(Event::Ready(Box::new(ready)));
                    }
                }
                Err(error) => {
                    tracing::error!(
                        "the changed secrets did not resolve and validate; the running program keeps its values: {error}"
                    );
                    rejected = Some((seen, 0));
                }
            }
        }
    }

    /// The quiet period: polls every `debounce` until nothing moved in one (at most
    /// [`MAX_QUIET_ROUNDS`] times), so a user name and a password rotated one after the other
    /// make one restart.
    fn settle(&mut self, mut seen: Known) -> Known {
        if self.timing.debounce.is_zero() {
            return seen;
        }
        for _ in 0..MAX_QUIET_ROUNDS {
            std::thread::sleep(self.timing.debounce);
            let again = self.known(self.poll());
            let moved = moved(&seen, &again);
            if moved.is_empty() {
                break;
            }
            tracing::info!(references = %moved.join(", "), "more secrets changed; waiting again");
            seen.extend(again);
        }
        seen
    }

    fn adopt_leases(&self, fetched: &Reuse) {
        if let Ok(mut keeper) = self.leases.lock() {
            keeper.adopt(fetched);
        }
    }

    fn lease_due(&self) -> Option<Instant> {
        self.leases.lock().ok()?.next_due()
    }

    /// Renews the leases due; the dynamic secrets that need new credentials.
    fn keep_leases(&self) -> std::collections::BTreeSet<String> {
        self.leases
            .lock()
            .map(|mut keeper| keeper.keep())
            .unwrap_or_default()
    }

    /// The one resolution path of every launch, reading only what `reuse` lacks.
    fn resolve(&self, reuse: &Reuse) -> Result<(Ready, Reuse), Error> {
        launch::resolve_for_program_reusing(&self.prepared, &self.settings, &self.extras, reuse)
    }

    fn poll(&self) -> Versions {
        runtime::block_on(async {
            Ok(poll::versions(&self.prepared, &self.settings, &self.extras).await)
        })
        .unwrap_or_default()
    }

    /// The versions known now; failures are logged (names and reasons, never values) and left
    /// out, so an outage is never a change.
    fn known(&mut self, versions: Versions) -> Known {
        let mut known = Known::new();
        let mut failures = Vec::new();
        for (reference, answer) in versions {
            match answer {
                Ok(version) => {
                    known.insert(reference, version);
                }
                Err(error) => failures.push(format!("{reference}: {error}")),
            }
        }
        self.metrics.polled(&known, failures.len());
        if let Some(first) = failures.first() {
            tracing::warn!(
                failed = failures.len(),
                "cannot poll every secret's version; the running program is kept: {first}"
            );
        }
        known
    }

    fn send(&mut self, event: Event) {
        // The main loop is gone only when the process is exiting.
        if self.events.send(event).is_ok() {
            let _ = self.wake.write_all(&[1]);
        }
    }
}

/// The references whose version in `now` differs from `before` (sorted, for the log).
fn moved(before: &Known, now: &Known) -> Vec<String> {
    let mut moved: Vec<String> = now
        .iter()
        .filter(|(reference, version)| before.get(*reference) != Some(*version))
        .map(|(reference, _)| reference.to_string())
        .collect();
    moved.sort();
    moved
}

/// SHA-256 of every variable (name and value) and every template value, length-prefixed so
/// no two different sets share an encoding. Compared, never logged.
pub fn digest(ready: &Ready) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for (name, value) in &ready.values {
        for bytes in [name.as_bytes(), value.expose()] {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
    }
    for value in &ready.extras {
        hasher.update((value.expose().len() as u64).to_le_bytes());
        hasher.update(value.expose());
    }
    hasher.finalize().into()
}

fn sleep_until(deadline: Instant) {
    let now = Instant::now();
    if deadline > now {
        std::thread::sleep(deadline - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretString;

    fn ready(values: &[(&str, &str)]) -> Ready {
        Ready {
            values: values
                .iter()
                .map(|(name, value)| (name.to_string(), SecretString::from(*value)))
                .collect(),
            extras: Vec::new(),
        }
    }

    #[test]
    fn the_digest_changes_with_any_value_and_not_by_regrouping_bytes() {
        let base = digest(&ready(&[("A", "one"), ("B", "two")]));
        assert_eq!(base, digest(&ready(&[("A", "one"), ("B", "two")])));
        assert_ne!(base, digest(&ready(&[("A", "one"), ("B", "three")])));
        // The same bytes split differently between names and values are another set.
        assert_ne!(
            digest(&ready(&[("A", "BC")])),
            digest(&ready(&[("AB", "C")]))
        );
    }

    #[test]
    fn only_versions_that_moved_count_and_a_failed_poll_is_no_change() {
        let reference =
            |text: &str| Reference::parse(text, std::path::Path::new("/")).expect("reference");
        let a = reference("vault://secret/app#a");
        let b = reference("vault://secret/app#b");
        let before: Known = [
            (a.clone(), Version::new("kv2:1")),
            (b.clone(), Version::new("kv2:1")),
        ]
        .into();
        // b could not be polled: left out, so not a change.
        let now: Known = [(a.clone(), Version::new("kv2:1"))].into();
        assert!(moved(&before, &now).is_empty());
        let now: Known = [(a.clone(), Version::new("kv2:2"))].into();
        assert_eq!(moved(&before, &now), [a.to_string()]);
        assert_eq!(format!("{:?}", Version::new("kv2:2")), "Version(..)");
    }
}
