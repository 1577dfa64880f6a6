//! Vault settings from the config, falling back to Vault's standard variables
//! (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT, VAULT_SKIP_VERIFY, VAULT_ROLE_ID,
//! VAULT_SECRET_ID), read once into what the backend runs with. Credential files are read
//! within the launch's deadline, as regular files of bounded size.

use std::path::PathBuf;

use tokio::time::Instant;
use url::Url;

use super::auth_settings;
pub use super::auth_settings::Auth;
use super::path;
use super::target;
use crate::config::VaultSettings;
use crate::env_vars::Environment;
use crate::problem::Problem;

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
    path::check_mount_setting(&mount, "secrets_manager.vault_mount_point")?;
    let secret_path = target::configured_prefix(settings);
    if !secret_path.is_empty() {
        path::check_setting(&secret_path, "secrets_manager.vault_path")?;
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
        auth: auth_settings::auth(settings, env, deadline).await?,
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
