//! "Environment variables configured" and "Secrets manager configured": the launch `check`
//! makes (config → plan → fetch → validate, `launch::resolve_and_validate`), run once; the
//! first row judges its result, the second which backend answered it.

use std::path::Path;

use super::row::Part;
use crate::backend::Source;
use crate::config::{BackendKind, Config};
use crate::env_vars::Environment;
use crate::launch::{self, LaunchSettings, Outcome};
use crate::resolve::ResolvedVar;

/// The launch as `check` runs it: why it could not be planned (config, env files), or why
/// it stopped (a backend that could not be set up), or its outcome.
pub struct Checked {
    result: Result<Outcome, Stopped>,
}

enum Stopped {
    Unplanned(String),
    Failed(String),
}

pub fn check(settings: &LaunchSettings, env: Environment, cwd: &Path) -> Checked {
    let result = match launch::prepare(settings, env, cwd) {
        Err(error) => Err(Stopped::Unplanned(error.to_string())),
        Ok(prepared) => match launch::resolve_and_validate(&prepared, settings) {
            Ok(outcome) => Ok(outcome),
            Err(error) => Err(Stopped::Failed(error.to_string())),
        },
    };
    Checked { result }
}

/// The guide's Troubleshooting answer for a secret that is not configured.
const NOT_CONFIGURED_FIX: &str = "configure each secret named above where the launch reads it (the guide: export CRONOS_AI_DB_PASSWORD=\"your-password\", or DATABASE_PASSWORD; here: the secret in the backend, or a reference in the env file), then run cronos-secrets check";

impl Checked {
    pub fn environment(&self) -> Vec<Part> {
        let outcome = match &self.result {
            Ok(checked) => checked,
            Err(Stopped::Unplanned(error) | Stopped::Failed(error)) => {
                return vec![Part::fail(
                    format!("check stopped: {error}"),
                    "fix the problem named above, then run cronos-secrets check",
                )];
            }
        };
        let mut parts: Vec<Part> = launch::finding_problems(outcome.errors())
            .into_iter()
            .map(|problem| Part::fail(problem.to_string(), NOT_CONFIGURED_FIX))
            .collect();
        if parts.is_empty() {
            let warnings = outcome.warnings().count();
            let warnings = match warnings {
                0 => String::new(),
                count => format!(" ({count} warning(s): cronos-secrets check shows them)"),
            };
            parts.push(Part::pass(format!(
                "check: {} variable(s) resolved and validated{warnings}",
                outcome.resolved.len()
            )));
        }
        parts
    }

    pub fn manager(&self, config: &Config) -> Vec<Part> {
        if config.backend == BackendKind::Env {
            return vec![Part::fail(
                "the config selects the env backend: production reads its secrets from the environment and env files",
                "select a secrets manager in the config (secrets_manager: enabled: true, backend: vault, aws_secrets_manager or azure_key_vault) and store the secrets there (cronos-secrets set NAME)",
            )];
        }
        let manager = Source::from(config.backend);
        let outcome = match &self.result {
            Ok(checked) => checked,
            Err(Stopped::Unplanned(_)) => {
                return vec![Part::unknown(
                    format!(
                        "the {manager} backend was not asked: the launch cannot be planned (see the environment row)"
                    ),
                    "fix the launch's plan; doctor then reads the secrets from the backend",
                )];
            }
            Err(Stopped::Failed(error)) => {
                return vec![Part::fail(
                    format!("the {manager} backend could not be used: {error}"),
                    troubleshooting(config.backend),
                )];
            }
        };
        let from_manager = |var: &ResolvedVar| {
            var.planned
                .references()
                .any(|reference| Source::of(reference, config.backend) == manager)
        };
        let planned: Vec<&ResolvedVar> = outcome
            .resolved
            .iter()
            .filter(|var| from_manager(var))
            .collect();
        if planned.is_empty() {
            return vec![Part::fail(
                format!(
                    "no secret is read from the {manager} backend: every value comes from env files or the environment"
                ),
                "replace the values with references (secret://NAME), or remove them so that the launch reads each required secret from the backend by name",
            )];
        }
        // A secret that is not there still proves that the server answered the login's
        // request; one that could not be read says why in the backend's own words.
        let unreadable: Vec<Part> = planned
            .iter()
            .filter(|var| !var.not_found)
            .flat_map(|var| var.value.as_ref().err().into_iter().flatten())
            .map(|problem| Part::fail(problem.to_string(), troubleshooting(config.backend)))
            .collect();
        if !unreadable.is_empty() {
            return unreadable;
        }
        let read = planned.iter().filter(|var| var.value.is_ok()).count();
        let missing = match planned.len() - read {
            0 => String::new(),
            count => format!(
                "; {count} not there (the environment row names them; a not-found answer comes only after the login is accepted)"
            ),
        };
        vec![Part::pass(format!(
            "the {manager} backend answered and authenticated: {read} of {} variable(s) read from it{missing}",
            planned.len()
        ))]
    }
}

/// The guide's Troubleshooting section, per backend ("Vault authentication failed", "AWS
/// Secrets Manager access denied"), and its equivalent for Key Vault.
pub fn troubleshooting(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Vault => {
            "check the Vault address (echo $VAULT_ADDR), check the Vault token (vault token lookup), re-authenticate (vault login)"
        }
        BackendKind::AwsSecretsManager => {
            "check the AWS credentials (aws sts get-caller-identity), verify the IAM permissions (aws secretsmanager describe-secret --secret-id cronos-ai/database_password)"
        }
        BackendKind::AzureKeyVault => {
            "check the Azure login (az account show), verify the role assignment on the vault (az keyvault secret show --vault-name VAULT --name database-password)"
        }
        BackendKind::Env => "select a secrets manager in the config",
    }
}
