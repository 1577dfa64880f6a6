//! `env://VAR`, and `secret://NAME` when the configured backend is the environment.

use std::ffi::OsStr;

use async_trait::async_trait;

use super::json_key::{json_field, key_hint};
use super::{Answers, Backend, FetchError, FetchErrorKind, Fetched, Layout, Source};
use crate::config::Config;
use crate::env_vars::{Environment, is_launcher_variable};
use crate::expand::ExpandError;
use crate::reference::{Reference, Scheme};
use crate::schema::RequiredSecret;
use crate::secret::SecretString;

/// The environment's layout: the table says which variables a secret is read from.
pub struct EnvLayout;

impl Layout for EnvLayout {
    fn planned_location(&self, reference: &Reference, config: &Config) -> String {
        EnvBackend::describe(reference, &config.secrets)
    }
}

pub struct EnvBackend {
    env: Environment,
    table: Vec<RequiredSecret>,
    /// `run --keep-launcher-env`: the launcher's credentials may be read.
    keep_launcher_env: bool,
}

impl EnvBackend {
    pub fn new(env: Environment, table: Vec<RequiredSecret>, keep_launcher_env: bool) -> Self {
        EnvBackend {
            env,
            table,
            keep_launcher_env,
        }
    }

    /// The variables a reference reads, in order: `env://VAR` reads VAR; `secret://NAME` reads
    /// the table's env name and aliases for NAME, or NAME upper-cased when it is not in the table.
    fn variables(reference: &Reference, table: &[RequiredSecret]) -> Vec<String> {
        match reference.scheme {
            Scheme::Secret => match table.iter().find(|secret| secret.name == reference.target) {
                Some(secret) => secret.variables().map(str::to_string).collect(),
                None => vec![reference.target.to_ascii_uppercase()],
            },
            _ => vec![reference.target.clone()],
        }
    }

    fn describe(reference: &Reference, table: &[RequiredSecret]) -> String {
        format!(
            "env {}",
            EnvBackend::variables(reference, table).join(" or ")
        )
    }

    fn read(&self, reference: &Reference) -> Result<Fetched, FetchError> {
        let variables = EnvBackend::variables(reference, &self.table);
        // `env://VAULT_TOKEN` or `secret://vault_token` would hand the launcher's credentials
        // to the program under another name.
        let credential = variables
            .iter()
            .find(|name| is_launcher_variable(OsStr::new(name.as_str())));
        if let Some(name) = credential
            && !self.keep_launcher_env
        {
            // The same refusal as `${VAULT_TOKEN}` in an env file, in the same words.
            let refused = ExpandError::LauncherVariable { name: name.clone() };
            let error = FetchError::new(FetchErrorKind::Denied, format!("{reference}: {refused}"));
            return Err(match refused.hint() {
                Some(hint) => error.with_hint(hint),
                None => error,
            });
        }
        let value = variables
            .iter()
            .find_map(|name| self.env.get(name))
            .map(|value| SecretString::from_os(value.to_os_string()))
            .ok_or_else(|| {
                FetchError::new(
                    FetchErrorKind::NotFound,
                    format!(
                        "{reference}: variable {} is not set",
                        variables.join(" or ")
                    ),
                )
                .with_hint(format!(
                    "export {} in the launcher's environment",
                    variables[0]
                ))
            })?;
        // `#KEY` selects from a JSON value, as on the other backends: never the whole JSON with
        // its sibling secrets.
        let value = match &reference.key {
            None => value,
            Some(key) => json_field(&value, key).map_err(|problem| {
                FetchError::new(
                    FetchErrorKind::Invalid,
                    format!("{reference} (env {}): {problem}", variables.join(" or ")),
                )
                .with_hint(key_hint(&value))
            })?,
        };
        Ok(Fetched::value(value))
    }
}

#[async_trait]
impl Backend for EnvBackend {
    fn source(&self) -> Source {
        Source::Env
    }

    fn location(&self, reference: &Reference) -> String {
        EnvBackend::describe(reference, &self.table)
    }

    async fn fetch(&self, references: &[Reference]) -> Answers {
        references
            .iter()
            .map(|reference| (reference.clone(), self.read(reference)))
            .collect()
    }
}
