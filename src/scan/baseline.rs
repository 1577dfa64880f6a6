//! Accepted findings, keyed by file, rule and value fingerprint — not by line, so editing a
//! file above a known finding does not make it new again.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::finding::Finding;
use crate::bounded::{self, INPUT_FILE_LIMIT};
use crate::output;
use crate::problem::Problem;

/// Looked for at the top of the repository (or the current directory) when `--baseline` is
/// not given.
pub const DEFAULT_BASELINE: &str = ".cronos-secrets-baseline.json";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Accepted {
    pub path: String,
    pub rule: String,
    pub fingerprint: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    version: u32,
    #[serde(default)]
    comment: String,
    findings: BTreeSet<Accepted>,
}

#[derive(Debug, Default)]
pub struct Baseline {
    accepted: BTreeSet<Accepted>,
}

fn key(finding: &Finding) -> Accepted {
    Accepted {
        path: finding.path.clone(),
        rule: finding.rule.to_string(),
        fingerprint: finding.fingerprint.clone(),
    }
}

impl Baseline {
    /// Read as every input is: a regular file (symlinks followed) of at most 16 MiB, opened
    /// without blocking, so a FIFO or `/dev/zero` committed as the baseline cannot hang or
    /// bloat the hook.
    pub fn load(path: &Path) -> Result<Baseline, Problem> {
        let bytes = bounded::read_regular_file(path, INPUT_FILE_LIMIT).map_err(|error| {
            let hint = error.hint().unwrap_or_else(|| "check the path".to_string());
            Problem::new(
                path.display().to_string(),
                format!("cannot read the scan baseline: {error}"),
            )
            .with_hint(format!(
                "{hint}; create one with `cronos-secrets scan --update-baseline`"
            ))
        })?;
        let file: File = serde_json::from_slice(&bytes).map_err(|error| {
            Problem::new(
                format!("{}:{}", path.display(), error.line()),
                format!("not a scan baseline: {error}"),
            )
            .with_hint("regenerate it with `cronos-secrets scan --update-baseline`")
        })?;
        Ok(Baseline {
            accepted: file.findings,
        })
    }

    pub fn accepts(&self, finding: &Finding) -> bool {
        self.accepted.contains(&key(finding))
    }

    pub fn write(path: &Path, findings: &[Finding]) -> Result<(), Problem> {
        let file = File {
            version: 1,
            comment: "Accepted cronos-secrets scan findings (file, rule, value fingerprint); regenerate with `cronos-secrets scan --update-baseline`".to_string(),
            findings: findings.iter().map(key).collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("baseline serializes");
        text.push('\n');
        refuse_to_replace(path)?;
        // Staged beside the destination and renamed over it, as `-o` writes; 0644 because
        // the baseline is meant to be committed (it holds fingerprints, never values).
        output::write_atomically(path, text.as_bytes(), 0o644).map_err(|error| {
            Problem::new(path.display().to_string(), error.to_string())
                .with_hint("check that the directory exists and is writable")
        })
    }
}

/// The default baseline is a file the repository provides, so a clone or a pull request
/// chooses what it is: only a regular file (or nothing) is replaced. A symlink is refused
/// rather than replaced, so that its owner learns the repository was set up to write
/// elsewhere.
fn refuse_to_replace(path: &Path) -> Result<(), Problem> {
    let kind = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata.file_type(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(Problem::new(
                path.display().to_string(),
                format!("cannot check the scan baseline: {error}"),
            ));
        }
    };
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    };
    Err(Problem::new(
        path.display().to_string(),
        format!("refusing to write the scan baseline: it is {what}, and only a regular file is replaced"),
    )
    .with_hint(
        "remove it (`git rm` if the repository commits it) and run `cronos-secrets scan --update-baseline` again, or pass --baseline FILE",
    ))
}
