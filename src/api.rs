//! The guide's Python API for Rust programs (`get_secret("database_password")`), also used by
//! the `get` and `set` commands and by the Python binding (python/), so a value read
//! in-process and a value injected by `run` are resolved by one implementation.

mod failure;
mod kept;
mod read;

pub use failure::{Failure, FailureKind};
pub use read::{SecretDetails, SecretRead};

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use crate::backend::{
    Backends, BuildContext, FetchError, FetchErrorKind, Fetched, Metadata, Source, StoreOptions,
    call_deadline, deadline_after,
};
use crate::config::ConfigOrigin;
use crate::config::{self, Config};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::expand::Piece;
use crate::logging::{self, AUDIT_TARGET};
use crate::plan::Plan;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::resolve::{self, FetchOptions, PlaceholderValue};
use crate::secret::SecretString;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads and writes secrets by name (or by any reference) in the configured backend.
pub struct SecretsManager {
    config: Config,
    env: Environment,
    timeout: Duration,
    /// The runtime and backends its blocking calls keep between calls.
    kept: kept::Kept,
}

impl SecretsManager {
    /// The config the launcher would use: `$CRONOS_SECRETS_CONFIG`, the conventional path, or built-in.
    pub fn from_env() -> Result<Self, Error> {
        Ok(SecretsManager::from_config_file(None)?)
    }

    /// The config at `path` (`None`: found as the launcher finds it), with the launcher's
    /// `CRONOS_SECRETS_*` overrides.
    pub fn from_config_file(path: Option<&Path>) -> Result<Self, Failure> {
        let env = Environment::capture();
        let path = config::locate(path, &env);
        let config = config::load(path.as_deref(), &env)
            .map_err(|problem| Failure::new(FailureKind::Config, problem))?;
        Ok(SecretsManager::new(config, env))
    }

    /// A config given as YAML text (a program's own settings), named `label` in messages;
    /// settings it leaves out take the launcher's defaults and `CRONOS_SECRETS_*` overrides.
    pub fn from_config_text(label: &str, text: &str) -> Result<Self, Failure> {
        let env = Environment::capture();
        let origin = ConfigOrigin::Given(label.to_string());
        let config = config::from_text(&origin, text, &env)
            .map_err(|problem| Failure::new(FailureKind::Config, problem))?;
        Ok(SecretsManager::new(config, env))
    }

    pub(crate) fn new(config: Config, env: Environment) -> Self {
        SecretsManager {
            config,
            env,
            timeout: DEFAULT_TIMEOUT,
            kept: kept::Kept::default(),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `NAME` means `secret://NAME`; anything with `://` (or an ARN) is taken as a reference.
    pub(crate) fn reference(&self, name: &str) -> Result<Reference, Failure> {
        if Reference::is_reference(name) {
            let base = std::env::current_dir().unwrap_or_else(|_| Path::new("/").to_path_buf());
            Reference::parse(name, &base).map_err(|error| {
                Failure::new(FailureKind::Config, Problem::new(name, error.to_string()))
            })
        } else {
            Ok(Reference::named_secret(name))
        }
    }

    /// Reads one reference, with its metadata, as [`Self::fetch_many`] does. With a launch's
    /// `plan` (the `get` command), `secret://NAME` on the env backend reads what the program
    /// would get, env-file entries included.
    pub(crate) async fn read(&self, reference: &Reference, plan: &Plan) -> Result<Fetched, Error> {
        let mut fetched = self
            .fetch_many(std::slice::from_ref(reference), plan, Backing::PerCall)
            .await?;
        Ok(fetched.remove(0))
    }

    /// Reads references in one batch of the launcher's resolution (the one audited read
    /// path): each distinct one once, every backend concurrently, under one deadline; all or
    /// nothing.
    pub(crate) async fn fetch_many(
        &self,
        references: &[Reference],
        plan: &Plan,
        backing: Backing,
    ) -> Result<Vec<Fetched>, Failure> {
        let mut fetched = Vec::with_capacity(references.len());
        let mut problems = Vec::new();
        let mut kind = None;
        for read in self.fetch_each(references, plan, backing).await? {
            match read {
                Ok(value) => fetched.push(value),
                Err(failed) => {
                    kind = kind.or(Some(failed.kind));
                    problems.extend_from_slice(failed.problems());
                }
            }
        }
        match kind {
            Some(kind) => Err(Failure::new(kind, problems)),
            None => Ok(fetched),
        }
    }

    /// [`Self::fetch_many`]'s batch with each reference's own answer, for callers that go on
    /// without some (`backup` leaves out an optional secret not found, `restore` creates a
    /// missing one). Fails as a whole only when the backends cannot be built.
    pub(crate) async fn fetch_each(
        &self,
        references: &[Reference],
        plan: &Plan,
        backing: Backing,
    ) -> Result<Vec<Result<Fetched, Failure>>, Failure> {
        let wanted: Vec<PlaceholderValue> = references
            .iter()
            .map(|reference| PlaceholderValue {
                location: reference.to_string(),
                pieces: vec![Piece::Ref(reference.clone())],
            })
            .collect();
        let options = FetchOptions {
            timeout: self.timeout,
            jitter: None,
            keep_launcher_env: false,
        };
        // Only these values are fetched, not the plan's variables.
        let wanted = resolve::as_the_program_gets(&wanted, plan, &self.config);
        let resolution = match backing {
            Backing::PerCall => {
                resolve::resolve(&Plan::default(), &wanted, &self.config, &self.env, options).await
            }
            Backing::Kept => self.resolve_kept(&wanted, options).await,
        }
        // Building the backends failed: a login, a credential chain, an unreachable server.
        .map_err(|problem| Failure::new(FailureKind::BackendUnavailable, problem))?;
        Ok(resolution
            .extras
            .into_iter()
            .map(|read| match read.value {
                Ok(value) => Ok(Fetched {
                    value,
                    metadata: read
                        .reads
                        .first()
                        .map(|read| read.metadata.clone())
                        .unwrap_or_default(),
                }),
                Err(problems) => {
                    let kind = read
                        .failure
                        .map_or(FailureKind::BackendUnavailable, FailureKind::of_fetch);
                    Err(Failure::new(kind, problems))
                }
            })
            .collect())
    }

    /// `extras` resolved on the kept backends, under a deadline of this call's own; a backend
    /// that could not be reached or refused is built afresh by the next call.
    async fn resolve_kept(
        &self,
        extras: &[PlaceholderValue],
        options: FetchOptions,
    ) -> Result<resolve::Resolution, Problem> {
        let sources: BTreeSet<Source> =
            resolve::references_by_source(&Plan::default(), extras, &self.config)
                .into_keys()
                .collect();
        let deadline = deadline_after(self.timeout);
        call_deadline::within(deadline, async {
            let mut backends = self.kept.ready(&sources, &self.context(deadline)).await?;
            let resolution =
                resolve::resolve_kept(&mut backends, extras, &self.config, &self.env, options)
                    .await;
            let failed = resolution.as_ref().map_or(true, |resolution| {
                resolution.extras.iter().any(|extra| {
                    matches!(
                        extra.failure,
                        Some(FetchErrorKind::Unavailable | FetchErrorKind::Denied)
                    )
                })
            });
            if failed {
                self.kept.forget(&sources);
            }
            resolution
        })
        .await
    }

    /// Writes a new version of a reference's secret.
    pub(crate) async fn store(
        &self,
        reference: &Reference,
        value: &SecretString,
        options: StoreOptions,
        backing: Backing,
    ) -> Result<Metadata, Failure> {
        let source = Source::of(reference, self.config.backend);
        let sources = BTreeSet::from([source]);
        let deadline = deadline_after(self.timeout);
        let backends = match backing {
            Backing::PerCall => Backends::build(&sources, &self.context(deadline)).await,
            Backing::Kept => {
                call_deadline::within(deadline, self.kept.ready(&sources, &self.context(deadline)))
                    .await
            }
        }
        .map_err(|problem| Failure::new(FailureKind::BackendUnavailable, problem))?;
        let backend = backends.get(source).expect("built above");
        let stored = call_deadline::within(
            deadline,
            tokio::time::timeout_at(deadline, backend.store(reference, value, options)),
        )
        .await;
        match backing {
            Backing::PerCall => backends.finish().await,
            Backing::Kept => {
                if !matches!(
                    &stored,
                    Ok(Ok(_))
                        | Ok(Err(FetchError {
                            kind: FetchErrorKind::NotFound | FetchErrorKind::Invalid,
                            ..
                        }))
                ) {
                    self.kept.forget(&sources);
                }
            }
        }
        let stored = stored.map_err(|_| {
            let problem = Problem::new(
                reference.to_string(),
                format!("timed out after {:?}", self.timeout),
            )
            .with_hint("check that the backend is reachable, or raise --timeout");
            Failure::new(FailureKind::BackendUnavailable, problem)
        })?;
        let metadata = stored.map_err(|error| {
            let problem =
                Problem::new(reference.to_string(), error.message).with_optional_hint(error.hint);
            Failure::new(FailureKind::of_fetch(error.kind), problem)
        })?;
        tracing::info!(
            target: AUDIT_TARGET,
            reference = %reference,
            source = %source,
            location = %backend.location(reference),
            version = metadata.version.as_deref().unwrap_or("-"),
            "secret written"
        );
        logging::check_audit_written()
            .map_err(|problem| Failure::new(FailureKind::BackendUnavailable, problem))?;
        Ok(metadata)
    }

    /// Blocking read of `secret://NAME` (or any reference); not for use inside an async runtime.
    pub fn get_secret(&self, name: &str) -> Result<SecretString, Error> {
        let mut read = self.read_secrets(&[name])?;
        Ok(read.remove(0).value)
    }

    /// Blocking write of `secret://NAME`, validated first as `set` validates (a value no launch
    /// would accept is never stored); not for use inside an async runtime.
    pub fn set_secret(&self, name: &str, value: &SecretString) -> Result<(), Error> {
        self.write_secret(name, value)?;
        Ok(())
    }

    fn context(&self, deadline: Instant) -> BuildContext<'_> {
        BuildContext {
            config: &self.config,
            env: &self.env,
            deadline,
            keep_launcher_env: false,
        }
    }
}

impl SecretsManager {
    /// Runs a command's calls on this manager's own runtime, so that they share its kept
    /// backends (a restore of N secrets logs in once, not N + 1 times); dropping the manager
    /// lets them release what they hold (a login token revoked), as a per-call build does.
    pub(crate) fn block_on<T>(
        &self,
        future: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.kept.block_on(async { Ok(future.await) })?
    }
}

/// Which backends a call runs on: built for it alone and finished after it (a command, a
/// launch), or the manager's kept ones (its blocking calls: the library, Python).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backing {
    PerCall,
    Kept,
}

/// `get_secret('database_password')`, as in the guide.
pub fn get_secret(name: &str) -> Result<SecretString, Error> {
    SecretsManager::from_env()?.get_secret(name)
}
