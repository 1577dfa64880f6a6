//! Where a backend keeps things, known from the config alone: plans (`check --plan`, the
//! `<ENV>_PREVIOUS` and paired-login variables) and `rotate` need these facts before, or
//! without, building any client. Each backend states its own in its folder (`vault/layout.rs`,
//! `aws/layout.rs`, `azure/layout.rs`, `env.rs`, `file.rs`); [`Source::layout`] picks one.
//!
//! [`Source::layout`]: super::Source::layout

use super::rotation::USERNAME_KEY;
use super::{FetchError, FetchErrorKind};
use crate::config::Config;
use crate::reference::Reference;

/// One backend's layout. The defaults of the rotation facts are those of a backend that cannot
/// rotate (env, `file://`): it keeps no previous value.
pub trait Layout {
    /// Where the reference lives, for `check --plan`, without building any client.
    fn planned_location(&self, reference: &Reference, config: &Config) -> String;

    /// Where `rotate` keeps a secret's previous value, as launches read it (`<ENV>_PREVIOUS`);
    /// `None` where the backend keeps none.
    fn previous_reference(&self, _name: &str) -> Option<Reference> {
        None
    }

    /// Whether reading a secret's previous value costs a request of its own, so that launches
    /// read it only after the current read showed [`Metadata::previous_kept`].
    ///
    /// [`Metadata::previous_kept`]: super::Metadata::previous_kept
    fn previous_costs_a_read(&self) -> bool {
        true
    }

    /// The key of a paired login's password (user name and password in one secret, the
    /// database's `strategy: alternating`) in the backend's JSON shape, beside `username`.
    fn paired_password_key(&self) -> &'static str {
        "value"
    }

    /// Where a paired login keeps its password, as launches read it: that key of the secret.
    /// The user name is [`paired_username_reference`] everywhere.
    fn paired_password_reference(&self, name: &str) -> Reference {
        named_secret_key(name, self.paired_password_key())
    }

    /// The secret a reference reads, as an access policy names it (`policy`), parsed exactly
    /// as the reads parse it; `Ok(None)` for this machine's own sources (env, `file://`).
    fn resource(
        &self,
        _reference: &Reference,
        _config: &Config,
    ) -> Result<Option<Resource>, FetchError> {
        Ok(None)
    }

    /// Where `rotate` keeps secret `name`'s pending slot when it is a secret of its own (a
    /// sibling path or name); `None` where it is a version of the secret itself.
    fn pending_reference(&self, _name: &str) -> Option<Reference> {
        None
    }
}

/// A secret in a secrets manager, as its access policies name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    /// A Vault KV secret: the mount, the path inside it, and the KV version when configured
    /// (else read as v2 first: its `data/` and `metadata/` paths).
    Vault {
        mount: String,
        path: String,
        kv_version: Option<u8>,
    },
    /// A Vault dynamic secret: the engine endpoint the config declares for it
    /// (`database/creds/cronos-app`), read once per launch and never written.
    VaultDynamic { path: String },
    /// A Secrets Manager secret: its name or ARN, as the API's `SecretId`.
    Aws { id: String },
    /// A Key Vault secret: the vault's origin (`https://HOST`) and the secret's name.
    Azure { vault: String, name: String },
}

/// The layout of a backend left out of this build: its references are shown as written, and
/// it keeps nothing (a launch that needs it stops at building it).
pub struct NotBuilt;

impl Layout for NotBuilt {
    fn planned_location(&self, reference: &Reference, _config: &Config) -> String {
        reference.to_string()
    }

    fn resource(
        &self,
        reference: &Reference,
        _config: &Config,
    ) -> Result<Option<Resource>, FetchError> {
        Err(FetchError::new(
            FetchErrorKind::Unsupported,
            format!("{reference}: its backend is not part of this build"),
        )
        .with_hint("use a cronos-secrets built with the backend's feature (the default build has all three)"))
    }
}

/// `secret://NAME#KEY`: one key of a secret that holds several (a paired login's user name and
/// password, Vault's `previous` field).
pub fn named_secret_key(name: &str, key: &str) -> Reference {
    Reference {
        key: Some(key.to_string()),
        ..Reference::named_secret(name)
    }
}

/// `secret://NAME#username`: a paired login's user name, on every backend.
pub fn paired_username_reference(name: &str) -> Reference {
    named_secret_key(name, USERNAME_KEY)
}

#[cfg(test)]
mod tests {
    use super::super::Source;

    /// Each layout's rotation facts as a launch uses them: the previous value's reference and
    /// whether it waits for a second round, the paired login's password reference and key.
    fn facts(source: Source) -> (Option<String>, bool, String, &'static str) {
        let layout = source.layout();
        (
            layout
                .previous_reference("db")
                .map(|reference| reference.to_string()),
            layout.previous_costs_a_read(),
            layout.paired_password_reference("db").to_string(),
            layout.paired_password_key(),
        )
    }

    #[test]
    #[cfg(all(feature = "vault", feature = "aws", feature = "azure"))]
    fn each_backend_keeps_previous_values_and_paired_logins_its_own_way() {
        let previous = |reference: &str| Some(reference.to_string());
        let password = |reference: &str| reference.to_string();
        assert_eq!(
            facts(Source::Vault),
            (
                previous("secret://db#previous"),
                false,
                password("secret://db"),
                "value"
            )
        );
        assert_eq!(
            facts(Source::AwsSecretsManager),
            (
                previous("secret://db?version_stage=AWSPREVIOUS"),
                true,
                password("secret://db#password"),
                "password"
            )
        );
        assert_eq!(
            facts(Source::AzureKeyVault),
            (
                previous("secret://db_previous"),
                true,
                password("secret://db#value"),
                "value"
            )
        );
    }

    /// Where `rotate` writes first, as `policy` grants it: a sibling path on Vault, a sibling
    /// secret on Key Vault, a version of the secret itself on AWS.
    #[test]
    #[cfg(all(feature = "vault", feature = "aws", feature = "azure"))]
    fn each_backend_names_its_pending_slot() {
        let pending = |source: Source| {
            source
                .layout()
                .pending_reference("db")
                .map(|reference| reference.to_string())
        };
        assert_eq!(
            pending(Source::Vault).as_deref(),
            Some("secret://db.pending")
        );
        assert_eq!(pending(Source::AwsSecretsManager), None);
        assert_eq!(
            pending(Source::AzureKeyVault).as_deref(),
            Some("secret://db_pending")
        );
        assert_eq!(pending(Source::Env), None);
    }

    #[test]
    fn local_sources_keep_no_previous_value() {
        assert_eq!(facts(Source::Env).0, None);
        assert_eq!(facts(Source::File).0, None);
    }
}
