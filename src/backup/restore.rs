//! Writing a backup's secrets back through `set`'s path: every value is checked against the
//! target's table before anything is written, a secret already equal gets no new version, a
//! missing one is created. Each write stands alone, so a run cut short is finished by running
//! it again.

use std::fmt;
use std::path::Path;

use super::layout::{Backup, Entry};
use crate::api::{Backing, FailureKind, SecretsManager};
use crate::backend::{Source, StoreOptions};
use crate::config::BackendKind;
use crate::error::Error;
use crate::plan::Plan;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::secret::SecretString;
use crate::stderr::errln;

/// What restore did (or, with `--dry-run`, would do) to one secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// Why it was not written: the message and hint, never a value.
    Refused(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Created => f.write_str("created"),
            Outcome::Updated => f.write_str("updated"),
            Outcome::Unchanged => f.write_str("unchanged"),
            Outcome::Refused(_) => f.write_str("refused"),
        }
    }
}

/// One secret's line of the report.
pub struct Report {
    pub name: String,
    pub reference: Reference,
    pub outcome: Outcome,
}

/// The entries `only` names (all when empty); a name the backup lacks is an error.
pub fn select<'a>(
    backup: &'a Backup,
    only: &[String],
    file: &str,
) -> Result<Vec<&'a Entry>, Problem> {
    let unknown: Vec<&str> = only
        .iter()
        .filter(|name| !backup.secrets.iter().any(|entry| &entry.name == *name))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let held: Vec<&str> = backup
            .secrets
            .iter()
            .map(|entry| entry.name.as_str())
            .collect();
        return Err(Problem::new(
            file,
            format!(
                "--only names secrets the backup does not hold: {}",
                unknown.join(", ")
            ),
        )
        .with_hint(format!("it holds: {}", held.join(", "))));
    }
    Ok(backup
        .secrets
        .iter()
        .filter(|entry| only.is_empty() || only.contains(&entry.name))
        .collect())
}

/// How restore writes.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Report what would be written; write nothing.
    pub dry_run: bool,
    /// `set --force`: a value well known to be weak is written too.
    pub force: bool,
}

/// One value to write: an entry's current value, or the previous value it keeps.
struct Item {
    name: String,
    reference: Reference,
    value: SecretString,
}

/// What restore writes for `entries` into a `backend`: each current value, then, where the
/// previous slot is a field of the same secret (Vault's `#previous`, which is also the mark
/// that one is kept), the previous value. Elsewhere the mark is rotate's own write (an AWS
/// staging label, a Key Vault tag): the previous value stays in the backup, said on stderr.
fn items(entries: &[&Entry], backend: BackendKind) -> Result<Vec<Item>, Vec<Problem>> {
    let base = std::env::current_dir().unwrap_or_else(|_| Path::new("/").to_path_buf());
    let layout = Source::from(backend).layout();
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        let reference = match Reference::parse(&entry.reference, &base) {
            Ok(reference) => reference,
            Err(error) => {
                problems.push(
                    Problem::new(&entry.name, format!("the backup's reference {:?} is not valid: {error}", entry.reference))
                        .with_hint("fix the reference in the backup's JSON (docs/backup.md), or leave it out with --only"),
                );
                continue;
            }
        };
        let named = reference == Reference::named_secret(&entry.name);
        items.push(Item {
            name: entry.name.clone(),
            reference,
            value: entry.value.secret(),
        });
        let Some(previous) = &entry.previous else {
            continue;
        };
        match layout.previous_reference(&entry.name) {
            Some(slot) if named && !layout.previous_costs_a_read() => items.push(Item {
                name: format!("{} (previous)", entry.name),
                reference: slot,
                value: previous.value.secret(),
            }),
            _ => errln!(
                "cronos-secrets: {}: its previous value (version {}) stays in the backup: only rotate marks one kept on the {backend} backend",
                entry.name,
                previous.version.as_deref().unwrap_or("-")
            ),
        }
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(problems)
    }
}

/// Restores `entries` into `target`, whose configured backend is `backend`: all checked first
/// (nothing is written when one is refused), then compared with what is there, then written
/// one by one.
pub async fn restore(
    target: &SecretsManager,
    backend: BackendKind,
    entries: &[&Entry],
    options: Options,
) -> Result<Vec<Report>, Error> {
    let mut items = items(entries, backend).map_err(Error::Problems)?;
    let mut problems = Vec::new();
    for item in &items {
        if let Err(failure) =
            target.check_new_value(&item.name, &item.reference, &item.value, options.force)
        {
            problems.extend_from_slice(failure.problems());
        }
    }
    if !problems.is_empty() {
        problems.push(
            Problem::new(
                "restore",
                "nothing was written: every value is checked before the first write",
            )
            .with_hint("fix the table (--to-config) or leave these secrets out with --only"),
        );
        return Err(Error::Problems(problems));
    }
    let references: Vec<Reference> = items.iter().map(|item| item.reference.clone()).collect();
    let current = target
        .fetch_each(&references, &Plan::default(), Backing::Kept)
        .await?;
    let mut reports = Vec::new();
    for (item, current) in items.drain(..).zip(current) {
        let planned = match current {
            Ok(fetched) if fetched.value == item.value => Outcome::Unchanged,
            Ok(_) => Outcome::Updated,
            Err(failure) if failure.kind == FailureKind::NotFound => Outcome::Created,
            Err(failure) => Outcome::Refused(failure.to_string()),
        };
        let outcome = match planned {
            Outcome::Created | Outcome::Updated if !options.dry_run => {
                let options = StoreOptions {
                    create: planned == Outcome::Created,
                };
                match target
                    .store(&item.reference, &item.value, options, Backing::Kept)
                    .await
                {
                    Ok(_) => planned,
                    Err(failure) => Outcome::Refused(failure.to_string()),
                }
            }
            other => other,
        };
        reports.push(Report {
            name: item.name,
            reference: item.reference,
            outcome,
        });
    }
    Ok(reports)
}
