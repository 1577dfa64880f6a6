//! The launch plan: which variables the program gets, and from where, before anything is
//! fetched. Env files are read ([`env_files`]), precedence decides which value wins
//! ([`precedence`]), entries are expanded ([`graph`]) and inherited values scanned
//! ([`inherited`]); references are only collected.

mod dynamic_refs;
mod env_files;
mod graph;
mod inherited;
mod precedence;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::env_vars::Environment;
use crate::expand::{self, Piece};
use crate::problem::Problem;
use crate::reference::Reference;

/// Which env files to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvFiles {
    /// `.env.${CRONOS_AI_ENV:-production}` in the working directory, when it exists.
    Default,
    /// `--env-file`, in order; a later file wins over an earlier one.
    Explicit(Vec<PathBuf>),
    /// `--no-env-file`.
    Skip,
}

/// Where a variable's value was written down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The launcher's own environment.
    Process,
    EnvFile {
        path: PathBuf,
        line: usize,
    },
    /// A required secret found nowhere else, read from the configured backend by name.
    Backend,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Process => f.write_str("environment"),
            Origin::EnvFile { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Backend => f.write_str("backend"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlannedVar {
    pub name: String,
    pub origin: Origin,
    pub pieces: Vec<Piece>,
    /// Index into `Config::secrets` when this is a required secret's canonical variable.
    pub secret: Option<usize>,
    /// The alias it was found under (`DATABASE_PASSWORD` for `CRONOS_AI_DB_PASSWORD`).
    pub alias_of: Option<String>,
    /// `CRONOS_AI_JWT_SECRET_PREVIOUS`: the previous value of `Config::secrets[index]`,
    /// optional (absent until a rotation, and after `rotate --retire` or the grace period).
    pub previous_of: Option<usize>,
}

impl PlannedVar {
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        expand::references(&self.pieces)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Sorted by name.
    pub vars: Vec<PlannedVar>,
    /// Required secrets (indexes into `Config::secrets`) that no source provides.
    pub missing: Vec<usize>,
    /// `KEY` lines without a value: passed through from the launcher's environment.
    pub inherited: Vec<String>,
    /// Every key the env files define, including those the environment overrides and `KEY`
    /// lines: the names `export` writes besides the required secrets. Sorted.
    pub env_file_keys: Vec<String>,
}

pub struct PlanRequest<'a> {
    pub config: &'a Config,
    pub env: &'a Environment,
    pub env_files: &'a EnvFiles,
    /// `--override`: env files win over the process environment.
    pub override_env: bool,
    pub working_dir: &'a Path,
    /// `run --keep-launcher-env`: entries may refer to the launcher's credentials.
    pub keep_launcher_env: bool,
    /// Resolve references in inherited values (off with `--no-resolve-env`).
    pub resolve_inherited: bool,
}

/// Builds the plan, reporting every problem found (not just the first).
pub fn build(request: &PlanRequest) -> Result<Plan, Vec<Problem>> {
    let files = env_files::read(request)?;
    let precedence::FileWinners {
        winners,
        pass_through,
        keys,
    } = precedence::file_winners(files, request);
    let declared = inherited::declared_variables(request.config);
    let mut problems = Vec::new();
    let mut vars = graph::expand_entries(&winners, request, &declared, &mut problems);
    inherited::plan_inherited(request, &declared, &mut vars, &mut problems);
    dynamic_refs::refuse_undeclared(vars.values(), request.config, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let missing = precedence::bind_required_secrets(request, &mut vars);
    Ok(Plan {
        vars: vars.into_values().collect(),
        missing,
        inherited: pass_through,
        env_file_keys: keys.into_iter().collect(),
    })
}

fn planned(name: &str, origin: Origin, pieces: Vec<Piece>) -> PlannedVar {
    PlannedVar {
        name: name.to_string(),
        origin,
        pieces,
        secret: None,
        alias_of: None,
        previous_of: None,
    }
}
