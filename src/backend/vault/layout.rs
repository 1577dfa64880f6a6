//! Vault's layout: a location is the KV path and field (`secret/cronos-ai/production/db#value`),
//! and `rotate` keeps the previous value in the field `previous` of the same secret, so the
//! launch's one read of the path answers it too. A paired login's password is the default
//! field `value`, beside `username`.

use super::DEFAULT_KEY;
use super::rotation::{pending_reference, previous_reference};
use super::target::{configured_mount, configured_prefix, location, target};
use crate::backend::{FetchError, Layout, Resource};
use crate::config::Config;
use crate::reference::Reference;

pub struct VaultLayout;

impl Layout for VaultLayout {
    fn planned_location(&self, reference: &Reference, config: &Config) -> String {
        if super::dynamic::is_dynamic(reference) {
            return super::dynamic::location(reference, &config.dynamic);
        }
        location(reference, &config.vault)
    }

    fn previous_reference(&self, name: &str) -> Option<Reference> {
        Some(previous_reference(name))
    }

    fn previous_costs_a_read(&self) -> bool {
        false
    }

    fn paired_password_key(&self) -> &'static str {
        DEFAULT_KEY
    }

    /// `secret://NAME`: a reference that names no field reads the password's.
    fn paired_password_reference(&self, name: &str) -> Reference {
        Reference::named_secret(name)
    }

    /// The path every version of the secret shares: a pinned `?version=` is a query of it.
    fn resource(
        &self,
        reference: &Reference,
        config: &Config,
    ) -> Result<Option<Resource>, FetchError> {
        if super::dynamic::is_dynamic(reference) {
            let path = super::dynamic::declared_path(reference, &config.dynamic)?;
            return Ok(Some(Resource::VaultDynamic { path }));
        }
        let vault = &config.vault;
        let (secret, _) = target(
            reference,
            &configured_mount(vault),
            &configured_prefix(vault),
        )?;
        Ok(Some(Resource::Vault {
            mount: secret.mount,
            path: secret.path,
            kv_version: vault.kv_version,
        }))
    }

    fn pending_reference(&self, name: &str) -> Option<Reference> {
        Some(pending_reference(name))
    }
}
