//! "Access controls configured", for what lives on this machine: each env file that holds a
//! declared secret's value (not a reference or a placeholder) is kept out of git (not
//! tracked, and ignored so that `git add .` cannot take it) and is readable by its owner only.
//! Files holding only references are what the README recommends, and may be committed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::row::Part;
use crate::config::Config;
use crate::env_vars::{self, Environment};
use crate::envfile::{self, Value};
use crate::placeholder::{self, Segment, Syntax};
use crate::plan::EnvFiles;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::scan::git;
use crate::scan::keys::Declared;
use crate::untrusted_text::escaped;

/// Names of env files that are templates by convention, meant to be committed.
const TEMPLATE_SUFFIXES: [&str; 4] = [".example", ".sample", ".template", ".dist"];

pub fn parts(config: &Config, env_files: &EnvFiles, env: &Environment, cwd: &Path) -> Vec<Part> {
    let declared = Declared::new(&config.secrets);
    let in_git = git::top_level(cwd).is_ok();
    let mut parts = Vec::new();
    for path in candidates(env_files, env, cwd) {
        let shown = escaped(&path.display().to_string());
        let Ok(bytes) =
            crate::bounded::read_input_file(&cwd.join(&path), crate::bounded::INPUT_FILE_LIMIT)
        else {
            continue;
        };
        let holding = holds_values(&String::from_utf8_lossy(&bytes), &declared);
        if holding.is_empty() {
            continue;
        }
        let what = format!("{shown} holds the value of {}", holding.join(", "));
        let git_state = if in_git {
            is_tracked(cwd, &path).and_then(|tracked| Ok((tracked, is_ignored(cwd, &path)?)))
        } else {
            Err(Problem::new("git", "not a git work tree"))
        };
        match git_state {
            Err(problem) => parts.push(Part::unknown(
                format!("{what}; whether git tracks or ignores it is unknown: {problem}"),
                "run doctor inside the repository's git work tree",
            )),
            Ok((true, _)) => parts.push(Part::fail(
                format!("{what}, and git tracks it"),
                format!("git rm --cached {shown}, add it to .gitignore, and rotate every secret it held (it is in the history)"),
            )),
            Ok((false, false)) => parts.push(Part::fail(
                format!("{what}, and .gitignore does not exclude it"),
                format!("add {shown} to .gitignore, so that git add cannot take it"),
            )),
            Ok((false, true)) => {
                parts.push(Part::pass(format!("{what}: not tracked, ignored by git")))
            }
        }
        match std::fs::metadata(cwd.join(&path)) {
            Ok(metadata) if metadata.permissions().mode() & 0o077 != 0 => parts.push(Part::fail(
                format!(
                    "{shown}: mode {:04o}: group or others may read it",
                    metadata.permissions().mode() & 0o7777
                ),
                format!("chmod 600 {shown}"),
            )),
            Ok(metadata) => parts.push(Part::pass(format!(
                "{shown}: mode {:04o}",
                metadata.permissions().mode() & 0o7777
            ))),
            Err(_) => {}
        }
    }
    if parts.is_empty() {
        parts.push(Part::pass(
            "no env file here holds a secret's value (references and placeholders only)",
        ));
    }
    parts
}

/// The launch's env files, then every `.env` and `.env.*` in the working directory.
fn candidates(env_files: &EnvFiles, env: &Environment, cwd: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = match env_files {
        EnvFiles::Default => vec![PathBuf::from(format!(".env.{}", env_vars::app_env(env)))],
        EnvFiles::Explicit(paths) => paths.clone(),
        EnvFiles::Skip => Vec::new(),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(cwd)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| PathBuf::from(entry.file_name()))
        .filter(|name| {
            let name = name.to_string_lossy();
            (name == ".env" || name.starts_with(".env."))
                && !TEMPLATE_SUFFIXES
                    .iter()
                    .any(|suffix| name.ends_with(suffix))
        })
        .collect();
    found.sort();
    for path in found {
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    paths
}

/// The declared secrets' variables whose value in `text` is written out: a literal, not a
/// reference, a `${VAR}` placeholder or an empty value. Names only, never values.
fn holds_values(text: &str, declared: &Declared) -> Vec<String> {
    let Ok(entries) = envfile::parse(text) else {
        // A file the launch cannot parse is `check`'s to report; read line by line here would
        // be a second parser.
        return Vec::new();
    };
    entries
        .into_iter()
        .filter(|entry| declared.get(&entry.key).is_some())
        .filter(|entry| match &entry.value {
            Value::Inherit => false,
            Value::Literal(text) => is_written_value(text),
            Value::Interpolated(text) => match placeholder::parse(text, Syntax::EnvFile) {
                Ok(segments) => segments.iter().any(
                    |segment| matches!(segment, Segment::Literal(text) if is_written_value(text)),
                ),
                Err(_) => true,
            },
        })
        .map(|entry| entry.key)
        .collect()
}

fn is_written_value(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty() && !Reference::is_reference(text)
}

fn is_tracked(cwd: &Path, path: &Path) -> Result<bool, Problem> {
    let path = path.to_string_lossy();
    Ok(!git::git(cwd, &["ls-files", "-z", "--", &path])?.is_empty())
}

/// Untracked and excluded by `.gitignore`, `.git/info/exclude` or the user's excludes file.
fn is_ignored(cwd: &Path, path: &Path) -> Result<bool, Problem> {
    let path = path.to_string_lossy();
    let listed = git::git(
        cwd,
        &[
            "ls-files",
            "-z",
            "--others",
            "--ignored",
            "--exclude-standard",
            "--",
            &path,
        ],
    )?;
    Ok(!listed.is_empty())
}
