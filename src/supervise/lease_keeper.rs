//! The leases of dynamic secrets a watcher (`run --watch`, `render --watch`) holds: each is
//! renewed at two thirds of its duration, as Vault agent does; one that cannot be renewed any
//! more (its max TTL reached, renewal refused, not renewable) asks the watcher for new
//! credentials, which then take the same path as a changed KV secret (quiet period,
//! validation, restart budget). An outage keeps the program running while the credentials
//! last, saying how long that is. On exit every lease held is revoked: the credentials die
//! with the launcher that handed them out.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::backend::{
    Backend, Backends, BuildContext, FetchError, FetchErrorKind, Lease, Renewed, Source,
    deadline_after,
};
use crate::config::Config;
use crate::env_vars::Environment;
use crate::launch::{LaunchSettings, Prepared};
use crate::resolve::Reuse;
use crate::runtime;

/// How soon a failed renewal is tried again, at most.
const RETRY_AT_MOST: Duration = Duration::from_secs(30);

struct Held {
    lease: Lease,
    expires_at: Instant,
    renew_at: Instant,
    /// New credentials are due: renewing is no longer possible or no longer enough.
    replace: bool,
}

pub struct LeaseKeeper {
    config: Config,
    env: Environment,
    timeout: Duration,
    keep_launcher_env: bool,
    held: Vec<Held>,
}

/// The keeper the watcher and the main loop share; see [`ReleaseOnExit`].
pub type SharedKeeper = Arc<Mutex<LeaseKeeper>>;

impl LeaseKeeper {
    pub fn new(prepared: &Prepared, settings: &LaunchSettings) -> LeaseKeeper {
        LeaseKeeper {
            config: prepared.config.clone(),
            env: prepared.env.clone(),
            timeout: settings.timeout,
            keep_launcher_env: settings.keep_launcher_env,
            held: Vec::new(),
        }
    }

    pub fn shared(prepared: &Prepared, settings: &LaunchSettings) -> SharedKeeper {
        Arc::new(Mutex::new(LeaseKeeper::new(prepared, settings)))
    }

    /// Takes on the leases of a set just delivered; a secret's earlier lease is let go (it
    /// ends at its own max TTL, which is why it was replaced).
    pub fn adopt(&mut self, fetched: &Reuse) {
        let now = Instant::now();
        let mut leases: Vec<&Lease> = fetched
            .values()
            .filter_map(|fetched| fetched.metadata.lease.as_ref())
            .collect();
        leases.sort_by(|a, b| a.id().cmp(b.id()));
        leases.dedup_by(|a, b| a.id() == b.id());
        let current: BTreeSet<&str> = leases.iter().map(|lease| lease.id()).collect();
        self.held.retain(|held| current.contains(held.lease.id()));
        for lease in leases {
            if self.held.iter().any(|held| held.lease.id() == lease.id()) {
                continue;
            }
            if lease.duration.is_zero() {
                // A lease without a duration does not expire: nothing to keep.
                continue;
            }
            tracing::info!(
                secret = %lease.secret,
                duration_s = lease.duration.as_secs(),
                renewable = lease.renewable,
                "holding the lease of a dynamic secret"
            );
            self.held.push(Held {
                lease: lease.clone(),
                expires_at: now + lease.duration,
                renew_at: now + lease.duration * 2 / 3,
                replace: false,
            });
        }
    }

    /// When the next renewal is due; a lease waiting for new credentials waits for polls.
    pub fn next_due(&self) -> Option<Instant> {
        self.held
            .iter()
            .filter(|held| !held.replace)
            .map(|held| held.renew_at)
            .min()
    }

    /// Renews the leases that are due; returns the dynamic secrets that need new credentials.
    pub fn keep(&mut self) -> BTreeSet<String> {
        let now = Instant::now();
        let mut due: Vec<usize> = (0..self.held.len())
            .filter(|&index| !self.held[index].replace && self.held[index].renew_at <= now)
            .collect();
        // A lease that cannot be renewed is replaced at the point it would have been renewed.
        due.retain(|&index| {
            let held = &mut self.held[index];
            held.replace = !held.lease.renewable;
            held.lease.renewable
        });
        if !due.is_empty() {
            let leases: Vec<Lease> = due
                .iter()
                .map(|&index| self.held[index].lease.clone())
                .collect();
            let count = leases.len();
            let results: Vec<Option<RenewResult>> = match self.with_leases(|store| async move {
                let mut results = Vec::new();
                for lease in &leases {
                    results.push(renew(&store, lease).await);
                }
                results
            }) {
                Some(results) => results.into_iter().map(Some).collect(),
                None => vec![None; count],
            };
            for (index, result) in due.into_iter().zip(results) {
                self.renewed(index, result);
            }
        }
        self.held
            .iter()
            .filter(|held| held.replace)
            .map(|held| {
                let left = held.expires_at.saturating_duration_since(Instant::now());
                tracing::info!(
                    secret = %held.lease.secret,
                    expires_in_s = left.as_secs(),
                    "the lease cannot be renewed further: fetching new credentials"
                );
                held.lease.secret.clone()
            })
            .collect()
    }

    fn renewed(&mut self, index: usize, result: Option<RenewResult>) {
        let now = Instant::now();
        let held = &mut self.held[index];
        let left = held.expires_at.saturating_duration_since(now);
        match result {
            Some(Ok(renewed)) => {
                held.expires_at = now + renewed.ttl;
                held.renew_at = now + renewed.ttl * 2 / 3;
                // Granted less than asked: the max TTL is near, renewing again buys nothing.
                held.replace = renewed.ttl < held.lease.duration;
                tracing::info!(
                    secret = %held.lease.secret,
                    expires_in_s = renewed.ttl.as_secs(),
                    "renewed the lease of a dynamic secret"
                );
            }
            Some(Err(error)) if error.kind != FetchErrorKind::Unavailable => {
                tracing::warn!(
                    secret = %held.lease.secret,
                    expires_in_s = left.as_secs(),
                    "{error}"
                );
                held.replace = true;
            }
            // An outage: the credentials still work until they expire; try again soon.
            failure => {
                let why = match failure {
                    Some(Err(error)) => error.to_string(),
                    _ => "the Vault backend could not be built".to_string(),
                };
                if left.is_zero() {
                    tracing::error!(secret = %held.lease.secret, "the lease has expired and could not be renewed: {why}; fetching new credentials");
                    held.replace = true;
                } else {
                    tracing::warn!(
                        secret = %held.lease.secret,
                        expires_in_s = left.as_secs(),
                        "cannot renew the lease; the program keeps its credentials until they expire: {why}"
                    );
                    held.renew_at = now + (left / 4).clamp(Duration::from_secs(1), RETRY_AT_MOST);
                }
            }
        }
    }

    /// Revokes every lease held: the launcher is exiting.
    pub fn release(&mut self) {
        let leases: Vec<Lease> = self.held.drain(..).map(|held| held.lease).collect();
        if leases.is_empty() {
            return;
        }
        let results = self.with_leases(|store| async move {
            let mut results = Vec::new();
            for lease in &leases {
                results.push((lease.secret.clone(), revoke(&store, lease).await));
            }
            results
        });
        for (secret, result) in results.into_iter().flatten() {
            match result {
                Ok(()) => tracing::info!(%secret, "revoked the lease of a dynamic secret"),
                Err(error) => {
                    tracing::warn!(%secret, "{error}; its credentials last until the lease expires")
                }
            }
        }
    }

    /// Runs `work` with the Vault backend's lease store, built for this call alone (its own
    /// deadline and login, as each poll has); `None` when it cannot be built.
    fn with_leases<T, F>(&self, work: impl FnOnce(Arc<dyn Backend>) -> F) -> Option<T>
    where
        F: Future<Output = T>,
    {
        let context = BuildContext {
            config: &self.config,
            env: &self.env,
            deadline: deadline_after(self.timeout),
            keep_launcher_env: self.keep_launcher_env,
        };
        runtime::block_on(async {
            let sources = BTreeSet::from([Source::Vault]);
            let Ok(backends) = Backends::build(&sources, &context).await else {
                return Ok(None);
            };
            let Some(backend) = backends.get(Source::Vault).cloned() else {
                return Ok(None);
            };
            let result = work(backend).await;
            backends.finish().await;
            Ok(Some(result))
        })
        .ok()
        .flatten()
    }
}

type RenewResult = Result<Renewed, FetchError>;

async fn renew(backend: &Arc<dyn Backend>, lease: &Lease) -> RenewResult {
    match backend.leases() {
        Some(store) => store.renew(lease).await,
        None => Err(no_leases()),
    }
}

async fn revoke(backend: &Arc<dyn Backend>, lease: &Lease) -> Result<(), FetchError> {
    match backend.leases() {
        Some(store) => store.revoke(lease).await,
        None => Err(no_leases()),
    }
}

fn no_leases() -> FetchError {
    FetchError::new(FetchErrorKind::Unsupported, "this backend holds no leases")
}

/// Revokes the keeper's leases when the main loop returns, whichever way it returns.
pub struct ReleaseOnExit(pub SharedKeeper);

impl Drop for ReleaseOnExit {
    fn drop(&mut self) {
        if let Ok(mut keeper) = self.0.lock() {
            keeper.release();
        }
    }
}
