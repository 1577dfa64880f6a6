//! Where secrets live. Every backend answers a whole launch's references for it at once, keyed
//! by reference, so that Vault can read a path once for many keys and AWS can batch.

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "azure")]
mod azure;
pub mod call_deadline;
mod env;
mod file;
#[cfg(any(feature = "vault", feature = "azure"))]
mod http;
mod json_key;
mod layout;
mod lease;
mod rotation;
#[cfg(feature = "vault")]
mod vault;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::config::{BackendKind, Config};
use crate::env_vars::Environment;
use crate::problem::Problem;
use crate::reference::{Reference, Scheme};
use crate::secret::SecretString;

#[cfg(feature = "aws")]
pub use aws::AwsBackend;
pub use env::EnvBackend;
pub use file::FileBackend;
pub use layout::{Layout, Resource, paired_username_reference};
pub use lease::{Lease, LeaseStore, Renewed};
pub use rotation::{KeptPrevious, PendingSlot, RUNNING_HINT, RotationStore, slot_value};

/// Which backend serves a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Env,
    File,
    Vault,
    AwsSecretsManager,
    AzureKeyVault,
}

impl Source {
    pub fn of(reference: &Reference, configured: BackendKind) -> Source {
        match reference.scheme {
            Scheme::Secret => Source::from(configured),
            Scheme::Env => Source::Env,
            Scheme::File => Source::File,
            // A dynamic secret is read from the Vault the config names, with the same login.
            Scheme::Vault | Scheme::VaultDynamic => Source::Vault,
            Scheme::AwsSm => Source::AwsSecretsManager,
            Scheme::AzureKv => Source::AzureKeyVault,
        }
    }

    /// A server across the network, as opposed to this machine's environment and files.
    pub fn is_remote(self) -> bool {
        !matches!(self, Source::Env | Source::File)
    }

    /// The backend and a location of it, for tables and plans, naming the backend once: env
    /// and file locations are already spelled with it (`env HOME`, `file:///run/x`).
    pub fn with_location(self, location: &str) -> String {
        match self {
            Source::Env | Source::File => location.to_string(),
            _ => format!("{self} {location}"),
        }
    }

    /// What plans and `rotate` know about this backend's locations without building it.
    pub fn layout(self) -> &'static dyn Layout {
        match self {
            Source::Env => &env::EnvLayout,
            Source::File => &file::FileLayout,
            #[cfg(feature = "vault")]
            Source::Vault => &vault::VaultLayout,
            #[cfg(feature = "aws")]
            Source::AwsSecretsManager => &aws::AwsLayout,
            #[cfg(feature = "azure")]
            Source::AzureKeyVault => &azure::AzureLayout,
            #[allow(unreachable_patterns)] // which sources remain depends on the features built
            _ => &layout::NotBuilt,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Env => "env",
            Source::File => "file",
            Source::Vault => "vault",
            Source::AwsSecretsManager => "aws_secrets_manager",
            Source::AzureKeyVault => "azure_key_vault",
        }
    }
}

impl From<BackendKind> for Source {
    fn from(kind: BackendKind) -> Self {
        match kind {
            BackendKind::Env => Source::Env,
            BackendKind::Vault => Source::Vault,
            BackendKind::AwsSecretsManager => Source::AwsSecretsManager,
            BackendKind::AzureKeyVault => Source::AzureKeyVault,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a backend knows about a secret besides its value, for `check`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub version: Option<String>,
    pub updated: Option<SystemTime>,
    /// When the version stops being valid (Key Vault's `exp`).
    pub expires: Option<SystemTime>,
    /// The version read is current and `rotate` kept the value it replaced in the previous
    /// slot (AWS: a staging label `CRONOS_PREVIOUS_KEPT`/`_2`; Key Vault: the tag
    /// `cronos-previous`; Vault: the field `previous`). Launches read the previous slot only
    /// when it is set, so a secret never rotated costs no extra request.
    pub previous_kept: bool,
    /// The previous slot's version that belongs to this one, where the slot has versions of
    /// its own (Key Vault): launches read that version, not the slot's latest.
    pub previous_version: Option<String>,
    /// The lease of a dynamic secret (`vault-dynamic://`): every field of one read shares it.
    pub lease: Option<Lease>,
}

#[derive(Debug, Clone)]
pub struct Fetched {
    pub value: SecretString,
    pub metadata: Metadata,
}

impl Fetched {
    pub fn value(value: SecretString) -> Self {
        Fetched {
            value,
            metadata: Metadata::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchErrorKind {
    NotFound,
    Denied,
    Invalid,
    Unavailable,
    Unsupported,
}

/// Why one reference could not be read. The message names the reference and the location,
/// the hint says what to do; neither ever holds a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    pub kind: FetchErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl FetchError {
    pub fn new(kind: FetchErrorKind, message: impl Into<String>) -> Self {
        FetchError {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

pub type Answers = HashMap<Reference, Result<Fetched, FetchError>>;

/// What [`Backend::metadata`] answers: one entry per reference given.
pub type Described = HashMap<Reference, Result<Metadata, FetchError>>;

/// What [`Backend::versions`] answers: one entry per reference given.
pub type Versions = HashMap<Reference, Result<Version, FetchError>>;

/// What identifies a secret's current value without holding it: a backend's version id
/// (`kv2:7`, an AWS version id), or a SHA-256 of the value where the backend has none. Compared
/// by the watcher, never logged (a digest of a short value could be guessed).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Version(String);

impl Version {
    pub fn new(id: impl Into<String>) -> Self {
        Version(id.into())
    }

    /// `sha256:<hex>` of the value: the version of a secret whose backend keeps none.
    pub fn of_value(value: &SecretString) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(value.expose());
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        Version(format!("sha256:{hex}"))
    }

    /// The backend's own version id (`7` of KV v2, an AWS or Key Vault version id), for the
    /// watcher's metrics; `None` for a digest of the value (or any form not listed here),
    /// which never leaves the process.
    pub fn backend_id(&self) -> Option<&str> {
        let (kind, rest) = self.0.split_once(':')?;
        match kind {
            "id" => Some(rest),
            // `kv2:<path>:<n>`, `aws:<secret id>:<version id>`: the id is after the last colon.
            "kv2" | "aws" => rest.rsplit_once(':').map(|(_, id)| id),
            _ => None,
        }
    }

    /// The backend's version when it reported one, else the value's digest.
    pub fn of_fetched(fetched: &Fetched) -> Self {
        match &fetched.metadata.version {
            Some(version) => Version::new(format!("id:{version}")),
            None => Version::of_value(&fetched.value),
        }
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest is derived from a value: never printed, even in debug output.
        f.write_str("Version(..)")
    }
}

/// How `set` writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreOptions {
    /// Create the secret when it does not exist yet (`set --create`).
    pub create: bool,
}

/// What every backend is built from.
pub struct BuildContext<'a> {
    pub config: &'a Config,
    pub env: &'a Environment,
    /// The launch's one deadline (from `--timeout`): logins, credential files, region and
    /// credential lookups, reads, retries and revocation all end by it.
    pub deadline: tokio::time::Instant,
    /// `run --keep-launcher-env`: references may read the launcher's credentials.
    pub keep_launcher_env: bool,
}

/// The deadline `timeout` from now; an absurd `--timeout` (years) means "no deadline" rather
/// than an overflow.
pub fn deadline_after(timeout: std::time::Duration) -> tokio::time::Instant {
    const FAR: std::time::Duration = std::time::Duration::from_secs(10 * 365 * 24 * 3600);
    let now = tokio::time::Instant::now();
    now.checked_add(timeout.min(FAR)).unwrap_or(now)
}

#[async_trait]
pub trait Backend: Send + Sync {
    fn source(&self) -> Source;

    /// Where the reference lives, for plans, audit events and messages
    /// (`file:///run/secrets/db`, `env CRONOS_AI_DB_PASSWORD`, `secret/data/cronos-ai/production/db#value`).
    fn location(&self, reference: &Reference) -> String;

    /// Fetches every reference; the answer has one entry per reference given.
    async fn fetch(&self, references: &[Reference]) -> Answers;

    /// The current version of each reference, for the watcher (`run --watch`, `render --watch`):
    /// as cheap as the backend allows (Vault KV v2 metadata, AWS `DescribeSecret`). This default
    /// reads the values and keeps their version id or digest, which is right for env and
    /// `file://` (a local read) and for backends that have no cheaper request.
    async fn versions(&self, references: &[Reference]) -> Versions {
        self.fetch(references)
            .await
            .into_iter()
            .map(|(reference, answer)| {
                (
                    reference,
                    answer.map(|fetched| Version::of_fetched(&fetched)),
                )
            })
            .collect()
    }

    /// Each reference's current version and when it was set, without reading its value: for
    /// `rotate --status` and `--dry-run`, which need dates, not values (Vault KV v2 metadata,
    /// AWS `ListSecretVersionIds`, Key Vault's version listing). Only
    /// [`Metadata::version`] and [`Metadata::updated`] are filled in. This default knows
    /// nothing (env and `file://` keep no dates), and reads nothing.
    async fn metadata(&self, references: &[Reference]) -> Described {
        references
            .iter()
            .map(|reference| (reference.clone(), Ok(Metadata::default())))
            .collect()
    }

    /// Writes a new version of the secret (`set`).
    async fn store(
        &self,
        reference: &Reference,
        _value: &SecretString,
        _options: StoreOptions,
    ) -> Result<Metadata, FetchError> {
        Err(FetchError::new(
            FetchErrorKind::Unsupported,
            format!("the {} backend cannot store {reference}", self.source()),
        )
        .with_hint("store it where it is read from, or configure a backend that can (vault, aws_secrets_manager, azure_key_vault)"))
    }

    /// The server's own audit devices (Vault's `sys/audit`), for `doctor`; `None` where the
    /// backend has no such listing (AWS and Azure log to CloudTrail and Monitor, outside it).
    async fn audit_devices(&self) -> Option<Result<Vec<String>, FetchError>> {
        None
    }

    /// The pending-slot operations of `rotate`; `None` for backends that cannot rotate.
    fn rotation(&self) -> Option<&dyn RotationStore> {
        None
    }

    /// Renewing and revoking the leases of dynamic secrets; `None` for backends without any.
    fn leases(&self) -> Option<&dyn LeaseStore> {
        None
    }

    /// Called once after a launch's reads, before exec: release what the backend holds
    /// (Vault revokes a token it obtained by login when asked to).
    async fn finish(&self) {}

    /// For a backend kept across calls (the library's manager): when its login or token
    /// nears its expiry, so that it is built afresh (logged in again) from then on. `None`:
    /// what it holds does not expire (env, files, static keys, a configured Vault token).
    fn usable_until(&self) -> Option<tokio::time::Instant> {
        None
    }

    /// For a backend kept across calls, before it serves another: keep a credential that it
    /// cannot replace itself alive (Vault renews a configured token once half its TTL is gone).
    async fn keep_alive(&self) {}
}

/// The backends a launch needs, built once; nothing is built for a source no reference uses
/// (constructing SDK clients costs milliseconds). A clone shares the built backends.
#[derive(Default, Clone)]
pub struct Backends {
    built: HashMap<Source, Arc<dyn Backend>>,
}

impl Backends {
    pub async fn build(
        sources: &BTreeSet<Source>,
        context: &BuildContext<'_>,
    ) -> Result<Backends, Problem> {
        let BuildContext {
            config,
            env,
            keep_launcher_env,
            ..
        } = context;
        let mut built: HashMap<Source, Arc<dyn Backend>> = HashMap::new();
        for &source in sources {
            let backend: Arc<dyn Backend> = match source {
                Source::Env => Arc::new(EnvBackend::new(
                    (*env).clone(),
                    config.secrets.clone(),
                    *keep_launcher_env,
                )),
                Source::File => Arc::new(FileBackend::new(context.deadline)),
                #[cfg(feature = "vault")]
                Source::Vault => Arc::new(vault::VaultBackend::build(context).await?),
                #[cfg(feature = "aws")]
                Source::AwsSecretsManager => Arc::new(AwsBackend::connect(context).await?),
                #[cfg(feature = "azure")]
                Source::AzureKeyVault => Arc::new(azure::AzureBackend::build(context).await?),
                #[allow(unreachable_patterns)] // which sources remain depends on the features built
                _ => return Err(not_built(source)),
            };
            built.insert(source, backend);
        }
        Ok(Backends { built })
    }

    /// Builds those of `sources` not built yet: a second round of reads may need a backend
    /// whose first-round references a watcher all reused.
    pub async fn add(
        &mut self,
        sources: &BTreeSet<Source>,
        context: &BuildContext<'_>,
    ) -> Result<(), Problem> {
        let missing: BTreeSet<Source> = sources
            .iter()
            .copied()
            .filter(|source| !self.built.contains_key(source))
            .collect();
        if !missing.is_empty() {
            self.built
                .extend(Backends::build(&missing, context).await?.built);
        }
        Ok(())
    }

    pub fn get(&self, source: Source) -> Option<&Arc<dyn Backend>> {
        self.built.get(&source)
    }

    /// Keeps `backend` as `source`'s (a kept one built afresh).
    pub fn insert(&mut self, source: Source, backend: Arc<dyn Backend>) {
        self.built.insert(source, backend);
    }

    /// Forgets `source`'s backend (a kept one to be built afresh); returns it.
    pub fn remove(&mut self, source: Source) -> Option<Arc<dyn Backend>> {
        self.built.remove(&source)
    }

    /// Lets every backend release what it holds; see [`Backend::finish`].
    pub async fn finish(&self) {
        futures::future::join_all(self.built.values().map(|backend| backend.finish())).await;
    }
}

fn not_built(source: Source) -> Problem {
    Problem::new(
        format!("backend {source}"),
        format!("the {source} backend is not available in this build of cronos-secrets"),
    )
    .with_hint(
        "use the env backend (secrets_manager.enabled: false) with env://, file:// or plain values",
    )
}

/// `2026-11-29T13:47:48Z`: times in messages, audit events and `check`.
pub fn utc(time: SystemTime) -> String {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|duration| duration.as_secs() as i64)
        .unwrap_or(0);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn times_print_in_utc() {
        assert_eq!(utc(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            utc(SystemTime::UNIX_EPOCH + Duration::from_secs(1_493_938_410)),
            "2017-05-04T22:53:30Z"
        );
        assert_eq!(
            utc(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn only_a_backends_own_version_id_is_shown() {
        let shown = |text: &str| Version::new(text).backend_id().map(str::to_string);
        assert_eq!(shown("kv2:secret/app:7").as_deref(), Some("7"));
        assert_eq!(
            shown("aws:arn:aws:secretsmanager:us-east-1:1:secret:db-AbC:v-1").as_deref(),
            Some("v-1")
        );
        assert_eq!(shown("id:0f3a").as_deref(), Some("0f3a"));
        let digest = Version::of_value(&SecretString::from("short"));
        assert_eq!(digest.backend_id(), None);
        assert_eq!(shown("lease:x"), None);
    }
}
