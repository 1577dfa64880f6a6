//! The guide's Python API for Rust programs: `get_secret("database_password")`.

use std::collections::BTreeSet;

use crate::backend::{Backends, Source};
use crate::config::{self, Config};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::secret::SecretString;

/// Reads and writes secrets by name in the configured backend.
pub struct SecretsManager {
    config: Config,
    env: Environment,
}

impl SecretsManager {
    /// The config the launcher would use: `$CRONOS_SECRETS_CONFIG`, the conventional path, or built-in.
    pub fn from_env() -> Result<Self, Error> {
        let env = Environment::capture();
        let path = config::locate(None, &env);
        let config = config::load(path.as_deref(), &env)?;
        Ok(SecretsManager { config, env })
    }

    pub fn new(config: Config, env: Environment) -> Self {
        SecretsManager { config, env }
    }

    /// `secret://NAME` in the configured backend.
    pub async fn get(&self, name: &str) -> Result<SecretString, Error> {
        let reference = Reference::named_secret(name);
        let backend = self.backend_for(&reference).await?;
        let mut answers = backend
            .get(self.source(&reference))
            .expect("built")
            .fetch(std::slice::from_ref(&reference))
            .await;
        match answers.remove(&reference) {
            Some(Ok(fetched)) => Ok(fetched.value),
            Some(Err(error)) => Err(Problem::new(name, error.message)
                .with_optional_hint(error.hint)
                .into()),
            None => Err(Problem::new(name, "the backend gave no answer").into()),
        }
    }

    /// Writes a new version of `secret://NAME` in the configured backend.
    pub async fn set(&self, name: &str, value: &SecretString) -> Result<(), Error> {
        let reference = Reference::named_secret(name);
        let backends = self.backend_for(&reference).await?;
        let backend = backends.get(self.source(&reference)).expect("built");
        backend
            .store(&reference, value)
            .await
            .map(|_| ())
            .map_err(|error| {
                Problem::new(name, error.message)
                    .with_optional_hint(error.hint)
                    .into()
            })
    }

    /// Blocking [`SecretsManager::get`]; not for use inside an async runtime.
    pub fn get_secret(&self, name: &str) -> Result<SecretString, Error> {
        block_on(self.get(name))
    }

    /// Blocking [`SecretsManager::set`]; not for use inside an async runtime.
    pub fn set_secret(&self, name: &str, value: &SecretString) -> Result<(), Error> {
        block_on(self.set(name, value))
    }

    fn source(&self, reference: &Reference) -> Source {
        Source::of(reference, self.config.backend)
    }

    async fn backend_for(&self, reference: &Reference) -> Result<Backends, Error> {
        let sources = BTreeSet::from([self.source(reference)]);
        Ok(Backends::build(&sources, &self.config, &self.env).await?)
    }
}

/// `get_secret('database_password')`, as in the guide.
pub fn get_secret(name: &str) -> Result<SecretString, Error> {
    SecretsManager::from_env()?.get_secret(name)
}

fn block_on<T>(future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            Problem::new(
                "runtime",
                format!("cannot start the async runtime: {error}"),
            )
        })?
        .block_on(future)
}
