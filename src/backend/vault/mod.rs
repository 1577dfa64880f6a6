//! HashiCorp Vault and OpenBao: KV v1 and v2, token/AppRole/Kubernetes/JWT auth.
//!
//! One launch is one short burst: log in once, then read every distinct path once,
//! concurrently (bounded), over one connection pool, as KV v2 unless the config or an answer
//! says otherwise (see `read_secret`). Several keys of one path cost one read.
//!
//! Logins, token revocation, KV reads and writes are plain HTTP requests on one reqwest client
//! (see `http`): one retry policy, one deadline, same-origin redirects only, bounded answers.

mod address;
mod audit;
mod auth;
mod auth_settings;
mod dynamic;
mod failure;
mod http;
mod kv;
mod layout;
mod lease;
mod metadata;
mod path;
mod rotation;
mod settings;
mod target;
mod token_life;
mod versions;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use futures::future::join_all;
use tokio::sync::{OnceCell, Semaphore};
use tokio::time::Instant;

use self::http::Http;
use self::kv::{MountKind, SecretData};
pub use self::layout::VaultLayout;
use self::path::SecretPath;
use self::settings::EffectiveSettings;
use super::{
    Answers, Backend, BuildContext, Described, FetchError, FetchErrorKind, Fetched, LeaseStore,
    Metadata, Source, StoreOptions, Versions,
};
use crate::config::DynamicSecret;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::secret::SecretString;

/// The field a reference reads when it names no `#KEY` (the guide stores `value=…`).
const DEFAULT_KEY: &str = "value";

/// What the server said a mount is, or why it could not say.
type MountLookup = Result<MountKind, String>;

pub struct VaultBackend {
    settings: EffectiveSettings,
    http: Http,
    token: OnceCell<Result<SecretString, FetchError>>,
    /// When a token obtained by login has lived two thirds of its lease: a kept backend (the
    /// library's manager) is built afresh, with a new login, from then on.
    renew_login_at: OnceLock<Instant>,
    /// KV versions learned in this launch, by mount.
    kv_versions: tokio::sync::Mutex<HashMap<String, u8>>,
    /// One mount lookup per mount, shared by the reads that need it.
    mount_lookups: tokio::sync::Mutex<HashMap<String, Arc<OnceCell<MountLookup>>>>,
    permits: Arc<Semaphore>,
    /// The config's `dynamic:` declarations: the only dynamic paths read.
    dynamic: Vec<DynamicSecret>,
    /// A dynamic read succeeded: the token is its lease's parent (see [`Backend::finish`]).
    leased: AtomicBool,
}

impl VaultBackend {
    fn target(&self, reference: &Reference) -> Result<(SecretPath, String), FetchError> {
        target::target(reference, &self.settings.mount, &self.settings.path)
    }

    pub async fn build(context: &BuildContext<'_>) -> Result<VaultBackend, Problem> {
        let settings =
            settings::resolve(&context.config.vault, context.env, context.deadline).await?;
        let http = Http::new(&settings, context.deadline).await?;
        Ok(VaultBackend {
            permits: Arc::new(Semaphore::new(settings.max_concurrency)),
            settings,
            http,
            token: OnceCell::new(),
            renew_login_at: OnceLock::new(),
            kv_versions: tokio::sync::Mutex::new(HashMap::new()),
            mount_lookups: tokio::sync::Mutex::new(HashMap::new()),
            dynamic: context.config.dynamic.clone(),
            leased: AtomicBool::new(false),
        })
    }

    async fn token(&self) -> Result<SecretString, FetchError> {
        self.token
            .get_or_init(|| async {
                let login = auth::token(&self.settings, &self.http).await?;
                if let Some(lease) = login.lease {
                    let _ = self.renew_login_at.set(Instant::now() + lease * 2 / 3);
                }
                Ok(login.token)
            })
            .await
            .clone()
    }

    /// A mount's KV version when no read is needed to learn it: `Ok(None)` while only an
    /// optimistic v2 read can tell. A configured v1 still needs the server to report the mount
    /// as KV (one lookup per mount), since a v1 read takes the path raw.
    async fn settled_version(
        &self,
        token: &SecretString,
        secret: &SecretPath,
    ) -> Result<Option<u8>, FetchError> {
        match self.settings.kv_version {
            Some(1) => match self.mount_kind(token, &secret.mount).await {
                Ok(MountKind::Kv(_)) => Ok(Some(1)),
                Ok(MountKind::Other(what)) => Err(kv::not_kv(secret, &what)),
                Err(why) => Err(kv::unconfirmed(secret, &why)),
            },
            Some(version) => Ok(Some(version)),
            None => Ok(self.kv_versions.lock().await.get(&secret.mount).copied()),
        }
    }

    /// The KV version to write or rotate with: settled, else asked. A mount that the lookup
    /// cannot describe is treated as v2, whose `data/` paths only a KV v2 engine serves.
    async fn write_version(
        &self,
        token: &SecretString,
        secret: &SecretPath,
    ) -> Result<u8, FetchError> {
        if let Some(version) = self.settled_version(token, secret).await? {
            return Ok(version);
        }
        match self.mount_kind(token, &secret.mount).await {
            Ok(MountKind::Kv(version)) => Ok(version),
            Ok(MountKind::Other(what)) => Err(kv::not_kv(secret, &what)),
            Err(_) => Ok(2),
        }
    }

    /// Looks the mount up (once per mount per launch, however many reads ask); a KV mount's
    /// version is then known for the rest of the launch.
    async fn mount_kind(&self, token: &SecretString, mount: &str) -> MountLookup {
        let cell = {
            let mut probes = self.mount_lookups.lock().await;
            Arc::clone(probes.entry(mount.to_string()).or_default())
        };
        let kind = cell
            .get_or_init(|| kv::mount_kind(&self.http, token, mount))
            .await
            .clone();
        if let Ok(MountKind::Kv(version)) = kind {
            self.kv_versions
                .lock()
                .await
                .insert(mount.to_string(), version);
        }
        kind
    }

    /// Reads a path. KV v2 is the common case, so an unknown mount is read as v2 first, and
    /// looked up only when that answer is not a v2 secret (a 404, a 403 on the `data/` path, or
    /// no `data.data`): then, if the server reports a KV v1 mount, the path is read again as
    /// v1. The guide's five secrets cost five requests, and KV v1 mounts need no configuration.
    async fn read_secret(
        &self,
        token: &SecretString,
        secret: &SecretPath,
    ) -> (u8, Result<SecretData, FetchError>) {
        match self.settled_version(token, secret).await {
            Ok(Some(version)) => return (version, self.read_path(token, secret, version).await),
            Ok(None) => {}
            Err(error) => return (1, Err(error)),
        }
        let optimistic = self.read_path(token, secret, 2).await;
        match &optimistic {
            Ok(_) => {
                self.kv_versions
                    .lock()
                    .await
                    .insert(secret.mount.clone(), 2);
                (2, optimistic)
            }
            Err(error) if error.kind == FetchErrorKind::Unavailable => (2, optimistic),
            Err(_) => match self.mount_kind(token, &secret.mount).await {
                Ok(MountKind::Kv(1)) => (1, self.read_path(token, secret, 1).await),
                Ok(MountKind::Other(what)) => (2, Err(kv::not_kv(secret, &what))),
                _ => (2, optimistic),
            },
        }
    }

    async fn read_path(
        &self,
        token: &SecretString,
        secret: &SecretPath,
        kv_version: u8,
    ) -> Result<SecretData, FetchError> {
        let _permit = self.permits.acquire().await.map_err(|_| {
            FetchError::new(
                FetchErrorKind::Unavailable,
                "the Vault backend is shutting down",
            )
        })?;
        kv::read(
            &self.http,
            token,
            secret,
            kv_version,
            &self.settings.auth.describe(),
        )
        .await
    }

    /// KV reads: each path once, however many keys of it are read.
    async fn fetch_kv(&self, references: &[&Reference]) -> Answers {
        let mut answers = Answers::new();
        let mut wanted: BTreeMap<SecretPath, Vec<(&Reference, String)>> = BTreeMap::new();
        for &reference in references {
            match self.target(reference) {
                Ok((secret, key)) => wanted.entry(secret).or_default().push((reference, key)),
                Err(error) => {
                    answers.insert(reference.clone(), Err(error));
                }
            }
        }
        if wanted.is_empty() {
            return answers;
        }
        let token = match self.token().await {
            Ok(token) => token,
            Err(error) => {
                let references = wanted.values().flatten().map(|(reference, _)| *reference);
                answers.extend(self.login_failed(&error, references));
                return answers;
            }
        };
        let reads = join_all(wanted.iter().map(|(secret, keys)| {
            let token = &token;
            async move {
                let (kv_version, result) = self.read_secret(token, secret).await;
                (secret, keys, kv_version, result)
            }
        }))
        .await;
        for (secret, keys, kv_version, result) in reads {
            for (reference, key) in keys {
                let answer = match &result {
                    Ok(data) => kv::key_value(data, key, secret, kv_version).map(|value| Fetched {
                        value,
                        metadata: data.metadata.clone(),
                    }),
                    Err(error) => Err(error.clone()),
                };
                answers.insert((*reference).clone(), answer);
            }
        }
        answers
    }

    /// Dynamic reads: each declared secret once (one lease), with the launch's login.
    async fn fetch_dynamic(&self, references: &[&Reference]) -> Answers {
        if references.is_empty() {
            return Answers::new();
        }
        let token = match self.token().await {
            Ok(token) => token,
            Err(error) => return self.login_failed(&error, references.iter().copied()),
        };
        let answers = dynamic::fetch(
            &self.http,
            &token,
            references,
            &self.dynamic,
            &self.settings.auth.describe(),
        )
        .await;
        if answers.values().any(|answer| {
            answer
                .as_ref()
                .is_ok_and(|fetched| fetched.metadata.lease.is_some())
        }) {
            self.leased.store(true, Ordering::Relaxed);
        }
        answers
    }

    /// One failed login fails every read: each names its own secret, as reads do.
    fn login_failed<'a>(
        &self,
        error: &FetchError,
        references: impl Iterator<Item = &'a Reference>,
    ) -> Answers {
        references
            .map(|reference| {
                let message = format!("{} (reading {})", error.message, self.location(reference));
                let error = FetchError {
                    message,
                    ..error.clone()
                };
                (reference.clone(), Err(error))
            })
            .collect()
    }
}

#[async_trait]
impl Backend for VaultBackend {
    fn source(&self) -> Source {
        Source::Vault
    }

    fn location(&self, reference: &Reference) -> String {
        if dynamic::is_dynamic(reference) {
            return dynamic::location(reference, &self.dynamic);
        }
        target::describe(reference, &self.settings.mount, &self.settings.path)
    }

    async fn fetch(&self, references: &[Reference]) -> Answers {
        let (leased, kv): (Vec<&Reference>, Vec<&Reference>) = references
            .iter()
            .partition(|reference| dynamic::is_dynamic(reference));
        let (mut answers, dynamic_answers) =
            futures::future::join(self.fetch_kv(&kv), self.fetch_dynamic(&leased)).await;
        answers.extend(dynamic_answers);
        answers
    }

    async fn versions(&self, references: &[Reference]) -> Versions {
        let (leased, kv): (Vec<Reference>, Vec<Reference>) =
            references.iter().cloned().partition(dynamic::is_dynamic);
        // Polling only dynamic secrets needs no request at all (not even a login).
        let mut answers = if kv.is_empty() {
            Versions::new()
        } else {
            versions::versions(self, &kv).await
        };
        answers.extend(
            leased
                .into_iter()
                .map(|reference| (reference, Ok(dynamic::unchanging_version()))),
        );
        answers
    }

    async fn metadata(&self, references: &[Reference]) -> Described {
        metadata::metadata(self, references).await
    }

    async fn audit_devices(&self) -> Option<Result<Vec<String>, FetchError>> {
        Some(match self.token().await {
            Ok(token) => audit::devices(&self.http, &token).await,
            Err(error) => Err(error),
        })
    }

    async fn store(
        &self,
        reference: &Reference,
        value: &SecretString,
        _options: StoreOptions,
    ) -> Result<Metadata, FetchError> {
        let (secret, key) = self.target(reference)?;
        if secret.version.is_some() {
            return Err(FetchError::new(
                FetchErrorKind::Invalid,
                format!(
                    "{reference}: cannot write a pinned ?version; writing creates the next version"
                ),
            ));
        }
        let token = self.token().await?;
        // A write is rare and must go to the right engine: ask, rather than guess.
        let kv_version = self.write_version(&token, &secret).await?;
        kv::write(
            &self.http,
            &token,
            &secret,
            kv_version,
            &key,
            value,
            &self.settings.auth.describe(),
        )
        .await
    }

    fn rotation(&self) -> Option<&dyn super::RotationStore> {
        Some(self)
    }

    fn leases(&self) -> Option<&dyn LeaseStore> {
        Some(self)
    }

    fn usable_until(&self) -> Option<Instant> {
        self.renew_login_at.get().copied()
    }

    async fn keep_alive(&self) {
        if let Ok(token) = self.token().await {
            token_life::check(self, &token).await;
        }
    }

    async fn finish(&self) {
        if !(self.settings.revoke_token && self.settings.auth.logs_in()) {
            return;
        }
        // Vault revokes a token's leases with it: revoking the parent of a dynamic secret's
        // lease would drop the credentials the program was just given. The token is left to
        // its own TTL instead (choose the login role's token TTL to cover the lease's).
        if self.leased.load(Ordering::Relaxed) {
            tracing::info!(
                "the Vault token obtained by login is not revoked: it is the parent of a dynamic secret's lease, which Vault would revoke with it; it expires at its own TTL"
            );
            return;
        }
        if let Some(Ok(token)) = self.token.get() {
            match auth::revoke(&self.http, token).await {
                Ok(()) => tracing::debug!("revoked the Vault token obtained by login"),
                Err(error) => tracing::warn!("{error}"),
            }
        }
    }
}
