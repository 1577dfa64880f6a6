//! Accepted findings, keyed by file, rule and value fingerprint — not by line, so editing a
//! file above a known finding does not make it new again.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::finding::Finding;
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
    pub fn load(path: &Path) -> Result<Baseline, Problem> {
        let text = fs_err::read_to_string(path).map_err(|error| {
            Problem::new(path.display().to_string(), error.to_string())
                .with_hint("create it with `cronos-secrets scan --update-baseline`")
        })?;
        let file: File = serde_json::from_str(&text).map_err(|error| {
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
        fs_err::write(path, text).map_err(|error| {
            Problem::new(path.display().to_string(), error.to_string())
                .with_hint("check that the directory exists and is writable")
        })
    }
}
