//! The guide's Python API for Rust programs (`get_secret("database_password")`), also used by
//! the `get` and `set` commands.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use crate::backend::{
    Backends, BuildContext, Fetched, Metadata, Source, StoreOptions, deadline_after,
};
use crate::config::{self, Config};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::expand::Piece;
use crate::logging::{self, AUDIT_TARGET};
use crate::plan::Plan;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::resolve::{self, FetchOptions, PlaceholderValue};
use crate::runtime::block_on;
use crate::secret::SecretString;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads and writes secrets by name (or by any reference) in the configured backend.
pub struct SecretsManager {
    config: Config,
    env: Environment,
    timeout: Duration,
}

impl SecretsManager {
    /// The config the launcher would use: `$CRONOS_SECRETS_CONFIG`, the conventional path, or built-in.
    pub fn from_env() -> Result<Self, Error> {
        let env = Environment::capture();
        let path = config::locate(None, &env);
        let config = config::load(path.as_deref(), &env)?;
        Ok(SecretsManager::new(config, env))
    }

    pub(crate) fn new(config: Config, env: Environment) -> Self {
        SecretsManager {
            config,
            env,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `NAME` means `secret://NAME`; anything with `://` (or an ARN) is taken as a reference.
    pub(crate) fn reference(&self, name: &str) -> Result<Reference, Error> {
        if Reference::is_reference(name) {
            let base = std::env::current_dir().unwrap_or_else(|_| Path::new("/").to_path_buf());
            Reference::parse(name, &base)
                .map_err(|error| Problem::new(name, error.to_string()).into())
        } else {
            Ok(Reference::named_secret(name))
        }
    }

    /// Reads one reference, with its metadata, through the launch's own resolution path (one
    /// deadline, one audit event). With a launch's `plan` (the `get` command), `secret://NAME`
    /// on the env backend reads what the program would get, env-file entries included.
    pub(crate) async fn read(&self, reference: &Reference, plan: &Plan) -> Result<Fetched, Error> {
        let wanted = PlaceholderValue {
            location: reference.to_string(),
            pieces: vec![Piece::Ref(reference.clone())],
        };
        let options = FetchOptions {
            timeout: self.timeout,
            jitter: None,
            keep_launcher_env: false,
        };
        // Only the one value is fetched, not the plan's variables.
        let wanted = resolve::as_the_program_gets(&[wanted], plan, &self.config);
        let resolution =
            resolve::resolve(&Plan::default(), &wanted, &self.config, &self.env, options).await?;
        let read = resolution
            .extras
            .into_iter()
            .next()
            .expect("one answer per extra asked for");
        let metadata = read
            .reads
            .first()
            .map(|read| read.metadata.clone())
            .unwrap_or_default();
        Ok(Fetched {
            value: read.value?,
            metadata,
        })
    }

    /// Writes a new version of a reference's secret.
    pub(crate) async fn store(
        &self,
        reference: &Reference,
        value: &SecretString,
        options: StoreOptions,
    ) -> Result<Metadata, Error> {
        let source = Source::of(reference, self.config.backend);
        let deadline = deadline_after(self.timeout);
        let backends = self.backends(source, deadline).await?;
        let backend = backends.get(source).expect("built above");
        let stored =
            tokio::time::timeout_at(deadline, backend.store(reference, value, options)).await;
        backends.finish().await;
        let stored = stored.map_err(|_| {
            Problem::new(
                reference.to_string(),
                format!("timed out after {:?}", self.timeout),
            )
            .with_hint("check that the backend is reachable, or raise --timeout")
        })?;
        let metadata = stored.map_err(|error| {
            Problem::new(reference.to_string(), error.message).with_optional_hint(error.hint)
        })?;
        tracing::info!(
            target: AUDIT_TARGET,
            reference = %reference,
            source = %source,
            location = %backend.location(reference),
            version = metadata.version.as_deref().unwrap_or("-"),
            "secret written"
        );
        logging::check_audit_written()?;
        Ok(metadata)
    }

    /// Blocking read of `secret://NAME`; not for use inside an async runtime.
    pub fn get_secret(&self, name: &str) -> Result<SecretString, Error> {
        let reference = self.reference(name)?;
        block_on(self.read(&reference, &Plan::default())).map(|fetched| fetched.value)
    }

    /// Blocking write of `secret://NAME`; not for use inside an async runtime.
    pub fn set_secret(&self, name: &str, value: &SecretString) -> Result<(), Error> {
        let reference = self.reference(name)?;
        block_on(self.store(&reference, value, StoreOptions::default())).map(|_| ())
    }

    async fn backends(&self, source: Source, deadline: Instant) -> Result<Backends, Error> {
        let context = BuildContext {
            config: &self.config,
            env: &self.env,
            deadline,
            keep_launcher_env: false,
        };
        Ok(Backends::build(&BTreeSet::from([source]), &context).await?)
    }
}

/// `get_secret('database_password')`, as in the guide.
pub fn get_secret(name: &str) -> Result<SecretString, Error> {
    SecretsManager::from_env()?.get_secret(name)
}
