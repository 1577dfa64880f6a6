//! The config file (the guide's `config/cronos_ai.production.yaml`), `CRONOS_SECRETS_*`
//! overrides and `${VAR}` expansion, turned once into a validated [`Config`].
//!
//! The file belongs to the application: only `secrets_manager:`, `secrets:`, `rotation:` and
//! `dynamic:` are ours, other top-level keys are ignored, but a near miss of ours
//! (`secret_manager:`) is an error, because a typo must not silently select the defaults.

use std::fmt;
use std::path::{Path, PathBuf};

mod checklist;
mod document;
mod dynamic;
mod reader;
mod rotation;
mod typed_mapping;

pub use dynamic::DynamicSecret;
pub use rotation::{DatabaseSettings, RedisSettings, RotationSettings, SslMode, Strategy};

pub use checklist::ChecklistSettings;

use crate::bounded;
use crate::env_vars::{self, Environment};
use crate::schema::RequiredSecret;
use crate::secret::SecretString;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackendKind {
    Env,
    Vault,
    AwsSecretsManager,
    AzureKeyVault,
}

impl BackendKind {
    const NAMES: [(&'static str, BackendKind); 4] = [
        ("env", BackendKind::Env),
        ("vault", BackendKind::Vault),
        ("aws_secrets_manager", BackendKind::AwsSecretsManager),
        ("azure_key_vault", BackendKind::AzureKeyVault),
    ];

    pub fn as_str(self) -> &'static str {
        BackendKind::NAMES
            .iter()
            .find(|(_, kind)| *kind == self)
            .map(|(name, _)| *name)
            .unwrap_or("env")
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the config came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOrigin {
    BuiltIn,
    File(PathBuf),
    /// Settings a program passed in (the Python binding's `get_secrets_manager({...})`), named
    /// in messages by this label; they have no lines to point at.
    Given(String),
}

#[derive(Debug, Clone, Default)]
pub struct VaultAuthSettings {
    pub method: Option<String>,
    pub mount: Option<String>,
    pub role: Option<String>,
    pub role_id: Option<String>,
    pub role_id_file: Option<PathBuf>,
    pub secret_id: Option<SecretString>,
    pub secret_id_file: Option<PathBuf>,
    pub jwt_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct VaultSettings {
    pub addr: Option<String>,
    pub token: Option<SecretString>,
    pub mount_point: String,
    pub path: Option<String>,
    pub namespace: Option<String>,
    pub kv_version: Option<u8>,
    pub max_concurrency: usize,
    pub revoke_token: bool,
    pub auth: VaultAuthSettings,
}

#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub prefix: String,
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AzureSettings {
    pub vault_url: Option<String>,
    /// `azure_auth`: auto, client_secret, workload_identity, managed_identity or cli.
    pub auth: Option<String>,
    pub max_concurrency: usize,
    /// `azure_verify_challenge_resource`: the 401 challenge's resource must match the vault host;
    /// `false` relaxes this for `azure_vault_url` only, never for a vault a reference names.
    pub verify_challenge_resource: bool,
    /// `azure_imds_timeout`: how long the IMDS endpoint may take to answer at all.
    pub imds_timeout: std::time::Duration,
}

/// The validated settings a launch runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub backend: BackendKind,
    pub vault: VaultSettings,
    pub aws: AwsSettings,
    pub azure: AzureSettings,
    pub secrets: Vec<RequiredSecret>,
    /// `secrets_manager.audit_log` (or `CRONOS_SECRETS_AUDIT_LOG`): the file audit events are
    /// appended to when `--audit-log` (in Python, `audit_log=`) names none.
    pub audit_log: Option<PathBuf>,
    /// `checklist:`: the paths `doctor` looks at (see `checklist`, which also owns the section's
    /// near-miss check).
    pub checklist: ChecklistSettings,
    /// `rotation:`: the systems `rotate --database` and `--redis` change passwords in.
    pub rotation: RotationSettings,
    /// `dynamic:`: the Vault dynamic secrets `vault-dynamic://NAME#FIELD` may read.
    pub dynamic: Vec<DynamicSecret>,
}

impl Config {
    /// The declared dynamic secret `name`.
    pub fn dynamic_secret(&self, name: &str) -> Option<&DynamicSecret> {
        self.dynamic.iter().find(|secret| secret.name == name)
    }

    /// Whether the secret `name` holds a login whose user name changes with its password (the
    /// database password under `strategy: alternating`): launches read the password out of
    /// the pair, and `#username` beside it.
    pub fn is_paired_login(&self, name: &str) -> bool {
        name == "database_password"
            && self
                .rotation
                .database
                .as_ref()
                .is_some_and(|database| database.strategy == Strategy::Alternating)
    }
}

/// A problem with the config, where it is, and what to do.
pub type ConfigError = crate::problem::Problem;

pub(crate) const SECRETS_MANAGER: &str = "secrets_manager";
pub(crate) const SECRETS: &str = "secrets";

/// Keys of `secrets_manager:`; `vault_auth` is the one nested map.
pub(crate) const MANAGER_KEYS: &[&str] = &[
    "enabled",
    "backend",
    "vault_addr",
    "vault_token",
    "vault_mount_point",
    "vault_path",
    "vault_namespace",
    "vault_kv_version",
    "vault_max_concurrency",
    "vault_revoke_token",
    "vault_auth",
    "aws_region",
    "aws_prefix",
    "aws_endpoint_url",
    "azure_vault_url",
    "azure_auth",
    "azure_max_concurrency",
    "azure_verify_challenge_resource",
    "azure_imds_timeout",
    "audit_log",
];
pub(crate) const VAULT_AUTH_KEYS: &[&str] = &[
    "method",
    "mount",
    "role",
    "role_id",
    "role_id_file",
    "secret_id",
    "secret_id_file",
    "jwt_file",
];
pub(crate) const SECRET_KEYS: &[&str] = &[
    "env",
    "aliases",
    "min_length",
    "rotate_every",
    "previous_grace",
    "description",
    "optional",
];

/// Finds the config: `--config`, else `$CRONOS_SECRETS_CONFIG`, else
/// `config/cronos_ai.${CRONOS_AI_ENV:-production}.yaml` when it exists, else none (built-in).
pub fn locate(explicit: Option<&Path>, env: &Environment) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    if let Some(path) = env.get_str(env_vars::CONFIG) {
        return Some(PathBuf::from(path));
    }
    let conventional = PathBuf::from(format!("config/cronos_ai.{}.yaml", env_vars::app_env(env)));
    conventional.is_file().then_some(conventional)
}

/// Loads and validates the config at `path` (or the built-in defaults), with overrides from `env`.
pub fn load(path: Option<&Path>, env: &Environment) -> Result<Config, ConfigError> {
    let (origin, text) = match path {
        Some(path) => {
            let unreadable = |reason: String| ConfigError {
                location: path.display().to_string(),
                message: format!("cannot read the config file: {reason}"),
                hint: Some("pass an existing file with --config or CRONOS_SECRETS_CONFIG".into()),
            };
            let bytes = bounded::read_input_file(path, bounded::INPUT_FILE_LIMIT)
                .map_err(|error| unreadable(error.to_string()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| unreadable("not valid UTF-8 text".to_string()))?;
            (ConfigOrigin::File(path.to_path_buf()), text)
        }
        None => (ConfigOrigin::BuiltIn, String::new()),
    };
    from_text(&origin, &text, env)
}

/// Reads a config's text (from `origin`, named in errors), with overrides from `env`.
pub(crate) fn from_text(
    origin: &ConfigOrigin,
    text: &str,
    env: &Environment,
) -> Result<Config, ConfigError> {
    reader::read(origin, text, env)
}
