//! Azure Key Vault: `secret://NAME` (`_` → `-`) and `azure-kv://[VAULT-HOST/]NAME` with
//! `#KEY` and `?version=`, any number of vaults per launch, one credential flow per launch.
//!
//! A launch is one burst: per vault, one unauthenticated request elicits the 401 challenge
//! (tenant and scope, as the Azure SDKs learn them), one token per vault, then
//! every distinct (vault, name, version) is read once, concurrently, at most
//! `azure_max_concurrency` in flight. Key Vault has no batch read: N secrets are N GETs.
//!
//! A small client on the reqwest stack the Vault backend already uses, not Microsoft's
//! `azure_identity` / `azure_security_keyvault_secrets` crates: those bring `azure_core` and
//! its own HTTP pipeline into a binary that must stay under 12 MB, their
//! `ManagedIdentityCredential` has no IMDS address override (tests must never reach
//! 169.254.169.254) and ignores `AZURE_CLIENT_ID`, and they have no env-driven credential
//! selection, which is the part users need (see src/backend/azure/settings.rs).

mod challenge;
mod credential;
mod errors;
mod http;
mod layout;
mod metadata;
mod previous;
mod race;
mod rotation;
mod secret;
mod settings;
mod versions;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use futures::future::join_all;
use reqwest::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use tokio::sync::{Mutex, OnceCell, Semaphore};
use tokio::time::Instant;

use self::challenge::Challenge;
use self::errors::Doing;
use self::http::{Answer, Http, Patience};
pub use self::layout::AzureLayout;
use self::secret::{SecretId, Target};
use self::settings::EffectiveSettings;
use super::json_key::{json_field, key_hint};
use super::{
    Answers, Backend, BuildContext, Described, FetchError, FetchErrorKind, Fetched, Metadata,
    Source, StoreOptions,
};
use crate::logging::RELAXED_CHECK_TARGET;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::secret::SecretString;

type Shared<T> = Arc<OnceCell<Result<T, FetchError>>>;

pub struct AzureBackend {
    settings: EffectiveSettings,
    http: Http,
    permits: Semaphore,
    /// Per vault origin: its challenge, then one token for it per launch.
    vaults: Mutex<HashMap<String, Shared<HeaderValue>>>,
    /// When the first of those tokens has lived two thirds of its lifetime: a kept backend
    /// (the library's manager) is built afresh, with new tokens, from then on.
    renew_tokens_at: std::sync::Mutex<Option<Instant>>,
}

impl AzureBackend {
    pub async fn build(context: &BuildContext<'_>) -> Result<AzureBackend, Problem> {
        let settings = settings::resolve(&context.config.azure, context.env)?;
        let http = Http::new(context.env, context.deadline, settings.max_concurrency).await?;
        Ok(AzureBackend {
            permits: Semaphore::new(settings.max_concurrency),
            settings,
            http,
            vaults: Mutex::new(HashMap::new()),
            renew_tokens_at: std::sync::Mutex::new(None),
        })
    }

    fn target(&self, reference: &Reference) -> Result<Target, FetchError> {
        secret::target(reference, self.settings.vault.as_deref())
    }

    /// The `Authorization` header for `id`'s vault: its challenge, then a token of its own.
    /// As in Microsoft's SDKs (one client per vault), a token is never shared between vaults,
    /// so a host that answers a challenge gets at most a token requested for itself. The first
    /// secret asked is the challenge's probe; a failure is the vault's, told as `id`'s own.
    async fn authorize(&self, id: &SecretId) -> Result<HeaderValue, FetchError> {
        let cell = self
            .vaults
            .lock()
            .await
            .entry(id.vault.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| async {
            let challenge = self.challenge(id).await?;
            if let Err(mismatch) = challenge.verify(id.host()) {
                self.accept_mismatch(id, &mismatch)?;
            }
            self.token(&challenge).await
        })
        .await
        .clone()
        .map_err(|error| errors::for_secret(error, id, None))
    }

    /// `azure_verify_challenge_resource: false` is for the configured vault behind a private
    /// endpoint: it relaxes the check for `azure_vault_url` alone, never for a vault that a
    /// reference names, and it is said at warn level even under `-q`.
    fn accept_mismatch(&self, probe: &SecretId, mismatch: &str) -> Result<(), FetchError> {
        let configured = self.settings.vault.as_deref() == Some(probe.vault.as_str());
        if configured && !self.settings.verify_challenge_resource {
            tracing::warn!(
                target: RELAXED_CHECK_TARGET,
                vault = %probe.vault,
                "{mismatch} (accepted for the configured vault only: azure_verify_challenge_resource is false)"
            );
            return Ok(());
        }
        let hint = if configured {
            "use the vault's real URL (https://NAME.vault.azure.net, .vault.azure.cn, .vault.usgovcloudapi.net); for a private endpoint under another name set secrets_manager.azure_verify_challenge_resource: false"
        } else {
            "a vault named by azure-kv://HOST/ must answer a challenge for its own domain; azure_verify_challenge_resource: false covers secrets_manager.azure_vault_url only"
        };
        Err(FetchError::new(
            FetchErrorKind::Denied,
            format!("{mismatch}; no token is requested for a vault outside the resource's domain"),
        )
        .with_hint(hint))
    }

    /// One unauthenticated GET, without a body, as the SDKs send it: Key Vault answers 401
    /// with its challenge.
    async fn challenge(&self, probe: &SecretId) -> Result<Challenge, FetchError> {
        let url = probe.url();
        let answer = self
            .http
            .send(|client| client.get(&url), Patience::Deadline)
            .await
            .map_err(|failure| errors::unreachable(&failure, &probe.vault, &self.settings.flow))?;
        let header = answer.header(WWW_AUTHENTICATE.as_str()).unwrap_or("");
        match (answer.status, Challenge::parse(header)) {
            (401, Some(challenge)) => Ok(challenge),
            (status, _) => Err(FetchError::new(
                FetchErrorKind::Invalid,
                format!(
                    "expected Key Vault's 401 challenge (WWW-Authenticate: Bearer authorization=…, resource=…) to an unauthenticated request, got {status}"
                ),
            )
            .with_hint("check that secrets_manager.azure_vault_url (or the azure-kv:// host) is a Key Vault URL")),
        }
    }

    async fn token(&self, challenge: &Challenge) -> Result<HeaderValue, FetchError> {
        let token = credential::token(&self.http, &self.settings, challenge).await?;
        tracing::debug!(credential = %self.settings.flow.describe(), "got a Key Vault token");
        let renew_at = Instant::now() + token.lifetime * 2 / 3;
        if let Ok(mut earliest) = self.renew_tokens_at.lock() {
            *earliest = Some(earliest.map_or(renew_at, |earliest| earliest.min(renew_at)));
        }
        let mut bearer = SecretString::from("Bearer ");
        bearer.push_bytes(token.value.expose());
        let mut header = HeaderValue::from_bytes(bearer.expose()).map_err(|_| {
            FetchError::new(
                FetchErrorKind::Invalid,
                "the token holds characters not allowed in an HTTP header",
            )
        })?;
        header.set_sensitive(true);
        Ok(header)
    }

    /// GET of the secret's bundle (its current or pinned version), answered whatever the
    /// status; only a failure to get an answer at all is an error here.
    async fn get_bundle(
        &self,
        id: &SecretId,
        bearer: &HeaderValue,
        doing: Doing,
    ) -> Result<Answer, FetchError> {
        self.get_authorized(&id.url(), id, bearer, doing).await
    }

    /// An authorized GET of `url`, a location of `id`'s secret (its bundle, its versions),
    /// answered whatever the status; a failure to get an answer names the secret.
    async fn get_authorized(
        &self,
        url: &str,
        id: &SecretId,
        bearer: &HeaderValue,
        doing: Doing,
    ) -> Result<Answer, FetchError> {
        self.http
            .send(
                |client| client.get(url).header(AUTHORIZATION, bearer.clone()),
                Patience::Deadline,
            )
            .await
            .map_err(|failure| {
                errors::for_secret(
                    errors::unreachable(&failure, &id.vault, &self.settings.flow),
                    id,
                    Some(doing),
                )
            })
    }

    /// Whether the secret has any version, from its versions listing (attributes only: the
    /// current value is not downloaded just to be overwritten). Key Vault answers 404 for a
    /// secret that never existed, an empty list for one without versions.
    async fn exists(&self, id: &SecretId, bearer: &HeaderValue) -> Result<bool, FetchError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            value: Vec<serde_json::Value>,
        }
        let flow = &self.settings.flow;
        let answer = self
            .get_authorized(&id.versions_url(), id, bearer, Doing::Writing)
            .await?;
        match answer.status {
            200 => Ok(answer
                .json::<Page>()
                .is_some_and(|page| !page.value.is_empty())),
            404 => Ok(false),
            _ => Err(errors::explain(&answer, id, flow, Doing::Writing)),
        }
    }

    /// A write (`PUT` of a new version, `PATCH` of a version's tags) with a JSON body that may
    /// hold a value; any answer but 200 is explained as an error.
    async fn write_json(
        &self,
        method: reqwest::Method,
        url: &str,
        id: &SecretId,
        body: &serde_json::Value,
    ) -> Result<Answer, FetchError> {
        let bearer = self.authorize(id).await?;
        let body = SecretString::from(body.to_string());
        let flow = &self.settings.flow;
        let answer = self
            .http
            .send(
                |client| {
                    client
                        .request(method.clone(), url)
                        .header(AUTHORIZATION, bearer.clone())
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.expose().to_vec())
                },
                Patience::Deadline,
            )
            .await
            .map_err(|failure| {
                let error = errors::unreachable(&failure, &id.vault, flow);
                errors::for_secret(error, id, Some(Doing::Writing))
            })?;
        if answer.status != 200 {
            return Err(errors::explain(&answer, id, flow, Doing::Writing));
        }
        Ok(answer)
    }

    async fn read(&self, id: &SecretId) -> Result<Fetched, FetchError> {
        let bearer = self.authorize(id).await?;
        let _permit = self.permits.acquire().await.map_err(|_| {
            FetchError::new(
                FetchErrorKind::Unavailable,
                "the Azure backend is shutting down",
            )
        })?;
        let flow = &self.settings.flow;
        let answer = self.get_bundle(id, &bearer, Doing::Reading).await?;
        if answer.status != 200 {
            return Err(errors::explain(&answer, id, flow, Doing::Reading));
        }
        match secret::version(&answer.body, SystemTime::now()) {
            Ok(Ok(version)) => Ok(Fetched {
                value: version.value,
                metadata: version.metadata,
            }),
            Ok(Err(why)) => Err(errors::unusable(&why, id, flow)),
            Err(reason) => Err(FetchError::new(
                FetchErrorKind::Invalid,
                format!("vault {}, secret \"{}\": {reason}", id.vault, id.name),
            )
            .with_hint("check that the URL points at Key Vault")),
        }
    }
}

#[async_trait]
impl Backend for AzureBackend {
    fn source(&self) -> Source {
        Source::AzureKeyVault
    }

    fn location(&self, reference: &Reference) -> String {
        match self.target(reference) {
            Ok(target) => describe(&target),
            Err(_) => reference.to_string(),
        }
    }

    async fn fetch(&self, references: &[Reference]) -> Answers {
        let mut answers = Answers::new();
        let mut wanted: BTreeMap<(String, String, Option<String>), Vec<(&Reference, Target)>> =
            BTreeMap::new();
        for reference in references {
            match self.target(reference) {
                Ok(target) => wanted
                    .entry(target.id.read_key())
                    .or_default()
                    .push((reference, target)),
                Err(error) => {
                    answers.insert(reference.clone(), Err(error));
                }
            }
        }
        // Two spellings of one secret (`db_password` and `db-password`, `DB` and `db`) are a
        // mistake the user must see: Key Vault cannot tell them apart.
        wanted.retain(|_, readers| {
            let spellings: BTreeSet<&str> =
                readers.iter().map(|(_, target)| target.written.as_str()).collect();
            if spellings.len() < 2 {
                return true;
            }
            let names: Vec<String> = readers
                .iter()
                .map(|(reference, _)| reference.to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let id = &readers[0].1.id;
            for (reference, _) in readers.iter() {
                answers.insert(
                    (*reference).clone(),
                    Err(FetchError::new(
                        FetchErrorKind::Invalid,
                        format!(
                            "{} {} name the Key Vault secret \"{}\" in {} (Key Vault names are case-insensitive, and secret:// maps _ to -)",
                            names.join(" and "),
                            if names.len() == 2 { "both" } else { "all" },
                            id.name.to_ascii_lowercase(),
                            id.vault
                        ),
                    )
                    .with_hint("write every reference to this secret the same way"),
                    ),
                );
            }
            false
        });
        tracing::debug!(
            references = references.len(),
            secret_versions = wanted.len(),
            "reading from Azure Key Vault"
        );
        let reads = join_all(wanted.values().map(|readers| async move {
            let id = &readers[0].1.id;
            (readers, self.read(id).await)
        }))
        .await;
        for (readers, result) in reads {
            for (reference, target) in readers {
                let answer = match (&result, &target.key) {
                    (Ok(fetched), None) => Ok(fetched.clone()),
                    (Ok(fetched), Some(key)) => json_field(&fetched.value, key)
                        .map(|value| Fetched {
                            value,
                            metadata: fetched.metadata.clone(),
                        })
                        .map_err(|problem| {
                            FetchError::new(
                                FetchErrorKind::NotFound,
                                format!("{}: {problem}", describe(target)),
                            )
                            .with_hint(key_hint(&fetched.value))
                        }),
                    (Err(error), _) => Err(error.clone()),
                };
                answers.insert((*reference).clone(), answer);
            }
        }
        answers
    }

    async fn metadata(&self, references: &[Reference]) -> Described {
        self.described(references).await
    }

    async fn store(
        &self,
        reference: &Reference,
        value: &SecretString,
        options: StoreOptions,
    ) -> Result<Metadata, FetchError> {
        let target = self.target(reference)?;
        let location = describe(&target);
        let invalid = |problem: &str, hint: &str| {
            FetchError::new(FetchErrorKind::Invalid, format!("{location}: {problem}"))
                .with_hint(hint.to_string())
        };
        if target.key.is_some() {
            return Err(invalid(
                "set writes a whole secret, not one #KEY of it",
                "pipe the whole JSON object to set, with the reference's #KEY removed",
            ));
        }
        if target.id.version.is_some() {
            return Err(invalid(
                "set writes a new version, which takes no ?version",
                "remove ?version= from the reference",
            ));
        }
        let text = value.expose_str().ok_or_else(|| {
            invalid(
                "Key Vault secrets are text, and the value is not UTF-8",
                "base64-encode binary data before storing it",
            )
        })?;
        let id = &target.id;
        let flow = &self.settings.flow;
        let bearer = self.authorize(id).await?;
        if !options.create && !self.exists(id, &bearer).await? {
            return Err(FetchError::new(
                FetchErrorKind::NotFound,
                format!(
                    "secret \"{}\" does not exist in vault {} (credential: {})",
                    id.name,
                    id.vault,
                    flow.describe()
                ),
            )
            .with_hint(
                "pass --create to create it, or check the name and secrets_manager.azure_vault_url",
            ));
        }
        let answer = self
            .write_json(
                reqwest::Method::PUT,
                &id.set_url(),
                id,
                &serde_json::json!({ "value": text }),
            )
            .await?;
        match secret::version(&answer.body, SystemTime::now()) {
            Ok(Ok(version)) => Ok(version.metadata),
            // Written, though not usable yet (a vault policy may set nbf/exp): say so at once.
            Ok(Err(why)) => Err(errors::unusable(&why, id, flow)),
            Err(_) => Ok(Metadata::default()),
        }
    }

    fn usable_until(&self) -> Option<Instant> {
        self.renew_tokens_at
            .lock()
            .ok()
            .and_then(|earliest| *earliest)
    }

    fn rotation(&self) -> Option<&dyn super::RotationStore> {
        Some(self)
    }
}

/// `https://x.vault.azure.net/secrets/NAME[/VERSION][#KEY]`.
fn describe(target: &Target) -> String {
    match &target.key {
        Some(key) => format!("{}#{key}", target.id.location()),
        None => target.id.location(),
    }
}
