//! What a reference asks of AWS Secrets Manager: which secret version to read ([`SecretRead`],
//! the unit that is fetched once however many references share it) and what to take from it
//! ([`Selection`]). Pure: no SDK types, so it is unit-tested without a server.

use crate::backend::{FetchError, FetchErrorKind};
use crate::reference::{Reference, Scheme};

/// The stage every unpinned read returns; pinning to it is the same read as no pin.
const CURRENT_STAGE: &str = "AWSCURRENT";

/// One secret version to read. References that differ only in `#KEY` or encoding share it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretRead {
    /// A name (`cronos-ai/database_password`) or an ARN, as the API's `SecretId`.
    pub id: String,
    pub version_id: Option<String>,
    pub version_stage: Option<String>,
}

impl SecretRead {
    /// Version pins need `GetSecretValue`: `BatchGetSecretValue` reads only the current version.
    pub fn is_pinned(&self) -> bool {
        self.version_id.is_some() || self.version_stage.is_some()
    }
}

/// What the program receives from the secret version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// A top-level key of a JSON `SecretString`.
    pub key: Option<String>,
    /// `?encoding=base64`: the value as base64 text (and the only way to read a `SecretBinary`).
    pub base64: bool,
}

/// A reference taken apart for AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub read: SecretRead,
    pub selection: Selection,
}

impl Request {
    /// `secret://NAME` reads `<prefix>/NAME`; `aws-sm://ID` and a bare ARN read ID.
    pub fn of(reference: &Reference, prefix: &str) -> Result<Request, FetchError> {
        let invalid = |problem: String, hint: &str| {
            FetchError::new(FetchErrorKind::Invalid, format!("{reference}: {problem}"))
                .with_hint(hint.to_string())
        };
        if reference.param("version").is_some() {
            return Err(invalid(
                "?version= is Vault's and Azure's version parameter, not AWS Secrets Manager's"
                    .into(),
                "pin an AWS version with ?version_id=<uuid> or ?version_stage=AWSPREVIOUS",
            ));
        }
        let base64 = match reference.param("encoding") {
            None => false,
            Some("base64") => true,
            Some(other) => {
                return Err(invalid(
                    format!("unknown encoding \"{other}\" (expected base64)"),
                    "use ?encoding=base64, or leave it out for text secrets",
                ));
            }
        };
        let id = match reference.scheme {
            Scheme::Secret => secret_id(prefix, &reference.target),
            _ => reference.target.clone(),
        };
        let version_stage = reference
            .param("version_stage")
            .filter(|stage| *stage != CURRENT_STAGE || reference.param("version_id").is_some());
        Ok(Request {
            read: SecretRead {
                id,
                version_id: reference.param("version_id").map(str::to_string),
                version_stage: version_stage.map(str::to_string),
            },
            selection: Selection {
                key: reference.key.clone(),
                base64,
            },
        })
    }
}

/// `<aws_prefix>/NAME`, or NAME alone when the prefix is empty.
pub fn secret_id(prefix: &str, name: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// `aws-sm cronos-ai/database_password#password?version_stage=AWSPREVIOUS`: where a reference
/// is read from, for plans, audit events and messages.
pub(super) fn location(reference: &Reference, prefix: &str) -> String {
    let id = match reference.scheme {
        Scheme::Secret => secret_id(prefix, &reference.target),
        _ => reference.target.clone(),
    };
    let mut location = format!("aws-sm {id}");
    if let Some(key) = &reference.key {
        location.push('#');
        location.push_str(key);
    }
    let mut separator = '?';
    for (name, value) in &reference.params {
        location.push_str(&format!("{separator}{name}={value}"));
        separator = '&';
    }
    location
}

/// Splits `count` reads into the fewest batches of at most `limit`, as even as possible
/// (45 → 15, 15, 15), so no batch is a lone read that could have shared a call.
pub fn batch_sizes(count: usize, limit: usize) -> Vec<usize> {
    if count == 0 {
        return Vec::new();
    }
    let batches = count.div_ceil(limit);
    let (base, extra) = (count / batches, count % batches);
    (0..batches)
        .map(|index| base + usize::from(index < extra))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn request(text: &str) -> Result<Request, FetchError> {
        Request::of(
            &Reference::parse(text, Path::new("/")).unwrap(),
            "cronos-ai",
        )
    }

    #[test]
    fn named_secrets_get_the_prefix_and_others_do_not() {
        assert_eq!(
            request("secret://database_password").unwrap().read.id,
            "cronos-ai/database_password"
        );
        assert_eq!(
            request("aws-sm://other/db#user").unwrap().read.id,
            "other/db"
        );
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cronos-ai/db-AbCdEf";
        assert_eq!(request(arn).unwrap().read.id, arn);
        assert_eq!(secret_id("", "db"), "db");
        assert_eq!(secret_id("team/", "db"), "team/db");
    }

    #[test]
    fn keys_share_one_read_and_pins_make_their_own() {
        let user = request("aws-sm://db#user").unwrap();
        let password = request("aws-sm://db#password").unwrap();
        assert_eq!(user.read, password.read);
        assert_eq!(password.selection.key.as_deref(), Some("password"));
        assert!(!user.read.is_pinned());
        let previous = request("aws-sm://db?version_stage=AWSPREVIOUS").unwrap();
        assert!(previous.read.is_pinned());
        assert_ne!(previous.read, user.read);
        let current = request("aws-sm://db?version_stage=AWSCURRENT").unwrap();
        assert_eq!(current.read, user.read, "AWSCURRENT is the unpinned read");
        assert!(
            request("aws-sm://db?version_id=v1")
                .unwrap()
                .read
                .is_pinned()
        );
    }

    #[test]
    fn rejects_vault_versions_and_unknown_encodings() {
        let vault = request("secret://db?version=2").unwrap_err();
        assert!(vault.message.contains("Vault's"), "{}", vault.message);
        assert!(vault.hint.unwrap().contains("version_id"));
        let encoding = request("aws-sm://db?encoding=hex").unwrap_err();
        assert!(encoding.message.contains("unknown encoding \"hex\""));
        assert!(
            request("aws-sm://db?encoding=base64")
                .unwrap()
                .selection
                .base64
        );
    }

    #[test]
    fn locations_name_the_secret_id_key_and_pins() {
        let reference = Reference::parse(
            "secret://db#password?version_stage=AWSPREVIOUS",
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(
            location(&reference, "cronos-ai"),
            "aws-sm cronos-ai/db#password?version_stage=AWSPREVIOUS"
        );
    }

    #[test]
    fn batches_are_even_and_never_exceed_the_limit() {
        assert_eq!(batch_sizes(0, 20), Vec::<usize>::new());
        assert_eq!(batch_sizes(1, 20), vec![1]);
        assert_eq!(batch_sizes(20, 20), vec![20]);
        assert_eq!(batch_sizes(21, 20), vec![11, 10]);
        assert_eq!(batch_sizes(45, 20), vec![15, 15, 15]);
        assert_eq!(batch_sizes(100, 20), vec![20; 5]);
    }
}
