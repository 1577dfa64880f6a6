//! Vault settings from the config, falling back to Vault's standard variables
//! (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT, VAULT_SKIP_VERIFY, VAULT_ROLE_ID,
//! VAULT_SECRET_ID), read once into what the backend runs with. Credential files are read
//! within the launch's deadline, as regular files of bounded size.

use std::path::PathBuf;

use tokio::time::Instant;
use url::Url;

use super::path;
use super::target;
use crate::bounded::{self, ReadError};
use crate::config::VaultSettings;
use crate::env_vars::Environment;
use crate::problem::Problem;
use crate::secret::SecretString;

/// The default service-account token of a Kubernetes pod.
const KUBERNETES_TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// The settings a launch talks to Vault with: the config's, else Vault's own variables.
#[derive(Debug, Clone)]
pub struct EffectiveSettings {
    pub address: Url,
    pub namespace: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub skip_verify: bool,
    pub mount: String,
    /// Prefix of `secret://NAME` paths inside the mount (`cronos-ai/production`).
    pub path: String,
    pub kv_version: Option<u8>,
    pub max_concurrency: usize,
    pub revoke_token: bool,
    pub auth: Auth,
}

#[derive(Debug, Clone)]
pub enum Auth {
    Token(SecretString),
    AppRole {
        mount: String,
        role_id: SecretString,
        secret_id: SecretString,
    },
    Kubernetes {
        mount: String,
        role: String,
        jwt_file: PathBuf,
    },
    Jwt {
        mount: String,
        role: Option<String>,
        jwt_file: PathBuf,
    },
}

impl Auth {
    /// "token", "approle, role cronos-ai" … for messages.
    pub fn describe(&self) -> String {
        match self {
            Auth::Token(_) => "token".to_string(),
            Auth::AppRole { mount, .. } => format!("approle at auth/{mount}"),
            Auth::Kubernetes { mount, role, .. } => {
                format!("kubernetes at auth/{mount}, role {role}")
            }
            Auth::Jwt { mount, role, .. } => match role {
                Some(role) => format!("jwt at auth/{mount}, role {role}"),
                None => format!("jwt at auth/{mount}"),
            },
        }
    }

    pub fn logs_in(&self) -> bool {
        !matches!(self, Auth::Token(_))
    }
}

pub async fn resolve(
    settings: &VaultSettings,
    env: &Environment,
    deadline: Instant,
) -> Result<EffectiveSettings, Problem> {
    let address = address(settings, env)?;
    let skip_verify = env.get_str("VAULT_SKIP_VERIFY").is_some_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes"
        )
    });
    let mount = target::configured_mount(settings);
    checked_path(&mount, "secrets_manager.vault_mount_point")?;
    let secret_path = target::configured_prefix(settings);
    if !secret_path.is_empty() {
        checked_path(&secret_path, "secrets_manager.vault_path")?;
    }
    Ok(EffectiveSettings {
        address,
        namespace: settings.namespace.clone().or_else(|| {
            env.get_str("VAULT_NAMESPACE")
                .filter(|text| !text.is_empty())
                .map(str::to_string)
        }),
        ca_file: env
            .get_str("VAULT_CACERT")
            .filter(|text| !text.is_empty())
            .map(PathBuf::from),
        skip_verify,
        mount,
        path: secret_path,
        kv_version: settings.kv_version,
        max_concurrency: settings.max_concurrency,
        revoke_token: settings.revoke_token,
        auth: auth(settings, env, deadline).await?,
    })
}

/// `vault_addr`, else VAULT_ADDR. A bad one is not echoed: a token pasted into the wrong
/// setting (or VAULT_ADDR and VAULT_TOKEN swapped) would end up in logs.
fn address(settings: &VaultSettings, env: &Environment) -> Result<Url, Problem> {
    let (text, origin) = match &settings.addr {
        Some(text) => (text.clone(), "secrets_manager.vault_addr"),
        None => match env.get_str("VAULT_ADDR").filter(|text| !text.is_empty()) {
            Some(text) => (text.to_string(), "VAULT_ADDR"),
            None => {
                return Err(Problem::new("vault", "no Vault address configured").with_hint(
                    "set VAULT_ADDR (e.g. https://vault.example.com:8200) or secrets_manager.vault_addr",
                ));
            }
        },
    };
    Url::parse(text.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .ok_or_else(|| {
            Problem::new(
                origin,
                "invalid Vault address (not shown, in case it holds a credential)",
            )
            .with_hint(format!(
                "set {origin} to http://HOST:PORT or https://HOST:PORT (e.g. https://vault.example.com:8200)"
            ))
        })
}

/// A configured mount or path prefix: plain segments only (see `path`).
fn checked_path(text: &str, setting: &str) -> Result<(), Problem> {
    match path::problem(text) {
        None => Ok(()),
        Some(why) => {
            Err(Problem::new(setting, format!("the Vault path has {why}")).with_hint(path::HINT))
        }
    }
}

/// A credential file (AppRole ids, `~/.vault-token`): a regular file of at most
/// [`bounded::SECRET_FILE_LIMIT`], read before `deadline`.
pub async fn read_credential_file(
    file: &std::path::Path,
    deadline: Instant,
) -> Result<SecretString, ReadError> {
    bounded::read_regular_file_until(file.to_path_buf(), bounded::SECRET_FILE_LIMIT, deadline)
        .await
        .map(|bytes| SecretString::new(bytes).trim_one_trailing_newline())
}

async fn auth(
    settings: &VaultSettings,
    env: &Environment,
    deadline: Instant,
) -> Result<Auth, Problem> {
    let auth = &settings.auth;
    let method = auth
        .method
        .as_deref()
        .unwrap_or("token")
        .trim()
        .to_ascii_lowercase();
    let mount = |default: &str| -> Result<String, Problem> {
        let mount = auth
            .mount
            .clone()
            .unwrap_or_else(|| default.to_string())
            .trim_matches('/')
            .to_string();
        checked_path(&mount, "secrets_manager.vault_auth.mount")?;
        Ok(mount)
    };
    let read_file = |path: PathBuf, what: &'static str| async move {
        read_credential_file(&path, deadline)
            .await
            .map_err(|error| {
                Problem::new(
                    path.display().to_string(),
                    format!("cannot read the {what}: the file {error}"),
                )
                .with_hint(error.hint().unwrap_or_else(|| {
                    "check secrets_manager.vault_auth and that the file is mounted".to_string()
                }))
            })
    };
    match method.as_str() {
        "token" => {
            let mut token = settings
                .token
                .clone()
                .or_else(|| env_secret(env, "VAULT_TOKEN"));
            if token.is_none()
                && let Some(home) = env.get_str("HOME")
            {
                // `bao login` / `vault login` leave the token here; no file is no token.
                let file = PathBuf::from(home).join(".vault-token");
                token = match read_credential_file(&file, deadline).await {
                    Ok(token) => Some(token),
                    Err(ReadError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => None,
                    Err(error) => {
                        return Err(Problem::new(
                            file.display().to_string(),
                            format!("cannot read the Vault token file: the file {error}"),
                        )
                        .with_hint(error.hint().unwrap_or_else(|| {
                            "set VAULT_TOKEN, or log in again with `bao login`".to_string()
                        })));
                    }
                };
            }
            let token = token.filter(|token| !token.is_empty()).ok_or_else(|| {
                Problem::new("vault", "Vault authentication failed: no token")
                    .with_hint("set VAULT_TOKEN, log in with `bao login`/`vault login` (~/.vault-token), or choose vault_auth.method: approle, kubernetes or jwt")
            })?;
            // Said once, now: every request would fail the same way.
            if reqwest::header::HeaderValue::from_bytes(token.expose()).is_err() {
                return Err(Problem::new(
                    "vault",
                    "the Vault token holds characters an HTTP header cannot carry (a newline or another control character?)",
                )
                .with_hint("check VAULT_TOKEN, vault_token or ~/.vault-token (one trailing newline is ignored)"));
            }
            Ok(Auth::Token(token))
        }
        "approle" => {
            let role_id = match (&auth.role_id, &auth.role_id_file) {
                (Some(role_id), _) => Some(SecretString::from(role_id.as_str())),
                (None, Some(file)) => Some(read_file(file.clone(), "AppRole role_id file").await?),
                (None, None) => env_secret(env, "VAULT_ROLE_ID"),
            };
            let secret_id = match (&auth.secret_id, &auth.secret_id_file) {
                (Some(secret_id), _) => Some(secret_id.clone()),
                (None, Some(file)) => Some(read_file(file.clone(), "AppRole secret_id file").await?),
                (None, None) => env_secret(env, "VAULT_SECRET_ID"),
            };
            let missing = |what: &str, variable: &str| {
                Problem::new("vault", format!("AppRole login needs a {what}"))
                    .with_hint(format!("set {variable}, or vault_auth.{what} / vault_auth.{what}_file"))
            };
            Ok(Auth::AppRole {
                mount: mount("approle")?,
                role_id: role_id.ok_or_else(|| missing("role_id", "VAULT_ROLE_ID"))?,
                secret_id: secret_id.ok_or_else(|| missing("secret_id", "VAULT_SECRET_ID"))?,
            })
        }
        "kubernetes" => Ok(Auth::Kubernetes {
            mount: mount("kubernetes")?,
            role: auth.role.clone().ok_or_else(|| {
                Problem::new("vault", "Kubernetes login needs a role")
                    .with_hint("set secrets_manager.vault_auth.role to the Vault role bound to this service account")
            })?,
            jwt_file: auth.jwt_file.clone().unwrap_or_else(|| PathBuf::from(KUBERNETES_TOKEN_FILE)),
        }),
        "jwt" => Ok(Auth::Jwt {
            mount: mount("jwt")?,
            role: auth.role.clone(),
            jwt_file: auth.jwt_file.clone().ok_or_else(|| {
                Problem::new("vault", "JWT login needs a token file")
                    .with_hint("set secrets_manager.vault_auth.jwt_file, e.g. a projected service-account token")
            })?,
        }),
        other => Err(Problem::new(
            "secrets_manager.vault_auth.method",
            format!("unknown Vault auth method \"{other}\""),
        )
        .with_hint("use token, approle, kubernetes or jwt")),
    }
}

fn env_secret(env: &Environment, name: &str) -> Option<SecretString> {
    env.get(name)
        .filter(|value| !value.is_empty())
        .map(|value| SecretString::from_os(value.to_os_string()))
}
