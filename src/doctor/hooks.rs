//! "Pre-commit hooks installed": `.pre-commit-config.yaml` at the top of the repository names
//! the scan hook (`cronos-secrets-scan`, from `.pre-commit-hooks.yaml`), pre-commit accepts the
//! file (when it is on PATH), and git's own `pre-commit` hook is installed, so that the scan
//! runs on every commit rather than only when someone remembers.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_yaml_ng::Value;

use super::row::Part;
use super::tools::{self, Ran};
use crate::bounded;
use crate::scan::git;
use crate::untrusted_text::escaped;

/// The id of the hook this repository ships (`.pre-commit-hooks.yaml`).
pub const HOOK_ID: &str = "cronos-secrets-scan";
const CONFIG_FILE: &str = ".pre-commit-config.yaml";

pub fn parts(cwd: &Path) -> Vec<Part> {
    let top = match git::top_level(cwd) {
        Ok(top) => top,
        Err(problem) => {
            return vec![Part::unknown(
                format!("not in a git work tree: {problem}"),
                "run doctor inside the repository's git work tree",
            )];
        }
    };
    vec![config_file(&top), git_hook(cwd)]
}

fn config_file(top: &Path) -> Part {
    let path = top.join(CONFIG_FILE);
    let fix = format!(
        "add the hook to {CONFIG_FILE} (repos: - repo: https://github.com/<owner>/cronos-secrets, hooks: - id: {HOOK_ID}; docs/scanning.md), then pre-commit install"
    );
    let text = match bounded::read_input_file(&path, bounded::INPUT_FILE_LIMIT) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) => return Part::fail(format!("{CONFIG_FILE}: cannot read it: {error}"), fix),
    };
    let document: Value = match serde_yaml_ng::from_str(&text) {
        Ok(document) => document,
        Err(error) => {
            return Part::fail(
                format!(
                    "{CONFIG_FILE}: not valid YAML: {}",
                    escaped(&error.to_string())
                ),
                "check the indentation and quoting near that line (pre-commit validate-config)",
            );
        }
    };
    let names_hook = document
        .get("repos")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|repo| repo.get("hooks")?.as_sequence())
        .flatten()
        .any(|hook| hook.get("id").and_then(Value::as_str) == Some(HOOK_ID));
    if !names_hook {
        return Part::fail(format!("{CONFIG_FILE}: no hook with id: {HOOK_ID}"), fix);
    }
    match tools::run("pre-commit", &["validate-config", CONFIG_FILE], top) {
        Ran::Done(output) if output.status.success() => Part::pass(format!(
            "{CONFIG_FILE}: names {HOOK_ID} (pre-commit validate-config accepts it)"
        )),
        Ran::Done(output) => Part::fail(
            format!(
                "{CONFIG_FILE}: pre-commit validate-config refuses it: {}",
                tools::first_lines(&output)
            ),
            "fix what pre-commit validate-config names",
        ),
        // Without pre-commit nothing runs the file's hooks: git's hook (the next part) calls it.
        Ran::Missing => Part::pass(format!("{CONFIG_FILE}: names {HOOK_ID}")),
        Ran::NotRun(error) => Part::unknown(
            format!("{CONFIG_FILE}: names {HOOK_ID}; pre-commit could not run: {error}"),
            "pre-commit validate-config .pre-commit-config.yaml",
        ),
    }
}

/// Git runs `hooks/pre-commit` (under `core.hooksPath` when set) if it is executable; the hook
/// `pre-commit install` writes names pre-commit, a hand-written one names cronos-secrets.
fn git_hook(cwd: &Path) -> Part {
    let fix =
        "pre-commit install (or a hook that runs cronos-secrets scan --staged, made executable)";
    let hook = match git::git(cwd, &["rev-parse", "--git-path", "hooks/pre-commit"]) {
        Ok(output) => cwd.join(String::from_utf8_lossy(&output).trim_end_matches('\n')),
        Err(problem) => {
            return Part::unknown(
                format!("where git looks for hooks is unknown: {problem}"),
                "git rev-parse --git-path hooks/pre-commit",
            );
        }
    };
    let shown = tools::shown(&hook, cwd);
    let metadata = match std::fs::metadata(&hook) {
        Ok(metadata) if metadata.is_file() => metadata,
        Ok(_) => return Part::fail(format!("{shown}: not a file"), fix),
        Err(_) => {
            return Part::fail(
                format!("git's pre-commit hook is not installed ({shown})"),
                fix,
            );
        }
    };
    if metadata.permissions().mode() & 0o111 == 0 {
        return Part::fail(
            format!("{shown}: not executable, so git skips it"),
            format!("chmod +x {shown}"),
        );
    }
    let text = bounded::read_input_file(&hook, bounded::INPUT_FILE_LIMIT)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    if text.contains("pre-commit") || text.contains("cronos-secrets") {
        Part::pass(format!("git's pre-commit hook is installed ({shown})"))
    } else {
        Part::fail(
            format!("{shown}: runs neither pre-commit nor cronos-secrets"),
            fix,
        )
    }
}
