//! `env://VAR`, and `secret://NAME` when the configured backend is the environment.

use async_trait::async_trait;

use super::{Answers, Backend, FetchError, FetchErrorKind, Fetched, Source};
use crate::env_vars::Environment;
use crate::reference::{Reference, Scheme};
use crate::schema::RequiredSecret;
use crate::secret::SecretString;

pub struct EnvBackend {
    env: Environment,
    table: Vec<RequiredSecret>,
}

impl EnvBackend {
    pub fn new(env: Environment, table: Vec<RequiredSecret>) -> Self {
        EnvBackend { env, table }
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

    pub fn describe(reference: &Reference, table: &[RequiredSecret]) -> String {
        format!(
            "env {}",
            EnvBackend::variables(reference, table).join(" or ")
        )
    }

    fn read(&self, reference: &Reference) -> Result<Fetched, FetchError> {
        let variables = EnvBackend::variables(reference, &self.table);
        variables
            .iter()
            .find_map(|name| self.env.get(name))
            .map(|value| Fetched::value(SecretString::from_os(value.to_os_string())))
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
            })
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
