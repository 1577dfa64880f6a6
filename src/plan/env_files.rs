//! Reading the env files a launch names: in order, each entry with its file and line.

use std::path::{Path, PathBuf};

use super::{EnvFiles, PlanRequest};
use crate::bounded;
use crate::env_vars;
use crate::envfile::{self, Value};
use crate::problem::Problem;

/// One entry of an env file, where it was written.
pub(super) struct FileEntry {
    pub(super) path: PathBuf,
    /// The file's directory: `file://` references in it are relative to it.
    pub(super) dir: PathBuf,
    pub(super) line: usize,
    pub(super) value: Value,
}

/// Every entry of every env file, in order (a later one wins); every problem at once.
pub(super) fn read(request: &PlanRequest) -> Result<Vec<(String, FileEntry)>, Vec<Problem>> {
    let paths = match request.env_files {
        EnvFiles::Skip => {
            tracing::info!("no env file read (--no-env-file)");
            return Ok(Vec::new());
        }
        EnvFiles::Explicit(paths) => paths.clone(),
        EnvFiles::Default => {
            let default = request
                .working_dir
                .join(format!(".env.{}", env_vars::app_env(request.env)));
            if !default.is_file() {
                tracing::info!(
                    "no env file read: {} does not exist (.env.${{CRONOS_AI_ENV:-production}}); pass --env-file FILE to read another",
                    default.display()
                );
                return Ok(Vec::new());
            }
            vec![PathBuf::from(format!(
                ".env.{}",
                env_vars::app_env(request.env)
            ))]
        }
    };
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let absolute = request.working_dir.join(&path);
        let text = match bounded::read_input_file(&absolute, bounded::INPUT_FILE_LIMIT) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    problems.push(Problem::new(
                        path.display().to_string(),
                        "not valid UTF-8 text",
                    ));
                    continue;
                }
            },
            Err(error) => {
                problems.push(
                    Problem::new(
                        path.display().to_string(),
                        format!("cannot read the env file: {error}"),
                    )
                    .with_hint("check the --env-file path, or pass --no-env-file"),
                );
                continue;
            }
        };
        match envfile::parse(&text) {
            Ok(parsed) => {
                tracing::info!("env file {} ({} entries)", path.display(), parsed.len());
                let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
                for entry in parsed {
                    entries.push((
                        entry.key,
                        FileEntry {
                            path: path.clone(),
                            dir: dir.clone(),
                            line: entry.line,
                            value: entry.value,
                        },
                    ));
                }
            }
            Err(error) => problems.push(Problem::new(
                format!("{}:{}", path.display(), error.line()),
                error.to_string(),
            )),
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}
