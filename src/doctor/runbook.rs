//! "Disaster recovery plan documented": the runbook named in `checklist.runbook` (else one of
//! the usual names) is there and not empty. What it says is for people to review.

use std::path::{Path, PathBuf};

use super::row::Part;
use super::tools;
use crate::config::ChecklistSettings;

/// Where a repository usually keeps one.
const USUAL: [&str; 4] = [
    "RUNBOOK.md",
    "docs/runbook.md",
    "docs/disaster-recovery.md",
    "DISASTER_RECOVERY.md",
];

pub fn parts(settings: &ChecklistSettings, cwd: &Path) -> Vec<Part> {
    let fix = "write the recovery runbook (where the backups are, who holds the age identity, how to restore them, then rotate) and name it in checklist.runbook";
    let path: PathBuf = match &settings.runbook {
        Some(path) => cwd.join(path),
        None => match USUAL
            .iter()
            .map(|name| cwd.join(name))
            .find(|path| path.is_file())
        {
            Some(path) => path,
            None => {
                return vec![Part::unknown(
                    format!(
                        "no runbook is configured, and none of {} is here",
                        USUAL.join(", ")
                    ),
                    "name the recovery runbook in the config (checklist: runbook: docs/runbook.md), wherever it is kept",
                )];
            }
        },
    };
    let shown = tools::shown(&path, cwd);
    match std::fs::metadata(&path) {
        Ok(metadata) if metadata.is_file() && metadata.len() > 0 => {
            vec![Part::pass(format!("recovery runbook: {shown}"))]
        }
        Ok(metadata) if metadata.is_file() => vec![Part::fail(format!("{shown}: empty"), fix)],
        Ok(_) => vec![Part::fail(format!("{shown}: not a file"), fix)],
        Err(error) => vec![Part::fail(format!("{shown}: {error}"), fix)],
    }
}
