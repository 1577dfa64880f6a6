//! Where a backend keeps things, known from the config alone: plans (`check --plan`, the
//! `<ENV>_PREVIOUS` and paired-login variables) and `rotate` need these facts before, or
//! without, building any client. Each backend states its own in its folder (`vault/layout.rs`,
//! `aws/layout.rs`, `azure/layout.rs`, `env.rs`, `file.rs`); [`Source::layout`] picks one.
//!
//! [`Source::layout`]: super::Source::layout

use super::rotation::USERNAME_KEY;
use crate::config::Config;
use crate::reference::Reference;

/// One backend's layout. The defaults are those of a backend that cannot rotate (env,
/// `file://`): it keeps no previous value and reads a paired login's secret whole.
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

    /// Where a paired login keeps its password, as launches read it. The user name is
    /// [`paired_username_reference`] everywhere.
    fn paired_password_reference(&self, name: &str) -> Reference {
        Reference::named_secret(name)
    }
}

/// The layout of a backend left out of this build: its references are shown as written, and
/// it keeps nothing (a launch that needs it stops at building it).
pub struct NotBuilt;

impl Layout for NotBuilt {
    fn planned_location(&self, reference: &Reference, _config: &Config) -> String {
        reference.to_string()
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
