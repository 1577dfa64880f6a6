//! "All secrets removed from code": `scan` of the files git tracks, with the config's declared
//! secrets and the repository's baseline, as the pre-commit hook and CI run it.

use std::path::Path;

use super::row::Part;
use super::tools;
use crate::config::Config;
use crate::scan::keys::Declared;
use crate::scan::{self, Rules, ScanOptions, Selection};
use crate::untrusted_text::escaped;

/// Findings named in the row; the rest are counted (`scan` lists them all).
const NAMED: usize = 10;

pub fn parts(config: &Config, cwd: &Path) -> Vec<Part> {
    let options = ScanOptions {
        selection: Selection::Tracked,
        max_file_bytes: scan::DEFAULT_MAX_FILE_BYTES,
        baseline: None,
        apply_baseline: true,
    };
    let rules = Rules {
        declared: Declared::new(&config.secrets),
        live: Default::default(),
    };
    let outcome = match scan::scan(&options, &rules, cwd) {
        Ok(outcome) => outcome,
        Err(problem) => {
            return vec![Part::unknown(
                format!("the tracked files were not scanned: {problem}"),
                "run doctor inside the repository's git work tree (the scan reads what git tracks)",
            )];
        }
    };
    let mut parts = Vec::new();
    for finding in outcome.findings.iter().take(NAMED) {
        // A path is the repository's text: escaped, so that it cannot forge our lines.
        parts.push(Part::fail(
            format!(
                "{}:{}:{}: {} [{}]",
                escaped(&finding.path),
                finding.line,
                finding.column,
                finding.category.id(),
                finding.rule
            ),
            "replace each value with a reference (secret://NAME, vault://…, aws-sm://…) or a ${VAR} placeholder, and rotate any secret that was ever pushed (cronos-secrets scan lists every finding)",
        ));
    }
    if outcome.findings.len() > NAMED {
        parts.push(Part::fail(
            format!("and {} more finding(s)", outcome.findings.len() - NAMED),
            "cronos-secrets scan lists every finding",
        ));
    }
    for (path, why) in &outcome.unreadable {
        parts.push(Part::fail(
            format!("{}: cannot read it: {why}", escaped(path)),
            "make the file readable by this user: an unread file is never passed as clean",
        ));
    }
    if parts.is_empty() {
        let accepted = outcome.all.len() - outcome.findings.len();
        let accepted = match accepted {
            0 => String::new(),
            count => format!(
                " ({count} accepted by {})",
                tools::shown(&outcome.baseline_path, cwd)
            ),
        };
        parts.push(Part::pass(format!(
            "scan: no literal secret in the {} tracked file(s){accepted}",
            outcome.files
        )));
    }
    parts
}
