//! Which auth method a launch logs in with, and its credentials: from the config, else Vault's
//! own variables (VAULT_TOKEN, `~/.vault-token`, VAULT_ROLE_ID, VAULT_SECRET_ID), credential
//! files read within the deadline as regular files of bounded size.

use std::path::{Path, PathBuf};

use tokio::time::Instant;

use super::path;
use crate::bounded::{self, ReadError};
use crate::config::{VaultAuthSettings, VaultSettings};
use crate::env_vars::Environment;
use crate::problem::Problem;
use crate::secret::SecretString;

/// A credential file (AppRole ids, `~/.vault-token`): a regular file of at most
/// [`bounded::SECRET_FILE_LIMIT`], read before `deadline`.
pub(super) async fn read_credential_file(
    file: &std::path::Path,
    deadline: Instant,
) -> Result<SecretString, ReadError> {
    bounded::read_regular_file_until(file.to_path_buf(), bounded::SECRET_FILE_LIMIT, deadline)
        .await
        .map(|bytes| SecretString::new(bytes).trim_one_trailing_newline())
}

/// The default service-account token of a Kubernetes pod.
const KUBERNETES_TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

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

pub(super) async fn auth(
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
    match method.as_str() {
        "token" => token(settings, env, deadline).await,
        "approle" => approle(auth, env, deadline).await,
        "kubernetes" => Ok(Auth::Kubernetes {
            mount: mount(auth, "kubernetes")?,
            role: auth.role.clone().ok_or_else(|| {
                Problem::new("vault", "Kubernetes login needs a role")
                    .with_hint("set secrets_manager.vault_auth.role to the Vault role bound to this service account")
            })?,
            jwt_file: auth.jwt_file.clone().unwrap_or_else(|| PathBuf::from(KUBERNETES_TOKEN_FILE)),
        }),
        "jwt" => Ok(Auth::Jwt {
            mount: mount(auth, "jwt")?,
            role: auth.role.clone(),
            jwt_file: auth.jwt_file.clone().ok_or_else(|| {
                Problem::new("vault", "JWT login needs a token file")
                    .with_hint("set secrets_manager.vault_auth.jwt_file, e.g. a projected service-account token")
            })?,
        }),
        // Not echoed: a credential pasted into the wrong setting would land in the logs.
        _ => Err(Problem::new(
            "secrets_manager.vault_auth.method",
            "unknown Vault auth method (not shown, in case it is a credential pasted into the wrong setting)",
        )
        .with_hint("use token, approle, kubernetes or jwt")),
    }
}

/// `vault_token`, VAULT_TOKEN, then `~/.vault-token` (where `bao login` leaves it).
async fn token(
    settings: &VaultSettings,
    env: &Environment,
    deadline: Instant,
) -> Result<Auth, Problem> {
    let mut token = settings
        .token
        .clone()
        .or_else(|| env_secret(env, "VAULT_TOKEN"));
    if token.is_none()
        && let Some(home) = env.get_str("HOME")
    {
        // No file is no token; any other failure is reported.
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

/// Each id from the config, its file, or VAULT_ROLE_ID / VAULT_SECRET_ID.
async fn approle(
    auth: &VaultAuthSettings,
    env: &Environment,
    deadline: Instant,
) -> Result<Auth, Problem> {
    let role_id = match (&auth.role_id, &auth.role_id_file) {
        (Some(role_id), _) => Some(SecretString::from(role_id.as_str())),
        (None, Some(file)) => Some(read_file(file, "AppRole role_id file", deadline).await?),
        (None, None) => env_secret(env, "VAULT_ROLE_ID"),
    };
    let secret_id = match (&auth.secret_id, &auth.secret_id_file) {
        (Some(secret_id), _) => Some(secret_id.clone()),
        (None, Some(file)) => Some(read_file(file, "AppRole secret_id file", deadline).await?),
        (None, None) => env_secret(env, "VAULT_SECRET_ID"),
    };
    let missing = |what: &str, variable: &str| {
        Problem::new("vault", format!("AppRole login needs a {what}")).with_hint(format!(
            "set {variable}, or vault_auth.{what} / vault_auth.{what}_file"
        ))
    };
    Ok(Auth::AppRole {
        mount: mount(auth, "approle")?,
        role_id: role_id.ok_or_else(|| missing("role_id", "VAULT_ROLE_ID"))?,
        secret_id: secret_id.ok_or_else(|| missing("secret_id", "VAULT_SECRET_ID"))?,
    })
}

/// The auth method's mount: `vault_auth.mount`, else the method's default.
fn mount(auth: &VaultAuthSettings, default: &str) -> Result<String, Problem> {
    let mount = auth
        .mount
        .clone()
        .unwrap_or_else(|| default.to_string())
        .trim_matches('/')
        .to_string();
    path::check_setting(&mount, "secrets_manager.vault_auth.mount")?;
    Ok(mount)
}

async fn read_file(path: &Path, what: &str, deadline: Instant) -> Result<SecretString, Problem> {
    read_credential_file(path, deadline).await.map_err(|error| {
        Problem::new(
            path.display().to_string(),
            format!("cannot read the {what}: the file {error}"),
        )
        .with_hint(error.hint().unwrap_or_else(|| {
            "check secrets_manager.vault_auth and that the file is mounted".to_string()
        }))
    })
}

fn env_secret(env: &Environment, name: &str) -> Option<SecretString> {
    env.get(name)
        .filter(|value| !value.is_empty())
        .map(|value| SecretString::from_os(value.to_os_string()))
}
