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
use crate::logging::AUDIT_TARGET;
use crate::plan::{self, EnvFiles, Plan, PlanRequest};
use crate::problem::Problem;
use crate::resolve::{self, ResolvedVar};
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
    })?;
    Ok(Prepared { config, plan, env })
}

pub struct Outcome {
    pub resolved: Vec<ResolvedVar>,
    pub findings: Vec<Finding>,
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
    // The runtime lives only for the fetch: exec happens in a plain single-threaded process.
    let resolved = api::block_on(async {
        resolve::resolve(
            &prepared.plan,
            &prepared.config,
            &prepared.env,
            settings.timeout,
            settings.jitter,
        )
        .await
        .map_err(Error::from)
    })?;
    for var in &resolved {
        for read in &var.reads {
            tracing::info!(
                target: AUDIT_TARGET,
                variable = %var.planned.name,
                reference = %read.reference,
                source = %read.source,
                location = %read.location,
                "secret read"
            );
        }
    }
    let findings = validate::validate(&prepared.config, &prepared.plan, &resolved, settings.strict);
    Ok(Outcome { resolved, findings })
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
