//! `scan`: literal secrets in files, judged with the launcher's own grammar — a reference or
//! a placeholder is never a finding, a literal where the project declares a secret always is.
//!
//! [`source`] lists and reads the files (from [`git`] unless PATHs are named), [`exclude`]
//! drops those the repository's `.cronos-secrets-ignore` names, [`parallel`] spreads the rest
//! over the cores,
//! [`detect`] turns one file's text into [`Finding`]s, [`baseline`] removes accepted ones and
//! [`report`] prints them. Nothing here keeps or prints a value: findings carry a fingerprint.

pub mod assignment;
pub mod baseline;
pub mod category;
pub mod connection;
pub mod detect;
pub mod exclude;
pub mod finding;
pub mod fingerprint;
pub mod git;
pub mod judge;
pub mod keys;
pub mod kind;
pub mod kubernetes;
pub mod live;
pub mod mapping;
pub mod parallel;
pub mod position;
pub mod report;
pub mod rules;
pub mod source;
pub mod tokens;
pub mod value;
pub mod yaml_anchors;

use std::path::{Path, PathBuf};

pub use baseline::{Baseline, DEFAULT_BASELINE};
pub use detect::Rules;
pub use finding::{Example, Finding};
pub use source::{Selection, Skip};

use crate::problem::Problem;

/// Files larger than this are skipped (and named with --verbose): generated bundles and data,
/// not configuration.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

pub struct ScanOptions {
    pub selection: Selection,
    pub max_file_bytes: u64,
    /// `--baseline`; else [`DEFAULT_BASELINE`] in the root when it exists.
    pub baseline: Option<PathBuf>,
    /// False for `--update-baseline`, which replaces the baseline rather than applying it.
    pub apply_baseline: bool,
}

pub struct Outcome {
    /// Findings the baseline does not accept.
    pub findings: Vec<Finding>,
    /// Every finding, accepted or not (what `--update-baseline` writes).
    pub all: Vec<Finding>,
    /// Files passed over on purpose (binary, too large, not a regular file).
    pub skipped: Vec<(String, Skip)>,
    /// Files that could not be read, with why: the scan is incomplete.
    pub unreadable: Vec<(String, String)>,
    /// Files the ignore file excludes, with the line that does.
    pub excluded: Vec<(String, String)>,
    /// Documented example values, skipped on purpose.
    pub examples: Vec<Example>,
    /// Files scanned or skipped (not the excluded ones).
    pub files: usize,
    /// The baseline in effect, or where `--update-baseline` writes.
    pub baseline_path: PathBuf,
}

pub fn scan(options: &ScanOptions, rules: &Rules, cwd: &Path) -> Result<Outcome, Problem> {
    let sources = source::list(&options.selection, cwd, options.max_file_bytes)?;
    let exclusions = exclude::Exclusions::load(&sources.root)?;
    let mut excluded = Vec::new();
    let files: Vec<source::SourceFile> = sources
        .files
        .into_iter()
        .filter(|file| match exclusions.reason(&file.name, &sources.root) {
            Some(reason) => {
                excluded.push((file.name.clone(), reason));
                false
            }
            None => true,
        })
        .collect();
    let baseline_path = options
        .baseline
        .clone()
        .unwrap_or_else(|| sources.root.join(DEFAULT_BASELINE));
    let baseline =
        if options.apply_baseline && (options.baseline.is_some() || baseline_path.exists()) {
            Some(Baseline::load(&baseline_path)?)
        } else {
            None
        };
    let scanned = parallel::scan_files(&files, rules, options.max_file_bytes);
    let all = scanned.findings;
    let findings = match &baseline {
        Some(baseline) => all
            .iter()
            .filter(|f| !baseline.accepts(f))
            .cloned()
            .collect(),
        None => all.clone(),
    };
    Ok(Outcome {
        findings,
        all,
        skipped: scanned.skipped,
        unreadable: scanned.unreadable,
        excluded,
        examples: scanned.examples,
        files: scanned.files,
        baseline_path,
    })
}
