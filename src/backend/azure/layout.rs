//! Key Vault's layout: a location is the secret's URL (`https://x.vault.azure.net/secrets/db`);
//! `rotate` keeps the previous value in the sibling secret `<name>-previous`, a GET of its own;
//! a paired login is a JSON object `{"username": …, "value": …}`.

use super::previous::previous_reference;
use super::rotation::{PASSWORD_KEY, pending_reference};
use super::{describe, secret, settings};
use crate::backend::{FetchError, Layout, Resource};
use crate::config::Config;
use crate::reference::Reference;

pub struct AzureLayout;

impl Layout for AzureLayout {
    fn planned_location(&self, reference: &Reference, config: &Config) -> String {
        match secret::target(reference, Some(&configured_vault(config))) {
            Ok(target) => describe(&target),
            Err(_) => reference.to_string(),
        }
    }

    fn previous_reference(&self, name: &str) -> Option<Reference> {
        Some(previous_reference(name))
    }

    fn paired_password_key(&self) -> &'static str {
        PASSWORD_KEY
    }

    /// The secret whatever version is read (a role assignment's scope has no version).
    fn resource(
        &self,
        reference: &Reference,
        config: &Config,
    ) -> Result<Option<Resource>, FetchError> {
        let target = secret::target(reference, Some(&configured_vault(config)))?;
        Ok(Some(Resource::Azure {
            vault: target.id.vault,
            name: target.id.name,
        }))
    }

    fn pending_reference(&self, name: &str) -> Option<Reference> {
        Some(pending_reference(name))
    }
}

/// The configured vault; the environment is not consulted, so a vault that only
/// `AZURE_KEY_VAULT_URL` names shows as that variable.
fn configured_vault(config: &Config) -> String {
    config
        .azure
        .vault_url
        .as_deref()
        .and_then(settings::vault_origin)
        .unwrap_or_else(|| "$AZURE_KEY_VAULT_URL".to_string())
}
