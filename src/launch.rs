//! The path every command shares: config → plan → fetch → validate.
//!
//! Async is confined to [`resolve_and_validate`]: it builds a current-thread runtime and drops
//! it before returning, so exec happens in a plain single-threaded process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api;
use crate::config::{self, Config};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::logging::{self, AUDIT_TARGET};
use crate::plan::{self, EnvFiles, Plan, PlanRequest};
use crate::problem::Problem;
use crate::resolve::{self, Extra, FetchOptions, Resolution, ResolvedExtra, ResolvedVar};
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
    pub extras: Vec<ResolvedExtra>,
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
    extras: &[Extra],
) -> Result<Outcome, Error> {
    // The runtime lives only for the fetch: exec happens in a plain single-threaded process.
    let resolution = api::block_on(async {
        resolve::resolve(
            &prepared.plan,
            extras,
            &prepared.config,
            &prepared.env,
            FetchOptions {
                timeout: settings.timeout,
                jitter: settings.jitter,
                keep_launcher_env: settings.keep_launcher_env,
            },
        )
        .await
        .map_err(Error::from)
    })?;
    let Resolution {
        vars: resolved,
        extras,
    } = resolution;
    let var_reads = resolved
        .iter()
        .flat_map(|var| var.reads.iter().map(|read| (&var.planned.name, read)));
    let extra_reads = extras
        .iter()
        .flat_map(|extra| extra.reads.iter().map(|read| (&extra.location, read)));
    for (variable, read) in var_reads.chain(extra_reads) {
        tracing::info!(
            target: AUDIT_TARGET,
            variable = %variable,
            reference = %read.reference,
            source = %read.source,
            location = %read.location,
            version = read.metadata.version.as_deref(),
            expires = read.metadata.expires.map(crate::backend::utc).as_deref(),
            "secret read"
        );
    }
    logging::check_audit_written()?;
    let findings = validate::validate(&prepared.config, &prepared.plan, &resolved, settings.strict);
    Ok(Outcome {
        resolved,
        findings,
        extras,
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
    extras: &[Extra],
) -> Result<Ready, Error> {
    let outcome = resolve_and_validate_with(prepared, settings, extras)?;
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
    Ok(Ready { values, extras })
}

/// Problems ready to report: each finding's message, named by its variable when it has no location.
pub fn finding_problems<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<Problem> {
    findings
        .map(|finding| {
            let mut problem = finding.problem.clone();
            if problem.location.is_empty() && !problem.message.contains(&finding.variable) {
                problem.location = finding.variable.clone();
            }
            problem
        })
        .collect()
}
