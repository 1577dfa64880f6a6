//! What a reference names in Key Vault (vault, secret name, version), and what a secret
//! bundle answers: the value, its version, and the attributes that decide whether it may be
//! used (`enabled`, `exp`, `nbf`).

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::settings::vault_origin;
use crate::backend::{FetchError, FetchErrorKind, Metadata};
use crate::reference::{Reference, Scheme};
use crate::secret::SecretString;

/// The data-plane API version: stable, and served by every cloud (public, China, US Gov).
pub const API_VERSION: &str = "7.4";
/// The tag (name, value) `rotate` writes on a new current version whose replaced value it
/// kept in the `-previous` sibling: the bundle a launch reads carries its tags, so a launch
/// reads the sibling only when it is there.
/// Its value is the sibling's version holding the previous value (older builds: `kept`, the
/// latest version).
pub const PREVIOUS_KEPT_TAG: &str = "cronos-previous";
const LATEST_KEPT: &str = "kept";

/// One secret version in one vault: the unit of a read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretId {
    /// `https://HOST[:PORT]`.
    pub vault: String,
    pub name: String,
    pub version: Option<String>,
}

impl SecretId {
    /// `https://x.vault.azure.net/secrets/NAME[/VERSION]`: for messages, audit and plans.
    pub fn location(&self) -> String {
        match &self.version {
            Some(version) => format!("{}/secrets/{}/{version}", self.vault, self.name),
            None => format!("{}/secrets/{}", self.vault, self.name),
        }
    }

    /// The GET URL of this version (the latest when none is pinned); with a version, also the
    /// PATCH URL that updates its attributes and tags in place (UpdateSecret).
    pub fn url(&self) -> String {
        format!("{}?api-version={API_VERSION}", self.location())
    }

    /// The PUT URL that creates a new version.
    pub fn set_url(&self) -> String {
        format!(
            "{}/secrets/{}?api-version={API_VERSION}",
            self.vault, self.name
        )
    }

    /// One page of one entry of the secret's versions: attributes only, never a value (`set`'s
    /// existence check).
    pub fn versions_url(&self) -> String {
        format!(
            "{}/secrets/{}/versions?api-version={API_VERSION}&maxresults=1",
            self.vault, self.name
        )
    }

    pub fn host(&self) -> &str {
        self.vault
            .strip_prefix("https://")
            .unwrap_or(&self.vault)
            .split(':')
            .next()
            .unwrap_or_default()
    }

    /// The vault's short name for `az` commands (`cronos-ai-vault` of
    /// `cronos-ai-vault.vault.azure.net`).
    pub fn vault_name(&self) -> &str {
        self.host().split('.').next().unwrap_or_default()
    }

    /// Key Vault names are case-insensitive: one read serves every spelling.
    pub fn read_key(&self) -> (String, String, Option<String>) {
        (
            self.vault.clone(),
            self.name.to_ascii_lowercase(),
            self.version.clone(),
        )
    }
}

/// What one reference reads: the secret, the name as written, and the `#KEY`.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: SecretId,
    pub written: String,
    pub key: Option<String>,
}

/// `secret://NAME` (`_` → `-`) and `azure-kv://NAME` in the configured vault,
/// `azure-kv://VAULT-HOST/NAME` in another; `?version=ID` pins a version.
pub fn target(reference: &Reference, default_vault: Option<&str>) -> Result<Target, FetchError> {
    let invalid = |problem: String, hint: &str| {
        FetchError::new(FetchErrorKind::Invalid, format!("{reference}: {problem}"))
            .with_hint(hint.to_string())
    };
    for unsupported in ["version_stage", "version_id", "encoding"] {
        if reference.param(unsupported).is_some() {
            return Err(invalid(
                format!("?{unsupported}= is for AWS Secrets Manager"),
                "Key Vault takes ?version=VERSION-ID (the last segment of the secret's id)",
            ));
        }
    }
    let version = match reference.param("version") {
        None => None,
        Some(text)
            if !text.is_empty()
                && text.len() <= 64
                && text.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Some(text.to_string())
        }
        Some(_) => {
            return Err(invalid(
                "?version= is not a Key Vault version id".into(),
                "use the 32-character id shown by: az keyvault secret list-versions --vault-name VAULT --name NAME --query [].id",
            ));
        }
    };
    let (vault, written) = match reference.scheme {
        Scheme::AzureKv => match reference.target.split_once('/') {
            Some((host, name)) if host.contains('.') => {
                let vault = vault_origin(host).ok_or_else(|| {
                    invalid(
                        format!("\"{host}\" is not a vault host"),
                        "write azure-kv://VAULT-NAME.vault.azure.net/SECRET-NAME",
                    )
                })?;
                (Some(vault), name.to_string())
            }
            Some(_) => {
                return Err(invalid(
                    "a Key Vault secret name holds no \"/\"".into(),
                    "write azure-kv://NAME for the configured vault, or azure-kv://VAULT-HOST/NAME (the host has a dot) for another",
                ));
            }
            None => (None, reference.target.clone()),
        },
        _ => (None, reference.target.clone()),
    };
    let name = match reference.scheme {
        Scheme::AzureKv => written.clone(),
        // The guide names env variables with `_` and Key Vault secrets with `-`.
        _ => written.replace('_', "-"),
    };
    if !is_secret_name(&name) {
        return Err(invalid(
            format!("\"{name}\" cannot be a Key Vault secret name"),
            "Key Vault names are 1-127 letters, digits and dashes (secret:// maps _ to -)",
        ));
    }
    let vault = match vault.or_else(|| default_vault.map(str::to_string)) {
        Some(vault) => vault,
        None => {
            return Err(invalid(
                "no Key Vault is configured".into(),
                "set secrets_manager.azure_vault_url (or AZURE_KEY_VAULT_URL) to https://VAULT-NAME.vault.azure.net/, or write azure-kv://VAULT-HOST/NAME",
            ));
        }
    };
    Ok(Target {
        id: SecretId {
            vault,
            name,
            version,
        },
        written,
        key: reference.key.clone(),
    })
}

pub fn is_secret_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[derive(Deserialize)]
struct Bundle {
    value: Option<String>,
    id: Option<String>,
    attributes: Option<Attributes>,
    #[serde(default)]
    tags: Option<std::collections::HashMap<String, String>>,
}

#[derive(Deserialize, Default)]
struct Attributes {
    enabled: Option<bool>,
    created: Option<i64>,
    updated: Option<i64>,
    exp: Option<i64>,
    nbf: Option<i64>,
}

/// A version that may be used: enabled, after `nbf`, before `exp`.
pub struct Version {
    pub value: SecretString,
    pub metadata: Metadata,
}

/// Why a version that was read may not be used (fail closed).
pub enum Unusable {
    Disabled,
    Expired(SystemTime),
    NotYetValid(SystemTime),
}

/// Parses a secret bundle and enforces its attributes at `now`.
pub fn version(body: &[u8], now: SystemTime) -> Result<Result<Version, Unusable>, String> {
    let bundle: Bundle = serde_json::from_slice(body)
        .map_err(|_| "the answer is not a Key Vault secret bundle".to_string())?;
    let value = bundle
        .value
        .ok_or_else(|| "the secret bundle has no value".to_string())?;
    let value = SecretString::from(value);
    let attributes = bundle.attributes.unwrap_or_default();
    let expires = attributes.exp.and_then(unix_time);
    if attributes.enabled == Some(false) {
        return Ok(Err(Unusable::Disabled));
    }
    if let Some(exp) = expires.filter(|exp| *exp <= now) {
        return Ok(Err(Unusable::Expired(exp)));
    }
    if let Some(nbf) = attributes.nbf.and_then(unix_time).filter(|nbf| *nbf > now) {
        return Ok(Err(Unusable::NotYetValid(nbf)));
    }
    Ok(Ok(Version {
        value,
        metadata: Metadata {
            version: bundle.id.as_deref().and_then(version_of_id),
            // When the value was set: `updated` also moves when a version's attributes or tags
            // change (`rotate --retire` removes a tag in place), which leaves the value as old.
            updated: attributes
                .created
                .or(attributes.updated)
                .and_then(unix_time),
            expires,
            previous_kept: bundle.tags.as_ref().is_some_and(has_previous_kept),
            previous_version: bundle.tags.as_ref().and_then(previous_version),
            lease: None,
        },
    }))
}

pub fn has_previous_kept(tags: &std::collections::HashMap<String, String>) -> bool {
    tags.get(PREVIOUS_KEPT_TAG)
        .is_some_and(|kept| !kept.is_empty())
}

/// The sibling's version the tag names: a Key Vault version id (32 hex characters).
fn previous_version(tags: &std::collections::HashMap<String, String>) -> Option<String> {
    let kept = tags.get(PREVIOUS_KEPT_TAG)?;
    (kept != LATEST_KEPT && kept.len() == 32 && kept.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| kept.clone())
}

/// The version id of a secret id: its last path segment.
pub fn version_of_id(id: &str) -> Option<String> {
    let path = id.split('?').next()?;
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let version = segments.next()?;
    (segments.next()? != "secrets" && !version.is_empty()).then(|| version.to_string())
}

/// A Key Vault timestamp (seconds since 1970). One before 1970 is taken as 1970 itself: a
/// negative `exp` has passed (expired), a negative `nbf` has been reached (valid), rather than
/// meaning "none", which would fail open.
fn unix_time(seconds: i64) -> Option<SystemTime> {
    let seconds = u64::try_from(seconds).unwrap_or(0);
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn reference(text: &str) -> Reference {
        Reference::parse(text, Path::new("/")).unwrap()
    }

    const VAULT: &str = "https://cronos-ai-vault.vault.azure.net";

    #[test]
    fn secret_names_map_underscores_and_azure_kv_names_are_as_written() {
        let mapped = target(&reference("secret://database_password"), Some(VAULT)).unwrap();
        assert_eq!(mapped.id.name, "database-password");
        assert_eq!(
            mapped.id.location(),
            "https://cronos-ai-vault.vault.azure.net/secrets/database-password"
        );
        assert!(target(&reference("azure-kv://database_password"), Some(VAULT)).is_err());
        let other = target(
            &reference("azure-kv://other.vault.azure.cn/api-key?version=4387e9f3d6e14c459867679a90fd0f79#token"),
            Some(VAULT),
        )
        .unwrap();
        assert_eq!(
            other.id.url(),
            "https://other.vault.azure.cn/secrets/api-key/4387e9f3d6e14c459867679a90fd0f79?api-version=7.4"
        );
        assert_eq!(other.key.as_deref(), Some("token"));
        assert_eq!(other.id.vault_name(), "other");
        assert!(target(&reference("secret://a.b"), Some(VAULT)).is_err());
        assert!(target(&reference("azure-kv://folder/name"), Some(VAULT)).is_err());
        assert!(target(&reference("secret://x"), None).is_err());
        assert!(target(&reference("secret://x?version=../x"), Some(VAULT)).is_err());
        assert!(
            target(
                &reference(&format!("secret://{}", "a".repeat(128))),
                Some(VAULT)
            )
            .is_err()
        );
    }

    #[test]
    fn attributes_decide_whether_a_version_may_be_used() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let bundle = |attributes: &str| {
            format!(
                r#"{{"value":"v","id":"https://x.vault.azure.net/secrets/n/abc123","attributes":{attributes}}}"#
            )
        };
        let usable = version(
            bundle(r#"{"enabled":true,"updated":1493938410,"exp":2100000000}"#).as_bytes(),
            now,
        )
        .unwrap()
        .ok()
        .unwrap();
        assert_eq!(usable.metadata.version.as_deref(), Some("abc123"));
        assert!(usable.metadata.expires.is_some());
        assert!(!usable.metadata.previous_kept);
        let tagged = r#"{"value":"v","tags":{"cronos-previous":"kept"},"attributes":{}}"#;
        let tagged = version(tagged.as_bytes(), now).unwrap().ok().unwrap();
        assert!(tagged.metadata.previous_kept);
        // Older builds' "kept": the latest version of the sibling; ours name the version.
        assert_eq!(tagged.metadata.previous_version, None);
        let pinned = r#"{"value":"v","tags":{"cronos-previous":"0123456789abcdef0123456789abcdef"},"attributes":{}}"#;
        let pinned = version(pinned.as_bytes(), now).unwrap().ok().unwrap();
        assert!(pinned.metadata.previous_kept);
        assert_eq!(
            pinned.metadata.previous_version.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        let untagged = r#"{"value":"v","tags":null,"attributes":{}}"#;
        assert!(version(untagged.as_bytes(), now).is_ok());
        assert!(matches!(
            version(bundle(r#"{"enabled":false}"#).as_bytes(), now).unwrap(),
            Err(Unusable::Disabled)
        ));
        assert!(matches!(
            version(
                bundle(r#"{"enabled":true,"exp":1999999999}"#).as_bytes(),
                now
            )
            .unwrap(),
            Err(Unusable::Expired(_))
        ));
        assert!(matches!(
            version(
                bundle(r#"{"enabled":true,"nbf":2000000001}"#).as_bytes(),
                now
            )
            .unwrap(),
            Err(Unusable::NotYetValid(_))
        ));
        assert!(version(b"not json", now).is_err());
        // Before 1970: an expiry that has passed, a start that has been reached.
        for exp in ["-1", "-9223372036854775808"] {
            let expired = version(bundle(&format!(r#"{{"exp":{exp}}}"#)).as_bytes(), now);
            assert!(
                matches!(expired.unwrap(), Err(Unusable::Expired(at)) if at == SystemTime::UNIX_EPOCH),
                "exp {exp}"
            );
        }
        let started = version(bundle(r#"{"nbf":-1}"#).as_bytes(), now).unwrap();
        assert!(started.is_ok());
    }

    #[test]
    fn version_ids_are_the_last_segment() {
        assert_eq!(
            version_of_id("https://x.vault.azure.net/secrets/n/abc").as_deref(),
            Some("abc")
        );
        assert_eq!(version_of_id("https://x.vault.azure.net/secrets/n"), None);
    }
}
