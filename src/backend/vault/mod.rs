//! HashiCorp Vault and OpenBao: KV v1 and v2, token/AppRole/Kubernetes/JWT auth.
//!
//! One launch is one short burst: log in once, learn each mount's KV version once (or take it
//! from the config), then read every distinct path once, concurrently (bounded), over one
//! connection pool. Several keys of one path cost one read.
//!
//! Logins, token revocation, KV reads and writes are plain HTTP requests on one reqwest client
//! (see `http`): one retry policy, one deadline, same-origin redirects only, bounded answers.

mod address;
mod auth;
mod failure;
mod http;
mod kv;
mod path;
mod redirect;
mod retry;
mod settings;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;
use tokio::sync::{OnceCell, Semaphore};

use self::http::Http;
use self::kv::{SecretData, SecretPath};
use self::settings::Resolved;
use super::{
    Answers, Backend, BuildContext, FetchError, FetchErrorKind, Fetched, Metadata, Source,
    StoreOptions,
};
use crate::problem::Problem;
use crate::reference::{Reference, Scheme};
use crate::secret::SecretString;

/// The field a reference reads when it names no `#KEY` (the guide stores `value=…`).
const DEFAULT_KEY: &str = "value";

pub struct VaultBackend {
    settings: Resolved,
    http: Http,
    token: OnceCell<Result<SecretString, FetchError>>,
    kv_versions: tokio::sync::Mutex<HashMap<String, u8>>,
    permits: Arc<Semaphore>,
}

impl VaultBackend {
    pub async fn build(context: &BuildContext<'_>) -> Result<VaultBackend, Problem> {
        let settings =
            settings::resolve(&context.config.vault, context.env, context.deadline).await?;
        let http = Http::new(&settings, context.deadline).await?;
        Ok(VaultBackend {
            permits: Arc::new(Semaphore::new(settings.max_concurrency)),
            settings,
            http,
            token: OnceCell::new(),
            kv_versions: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The secret and key a reference reads.
    fn target(&self, reference: &Reference) -> Result<(SecretPath, String), FetchError> {
        let invalid = |message: String| FetchError::new(FetchErrorKind::Invalid, message);
        for unsupported in ["version_stage", "version_id", "encoding"] {
            if reference.param(unsupported).is_some() {
                return Err(invalid(format!(
                    "{reference}: ?{unsupported}= is for AWS Secrets Manager; Vault takes ?version=N"
                )));
            }
        }
        let version = match reference.param("version") {
            None => None,
            Some(text) => Some(text.parse::<u64>().ok().filter(|v| *v > 0).ok_or_else(|| {
                invalid(format!(
                    "{reference}: ?version= must be a KV v2 version number (1, 2, …)"
                ))
            })?),
        };
        let (mount, path) = match reference.scheme {
            Scheme::Vault => {
                let (mount, path) = reference
                    .target
                    .split_once('/')
                    .unwrap_or((&reference.target, ""));
                (mount.to_string(), path.trim_matches('/').to_string())
            }
            _ => {
                let name = reference.target.trim_matches('/');
                let path = match self.settings.path.as_str() {
                    "" => name.to_string(),
                    prefix => format!("{prefix}/{name}"),
                };
                (self.settings.mount.clone(), path)
            }
        };
        if path.is_empty() {
            return Err(invalid(format!(
                "{reference}: no path inside mount \"{mount}\""
            )));
        }
        if let Some(why) = path::problem(&format!("{mount}/{path}")) {
            return Err(
                invalid(format!("{reference}: the Vault path has {why}")).with_hint(path::HINT)
            );
        }
        let key = reference
            .key
            .clone()
            .unwrap_or_else(|| DEFAULT_KEY.to_string());
        Ok((
            SecretPath {
                mount,
                path,
                version,
            },
            key,
        ))
    }

    async fn token(&self) -> Result<SecretString, FetchError> {
        self.token
            .get_or_init(|| auth::token(&self.settings, &self.http))
            .await
            .clone()
    }

    /// Each mount's KV version: from the config, or looked up once per mount per launch.
    async fn kv_versions(
        &self,
        token: &SecretString,
        mounts: &BTreeSet<String>,
    ) -> HashMap<String, u8> {
        let mut known = self.kv_versions.lock().await;
        let unknown: Vec<&String> = mounts
            .iter()
            .filter(|mount| !known.contains_key(*mount))
            .collect();
        let looked_up = join_all(unknown.iter().map(|mount| async {
            let version = match self.settings.kv_version {
                Some(version) => version,
                None => kv::mount_version(&self.http, token, mount).await,
            };
            ((*mount).clone(), version)
        }))
        .await;
        known.extend(looked_up);
        known.clone()
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
}

#[async_trait]
impl Backend for VaultBackend {
    fn source(&self) -> Source {
        Source::Vault
    }

    fn location(&self, reference: &Reference) -> String {
        match self.target(reference) {
            Ok((secret, key)) => match secret.version {
                Some(version) => format!("{}#{key}?version={version}", secret.logical()),
                None => format!("{}#{key}", secret.logical()),
            },
            Err(_) => reference.to_string(),
        }
    }

    async fn fetch(&self, references: &[Reference]) -> Answers {
        let mut answers = Answers::new();
        let mut wanted: BTreeMap<SecretPath, Vec<(&Reference, String)>> = BTreeMap::new();
        for reference in references {
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
                for (reference, _) in wanted.values().flatten() {
                    answers.insert((*reference).clone(), Err(error.clone()));
                }
                return answers;
            }
        };
        let mounts = wanted.keys().map(|secret| secret.mount.clone()).collect();
        let versions = self.kv_versions(&token, &mounts).await;
        let reads = join_all(wanted.iter().map(|(secret, keys)| {
            let kv_version = versions.get(&secret.mount).copied().unwrap_or(2);
            let token = &token;
            async move {
                (
                    secret,
                    keys,
                    kv_version,
                    self.read_path(token, secret, kv_version).await,
                )
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
        let versions = self
            .kv_versions(&token, &BTreeSet::from([secret.mount.clone()]))
            .await;
        let kv_version = versions.get(&secret.mount).copied().unwrap_or(2);
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

    async fn finish(&self) {
        if !(self.settings.revoke_token && self.settings.auth.logs_in()) {
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
