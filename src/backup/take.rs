//! Reading a backup's secrets: one batch through the launcher's audited read path
//! ([`SecretsManager::fetch_each`]), then a second for the previous values `rotate` kept, as a
//! launch reads them (the version the current one names, where it names one).

use std::time::SystemTime;

use super::layout::{self, Backup, Entry, Previous, Value};
use super::select::Wanted;
use crate::api::{Backing, FailureKind, SecretsManager};
use crate::backend::{Source, utc};
use crate::config::BackendKind;
use crate::error::Error;
use crate::plan::Plan;
use crate::problem::Problem;

/// Reads every wanted secret into a backup of `backend`; fails, naming each secret, unless
/// every one was read (an optional one the backend does not have is left out).
pub async fn take(
    manager: &SecretsManager,
    backend: BackendKind,
    plan: &Plan,
    wanted: &[Wanted],
) -> Result<Backup, Error> {
    let references: Vec<_> = wanted.iter().map(|one| one.reference.clone()).collect();
    let reads = manager.fetch_each(&references, plan, Backing::Kept).await?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut previous_wanted = Vec::new();
    for (one, read) in wanted.iter().zip(reads) {
        let fetched = match read {
            Ok(fetched) => fetched,
            Err(failure) if one.optional && failure.kind == FailureKind::NotFound => continue,
            Err(failure) => {
                problems.extend_from_slice(failure.problems());
                continue;
            }
        };
        let value = match Value::of(&one.name, &fetched.value) {
            Ok(value) => value,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let metadata = &fetched.metadata;
        if one.keeps_previous && metadata.previous_kept {
            let slot = Source::from(backend).layout().previous_reference(&one.name);
            if let Some(mut slot) = slot {
                if let Some(version) = &metadata.previous_version {
                    slot.params.insert("version".to_string(), version.clone());
                }
                previous_wanted.push((entries.len(), slot));
            }
        }
        entries.push(Entry {
            name: one.name.clone(),
            reference: one.reference.to_string(),
            value,
            version: metadata.version.clone(),
            created: metadata.updated.map(utc),
            previous: None,
        });
    }
    if !problems.is_empty() {
        return Err(Error::Problems(problems));
    }
    if !previous_wanted.is_empty() {
        let slots: Vec<_> = previous_wanted
            .iter()
            .map(|(_, slot)| slot.clone())
            .collect();
        let reads = manager
            .fetch_many(&slots, &Plan::default(), Backing::Kept)
            .await?;
        for ((index, _), fetched) in previous_wanted.into_iter().zip(reads) {
            let entry = &mut entries[index];
            entry.previous = Some(Previous {
                value: Value::of(&entry.name, &fetched.value)?,
                version: fetched.metadata.version,
            });
        }
    }
    Ok(Backup {
        format: layout::FORMAT.to_string(),
        version: layout::VERSION,
        created: utc(SystemTime::now()),
        backend: backend.as_str().to_string(),
        secrets: entries,
    })
}

/// A backup that holds nothing is a mistake (a wrong config, an empty table), not a backup.
pub fn refuse_empty(backup: &Backup) -> Result<(), Problem> {
    if backup.secrets.is_empty() {
        return Err(Problem::new("backup", "the deployment uses no secret held in a secret store: nothing to back up")
            .with_hint("check --config and --env-file: the required-secrets table and references such as secret://NAME are what a backup holds"));
    }
    Ok(())
}
