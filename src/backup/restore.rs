//! Writing a backup's secrets back through `set`'s path: every value is checked against the
//! target's table before anything is written, a secret already equal gets no new version, a
//! missing one is created. Each write stands alone, so a run cut short is finished by running
//! it again.

use std::fmt;
use std::path::Path;

use super::layout::{Backup, Entry};
use crate::api::{FailureKind, SecretsManager};
use crate::backend::StoreOptions;
use crate::error::Error;
use crate::plan::Plan;
use crate::problem::Problem;
use crate::reference::Reference;

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

/// Restores `entries` into `target`'s backend: all checked first (nothing is written when one
/// is refused), then compared with what is there, then written one by one.
pub async fn restore(
    target: &SecretsManager,
    entries: &[&Entry],
    dry_run: bool,
) -> Result<Vec<Report>, Error> {
    let base = std::env::current_dir().unwrap_or_else(|_| Path::new("/").to_path_buf());
    let mut references = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        match Reference::parse(&entry.reference, &base) {
            Ok(reference) => {
                if let Err(failure) = target.check_new_value(&entry.name, &reference, &entry.value.secret(), false) {
                    problems.extend_from_slice(failure.problems());
                }
                references.push(reference);
            }
            Err(error) => problems.push(
                Problem::new(&entry.name, format!("the backup's reference {:?} is not valid: {error}", entry.reference))
                    .with_hint("fix the reference in the backup's JSON (docs/backup.md), or leave it out with --only"),
            ),
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
    let current = target.fetch_each(&references, &Plan::default()).await?;
    let mut reports = Vec::new();
    for ((entry, reference), current) in entries.iter().zip(references).zip(current) {
        let value = entry.value.secret();
        let planned = match current {
            Ok(fetched) if fetched.value == value => Outcome::Unchanged,
            Ok(_) => Outcome::Updated,
            Err(failure) if failure.kind == FailureKind::NotFound => Outcome::Created,
            Err(failure) => Outcome::Refused(failure.to_string()),
        };
        let outcome = match planned {
            Outcome::Created | Outcome::Updated if !dry_run => {
                let options = StoreOptions {
                    create: planned == Outcome::Created,
                };
                match target.store(&reference, &value, options).await {
                    Ok(_) => planned,
                    Err(failure) => Outcome::Refused(failure.to_string()),
                }
            }
            other => other,
        };
        reports.push(Report {
            name: entry.name.clone(),
            reference,
            outcome,
        });
    }
    Ok(reports)
}
