//! Where a reference lives in Vault: the one pure function behind `check --plan`, the audit
//! event, error messages and the reads themselves.

use super::DEFAULT_KEY;
use super::path;
use super::path::SecretPath;
use crate::backend::{FetchError, FetchErrorKind};
use crate::config::VaultSettings;
use crate::reference::{Reference, Scheme};

/// The configured mount (`secret`), without slashes.
pub(super) fn configured_mount(vault: &VaultSettings) -> String {
    vault.mount_point.trim_matches('/').to_string()
}

/// The configured prefix of `secret://NAME` paths (`cronos-ai/production`), without slashes.
pub(super) fn configured_prefix(vault: &VaultSettings) -> String {
    vault
        .path
        .as_deref()
        .unwrap_or_default()
        .trim_matches('/')
        .to_string()
}

/// `secret/cronos-ai/production/jwt_secret#value`, as `bao kv get` names the secret, from the
/// config alone: no client, no request.
pub(super) fn location(reference: &Reference, vault: &VaultSettings) -> String {
    describe(
        reference,
        &configured_mount(vault),
        &configured_prefix(vault),
    )
}

pub(super) fn describe(reference: &Reference, mount: &str, prefix: &str) -> String {
    match target(reference, mount, prefix) {
        Ok((secret, key)) => match secret.version {
            Some(version) => format!("{}#{key}?version={version}", secret.logical()),
            None => format!("{}#{key}", secret.logical()),
        },
        Err(_) => reference.to_string(),
    }
}

/// The secret and key a reference reads: `secret://NAME` inside `prefix` of `mount`,
/// `vault://MOUNT/PATH` as written.
pub(super) fn target(
    reference: &Reference,
    mount: &str,
    prefix: &str,
) -> Result<(SecretPath, String), FetchError> {
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
            let path = match prefix {
                "" => name.to_string(),
                prefix => format!("{prefix}/{name}"),
            };
            (mount.to_string(), path)
        }
    };
    if path.is_empty() {
        return Err(invalid(format!(
            "{reference}: no path inside mount \"{mount}\""
        )));
    }
    if let Some(why) = mount.split('/').next().and_then(path::system_mount) {
        return Err(invalid(format!("{reference}: {why}")).with_hint(path::SYSTEM_MOUNT_HINT));
    }
    if let Some(why) = path::problem(&format!("{mount}/{path}")) {
        return Err(invalid(format!("{reference}: the Vault path has {why}")).with_hint(path::HINT));
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
