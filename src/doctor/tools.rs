//! The outside programs doctor asks when they are installed (pre-commit, promtool), and how
//! their words reach a row: escaped, a few lines only.

use std::io;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::untrusted_text::escaped;

pub enum Ran {
    /// Not on PATH.
    Missing,
    NotRun(io::Error),
    Done(Output),
}

/// Runs `program args` in `dir`, stdin closed.
pub fn run(program: &str, args: &[&str], dir: &Path) -> Ran {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) => Ran::Done(output),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ran::Missing,
        Err(error) => Ran::NotRun(error),
    }
}

/// The first lines a program printed (stderr, else stdout), joined, escaped.
pub fn first_lines(output: &Output) -> String {
    let text = if output.stderr.iter().any(|byte| !byte.is_ascii_whitespace()) {
        &output.stderr
    } else {
        &output.stdout
    };
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .take(4)
        .collect();
    escaped(&lines.join(" / "))
}

/// A path for a row: relative to the working directory when under it (as the config names
/// it), escaped, since file names are the repository's text.
pub fn shown(path: &Path, cwd: &Path) -> String {
    let relative = path.strip_prefix(cwd).unwrap_or(path);
    escaped(&relative.display().to_string())
}
