//! The path every command shares: config → plan → fetch → validate.
//!
//! Async is confined to [`resolve_and_validate`]: it builds a current-thread runtime and drops
//! it before returning, so exec happens in a plain single-threaded process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{self, Config};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::plan::{self, EnvFiles, Plan, PlanRequest};
use crate::problem::Problem;
use crate::resolve::{
    self, FetchOptions, PlaceholderValue, Resolution, ResolvedPlaceholder, ResolvedVar, Reuse,
};
use crate::runtime;
use crate::secret::SecretString;
use crate::validate::{self, Finding, Severity};

/// Everything that decides what a launch resolves.
#[derive(Debug, Clone)]
pub struct LaunchSettings {
    pub config_path: Option<PathBuf>,
    pub env_files: EnvFiles,
    pub override_env: bool,
    pub strict: bool,
    pub timeout: Duration,
    /// Random delay up to this before the first request to a secrets server.
    pub jitter: Option<Duration>,
    /// `--revoke-token`: same as `vault_revoke_token: true`.
    pub revoke_token: bool,
    /// `run --keep-launcher-env`: the launcher's credentials may reach the program.
    pub keep_launcher_env: bool,
    /// Resolve references in inherited values (`--no-resolve-env` turns it off).
    pub resolve_inherited: bool,
}

/// The config a command runs with: the file (or built-in), overrides, then flags.
pub fn load_config(settings: &LaunchSettings, env: &Environment) -> Result<Config, Error> {
    let path = config::locate(settings.config_path.as_deref(), env);
    let mut config = config::load(path.as_deref(), env)?;
    config.vault.revoke_token |= settings.revoke_token;
    // At -v: which config a launch used is otherwise guesswork (a wrong CRONOS_AI_ENV, a run
    // from the wrong directory).
    let backend = crate::backend::Source::from(config.backend);
    match &path {
        Some(path) => tracing::info!("config file {}, {backend} backend", path.display()),
        None => tracing::info!(
            "no config file (no --config or CRONOS_SECRETS_CONFIG, and no config/cronos_ai.{}.yaml here): built-in defaults, {backend} backend",
            crate::env_vars::app_env(env)
        ),
    }
    Ok(config)
}

/// The config and the plan: what would be fetched, from where. No I/O beyond reading files.
pub struct Prepared {
    pub config: Config,
    pub plan: Plan,
    pub env: Environment,
}

pub fn prepare(
    settings: &LaunchSettings,
    env: Environment,
    working_dir: &Path,
) -> Result<Prepared, Error> {
    let config = load_config(settings, &env)?;
    let plan = plan::build(&PlanRequest {
        config: &config,
        env: &env,
        env_files: &settings.env_files,
        override_env: settings.override_env,
        working_dir,
        keep_launcher_env: settings.keep_launcher_env,
        resolve_inherited: settings.resolve_inherited,
    })?;
    Ok(Prepared { config, plan, env })
}

pub struct Outcome {
    pub resolved: Vec<ResolvedVar>,
    pub findings: Vec<Finding>,
    /// The extras asked for (template placeholders), in order.
    pub extras: Vec<ResolvedPlaceholder>,
    /// Every reference answered (see [`resolve::Reuse`]).
    pub fetched: Reuse,
}

impl Outcome {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|finding| finding.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|finding| finding.severity == Severity::Warning)
    }
}

/// Fetches every reference and validates the result; emits one audit event per secret read.
pub fn resolve_and_validate(
    prepared: &Prepared,
    settings: &LaunchSettings,
) -> Result<Outcome, Error> {
    resolve_and_validate_with(prepared, settings, &[])
}

/// Like [`resolve_and_validate`], with `extras` fetched in the same batch.
pub fn resolve_and_validate_with(
    prepared: &Prepared,
    settings: &LaunchSettings,
    extras: &[PlaceholderValue],
) -> Result<Outcome, Error> {
    resolve_and_validate_reusing(prepared, settings, extras, &Reuse::new())
}

fn resolve_and_validate_reusing(
    prepared: &Prepared,
    settings: &LaunchSettings,
    extras: &[PlaceholderValue],
    reuse: &Reuse,
) -> Result<Outcome, Error> {
    // The runtime lives only for the fetch: exec happens in a plain single-threaded process.
    let resolution = runtime::block_on(async {
        resolve::resolve_reusing(
            &prepared.plan,
            extras,
            &prepared.config,
            &prepared.env,
            FetchOptions {
                timeout: settings.timeout,
                jitter: settings.jitter,
                keep_launcher_env: settings.keep_launcher_env,
            },
            reuse,
        )
        .await
        .map_err(Error::from)
    })?;
    let Resolution {
        vars: resolved,
        extras,
        fetched,
    } = resolution;
    let findings = validate::validate(&prepared.config, &prepared.plan, &resolved, settings.strict);
    Ok(Outcome {
        resolved,
        findings,
        extras,
        fetched,
    })
}

/// What a program (or a rendered file) may be given: every value resolved and validated.
pub struct Ready {
    /// Variable name and value, sorted by name.
    pub values: Vec<(String, SecretString)>,
    /// The extras' values, in the order asked for.
    pub extras: Vec<SecretString>,
}

/// Resolves, validates and logs the warnings; any error (a variable's or an extra's) fails the
/// whole launch, with every problem reported at once.
pub fn resolve_for_program(
    prepared: &Prepared,
    settings: &LaunchSettings,
    extras: &[PlaceholderValue],
) -> Result<Ready, Error> {
    resolve_for_program_reusing(prepared, settings, extras, &Reuse::new()).map(|(ready, _)| ready)
}

/// [`resolve_for_program`] reading only what `reuse` lacks; also returns every answer, for
/// the watcher to reuse next time.
pub fn resolve_for_program_reusing(
    prepared: &Prepared,
    settings: &LaunchSettings,
    extras: &[PlaceholderValue],
    reuse: &Reuse,
) -> Result<(Ready, Reuse), Error> {
    let outcome = resolve_and_validate_reusing(prepared, settings, extras, reuse)?;
    let mut errors = finding_problems(outcome.errors());
    for extra in &outcome.extras {
        if let Err(problems) = &extra.value {
            errors.extend(problems.iter().cloned());
        }
    }
    if !errors.is_empty() {
        return Err(Error::Problems(errors));
    }
    for warning in finding_problems(outcome.warnings()) {
        tracing::warn!("{warning}");
    }
    let values = outcome
        .resolved
        .into_iter()
        .filter_map(|var| Some((var.planned.name, var.value.ok()?)))
        .collect();
    let extras = outcome
        .extras
        .into_iter()
        .filter_map(|extra| extra.value.ok())
        .collect();
    Ok((Ready { values, extras }, outcome.fetched))
}

/// Problems ready to report. Every finding's problem names its variable already: as its
/// location (a fetch failure), or as the subject of its message ("JWT secret
/// (CRONOS_AI_JWT_SECRET, from .env:3) is too short").
pub fn finding_problems<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<Problem> {
    findings.map(|finding| finding.problem.clone()).collect()
}
