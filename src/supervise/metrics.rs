//! `--metrics-file FILE` of `run --watch` and `render --watch`: what the watcher's polls found
//! and how often the program restarted, rewritten (atomically, mode 0644: it holds no secret)
//! after each poll and each restart, for node exporter's textfile collector. The watcher and
//! the main loop both record here; the lock also orders their writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::backend::{Source, Version};
use crate::config::BackendKind;
use crate::metrics::{self, Family};
use crate::output;
use crate::problem::Problem;
use crate::reference::Reference;

/// Readable by the collector (often another user); it names references and version ids only.
const METRICS_MODE: u32 = 0o644;

/// A handle on the metrics of one watch; the default records nothing (no `--metrics-file`).
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<Mutex<Recorded>>>);

struct Recorded {
    file: PathBuf,
    /// The `watcher` label: the file's stem, so several watchers on one host (one file each in
    /// the collector's directory) never write the same series.
    watcher: String,
    configured: BackendKind,
    interval: Duration,
    polls: u64,
    poll_failures: u64,
    last_success: Option<SystemTime>,
    /// `None` for the sidecar, which has no program to restart.
    restarts: Option<u64>,
    /// Each reference's backend version id at its last successful poll (`None`: a digest).
    versions: BTreeMap<String, (Source, Option<String>)>,
    /// The last write failed: logged once until a write succeeds again.
    failing: bool,
}

impl Metrics {
    /// Writes the file once before anything runs, so a path that cannot be written stops the
    /// launch with its reason instead of a warning per poll.
    pub fn start(
        file: Option<&Path>,
        configured: BackendKind,
        interval: Duration,
        supervises_a_program: bool,
    ) -> Result<Metrics, Problem> {
        let Some(file) = file else {
            return Ok(Metrics::default());
        };
        let recorded = Recorded {
            file: file.to_path_buf(),
            watcher: file
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
            configured,
            interval,
            polls: 0,
            poll_failures: 0,
            last_success: None,
            restarts: supervises_a_program.then_some(0),
            versions: BTreeMap::new(),
            failing: false,
        };
        output::write_atomically(file, recorded.text().as_bytes(), METRICS_MODE).map_err(
            |error| {
                Problem::new("--metrics-file", error.to_string()).with_hint(
                    "give a file in a directory you may write to (node exporter's --collector.textfile.directory)",
                )
            },
        )?;
        Ok(Metrics(Some(Arc::new(Mutex::new(recorded)))))
    }

    /// One poll: the versions read and how many references could not be polled.
    pub fn polled<'a>(
        &self,
        versions: impl IntoIterator<Item = (&'a Reference, &'a Version)>,
        failures: usize,
    ) {
        self.update(|recorded| {
            recorded.polls += 1;
            if failures == 0 {
                recorded.last_success = Some(SystemTime::now());
            } else {
                recorded.poll_failures += 1;
            }
            for (reference, version) in versions {
                let source = Source::of(reference, recorded.configured);
                let id = version.backend_id().map(str::to_string);
                recorded
                    .versions
                    .insert(reference.to_string(), (source, id));
            }
        });
    }

    /// The program was started again with new values.
    pub fn restarted(&self) {
        self.update(|recorded| {
            if let Some(restarts) = &mut recorded.restarts {
                *restarts += 1;
            }
        });
    }

    fn update(&self, change: impl FnOnce(&mut Recorded)) {
        let Some(shared) = &self.0 else {
            return;
        };
        // A panic elsewhere while holding the lock leaves counts that are still counts.
        let mut recorded = shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut recorded);
        let written =
            output::write_atomically(&recorded.file, recorded.text().as_bytes(), METRICS_MODE);
        match written {
            Ok(()) => recorded.failing = false,
            Err(error) if !recorded.failing => {
                recorded.failing = true;
                tracing::warn!("cannot rewrite the --metrics-file: {error}");
            }
            Err(_) => {}
        }
    }
}

impl Recorded {
    fn text(&self) -> String {
        let watcher = [("watcher", self.watcher.as_str())];
        let mut last_success = Family::gauge(
            "cronos_secrets_watch_last_successful_poll_timestamp_seconds",
            "When a poll last read every watched secret's version (0 before the first).",
        );
        last_success.sample(
            &watcher,
            self.last_success.map_or(0.0, metrics::unix_seconds),
        );
        let mut interval = Family::gauge(
            "cronos_secrets_watch_poll_interval_seconds",
            "The time between polls (--interval).",
        );
        interval.sample(&watcher, self.interval.as_secs_f64());
        let mut polls = Family::counter(
            "cronos_secrets_watch_polls_total",
            "Polls of the watched secrets' versions.",
        );
        polls.sample(&watcher, self.polls as f64);
        let mut failures = Family::counter(
            "cronos_secrets_watch_poll_failures_total",
            "Polls in which at least one watched secret's version could not be read.",
        );
        failures.sample(&watcher, self.poll_failures as f64);
        let mut restarts = Family::counter(
            "cronos_secrets_watch_restarts_total",
            "Restarts of the program with changed secrets (run --watch).",
        );
        if let Some(count) = self.restarts {
            restarts.sample(&watcher, count as f64);
        }
        let mut versions = Family::gauge(
            "cronos_secrets_watch_secret_version_info",
            "Each watched reference's version at its last successful poll (empty where the backend keeps no version id); always 1.",
        );
        for (reference, (source, version)) in &self.versions {
            versions.sample(
                &[
                    ("watcher", self.watcher.as_str()),
                    ("reference", reference),
                    ("backend", source.as_str()),
                    ("version", version.as_deref().unwrap_or("")),
                ],
                1.0,
            );
        }
        metrics::render(&[last_success, interval, polls, failures, restarts, versions])
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::secret::SecretString;

    #[test]
    fn polls_failures_restarts_and_versions_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("api.prom");
        let metrics = Metrics::start(
            Some(&file),
            BackendKind::Vault,
            Duration::from_secs(30),
            true,
        )
        .unwrap();
        let text = || std::fs::read_to_string(&file).unwrap();
        assert!(text().contains(
            "cronos_secrets_watch_last_successful_poll_timestamp_seconds{watcher=\"api\"} 0\n"
        ));
        let root = Path::new("/");
        let vault = Reference::parse("vault://secret/app#password", root).unwrap();
        let env = Reference::parse("env://APP_TOKEN", root).unwrap();
        let kv = Version::new("kv2:secret/app:7");
        let digest = Version::of_value(&SecretString::from("planted-value"));
        metrics.polled([(&vault, &kv), (&env, &digest)], 0);
        metrics.polled([], 1);
        metrics.restarted();
        let text = text();
        for expected in [
            "cronos_secrets_watch_polls_total{watcher=\"api\"} 2\n",
            "cronos_secrets_watch_poll_failures_total{watcher=\"api\"} 1\n",
            "cronos_secrets_watch_restarts_total{watcher=\"api\"} 1\n",
            "cronos_secrets_watch_poll_interval_seconds{watcher=\"api\"} 30\n",
            "{watcher=\"api\",reference=\"vault://secret/app#password\",backend=\"vault\",version=\"7\"} 1\n",
            "{watcher=\"api\",reference=\"env://APP_TOKEN\",backend=\"env\",version=\"\"} 1\n",
        ] {
            assert!(text.contains(expected), "{expected} in\n{text}");
        }
        assert!(!text.contains("sha256"), "{text}");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn an_unwritable_file_stops_the_start() {
        let problem = Metrics::start(
            Some(Path::new("/nonexistent-dir/x.prom")),
            BackendKind::Vault,
            Duration::from_secs(1),
            false,
        )
        .err()
        .unwrap();
        assert!(problem.to_string().contains("--metrics-file"), "{problem}");
    }
}
