//! Vault settings from the config, falling back to Vault's standard variables
//! (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT, VAULT_SKIP_VERIFY, VAULT_ROLE_ID,
//! VAULT_SECRET_ID), read once into what the backend runs with.

use std::path::PathBuf;

use url::Url;

use crate::config::VaultSettings;
use crate::env_vars::Environment;
use crate::problem::Problem;
use crate::secret::SecretString;

/// The default service-account token of a Kubernetes pod.
const KUBERNETES_TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

#[derive(Debug, Clone)]
pub struct Resolved {
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

pub fn resolve(settings: &VaultSettings, env: &Environment) -> Result<Resolved, Problem> {
    let address_text = settings
        .addr
        .clone()
        .or_else(|| env.get_str("VAULT_ADDR").filter(|text| !text.is_empty()).map(str::to_string))
        .ok_or_else(|| {
            Problem::new("vault", "no Vault address configured")
                .with_hint("set VAULT_ADDR (e.g. https://vault.example.com:8200) or secrets_manager.vault_addr")
        })?;
    let address = Url::parse(&address_text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .ok_or_else(|| {
            Problem::new("vault", format!("invalid Vault address \"{address_text}\""))
                .with_hint("expected http://HOST:PORT or https://HOST:PORT")
        })?;
    let skip_verify = env.get_str("VAULT_SKIP_VERIFY").is_some_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes"
        )
    });
    Ok(Resolved {
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
        mount: settings.mount_point.trim_matches('/').to_string(),
        path: settings
            .path
            .clone()
            .unwrap_or_default()
            .trim_matches('/')
            .to_string(),
        kv_version: settings.kv_version,
        max_concurrency: settings.max_concurrency,
        revoke_token: settings.revoke_token,
        auth: auth(settings, env)?,
    })
}

fn auth(settings: &VaultSettings, env: &Environment) -> Result<Auth, Problem> {
    let auth = &settings.auth;
    let method = auth
        .method
        .as_deref()
        .unwrap_or("token")
        .trim()
        .to_ascii_lowercase();
    let mount = |default: &str| auth.mount.clone().unwrap_or_else(|| default.to_string());
    let read_file = |path: &PathBuf, what: &str| -> Result<SecretString, Problem> {
        std::fs::read(path)
            .map(|bytes| SecretString::new(bytes).trim_one_trailing_newline())
            .map_err(|error| {
                Problem::new(
                    path.display().to_string(),
                    format!("cannot read the {what}: {error}"),
                )
                .with_hint("check secrets_manager.vault_auth and that the file is mounted")
            })
    };
    match method.as_str() {
        "token" => {
            let token = settings
                .token
                .clone()
                .or_else(|| env_secret(env, "VAULT_TOKEN"))
                .or_else(|| {
                    let home = env.get_str("HOME")?;
                    let file = PathBuf::from(home).join(".vault-token");
                    std::fs::read(file).ok().map(|bytes| SecretString::new(bytes).trim_one_trailing_newline())
                })
                .filter(|token| !token.is_empty())
                .ok_or_else(|| {
                    Problem::new("vault", "Vault authentication failed: no token")
                        .with_hint("set VAULT_TOKEN, log in with `bao login`/`vault login` (~/.vault-token), or choose vault_auth.method: approle, kubernetes or jwt")
                })?;
            Ok(Auth::Token(token))
        }
        "approle" => {
            let role_id = match (&auth.role_id, &auth.role_id_file) {
                (Some(role_id), _) => Some(SecretString::from(role_id.as_str())),
                (None, Some(file)) => Some(read_file(file, "AppRole role_id file")?),
                (None, None) => env_secret(env, "VAULT_ROLE_ID"),
            };
            let secret_id = match (&auth.secret_id, &auth.secret_id_file) {
                (Some(secret_id), _) => Some(secret_id.clone()),
                (None, Some(file)) => Some(read_file(file, "AppRole secret_id file")?),
                (None, None) => env_secret(env, "VAULT_SECRET_ID"),
            };
            let missing = |what: &str, variable: &str| {
                Problem::new("vault", format!("AppRole login needs a {what}"))
                    .with_hint(format!("set {variable}, or vault_auth.{what} / vault_auth.{what}_file"))
            };
            Ok(Auth::AppRole {
                mount: mount("approle"),
                role_id: role_id.ok_or_else(|| missing("role_id", "VAULT_ROLE_ID"))?,
                secret_id: secret_id.ok_or_else(|| missing("secret_id", "VAULT_SECRET_ID"))?,
            })
        }
        "kubernetes" => Ok(Auth::Kubernetes {
            mount: mount("kubernetes"),
            role: auth.role.clone().ok_or_else(|| {
                Problem::new("vault", "Kubernetes login needs a role")
                    .with_hint("set secrets_manager.vault_auth.role to the Vault role bound to this service account")
            })?,
            jwt_file: auth.jwt_file.clone().unwrap_or_else(|| PathBuf::from(KUBERNETES_TOKEN_FILE)),
        }),
        "jwt" => Ok(Auth::Jwt {
            mount: mount("jwt"),
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
