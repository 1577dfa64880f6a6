//! Key Vault's layout: a location is the secret's URL (`https://x.vault.azure.net/secrets/db`);
//! `rotate` keeps the previous value in the sibling secret `<name>-previous`, a GET of its own;
//! a paired login is a JSON object `{"username": …, "value": …}`.

use super::previous::previous_reference;
use super::rotation::PASSWORD_KEY;
use super::{describe, secret, settings};
use crate::backend::Layout;
use crate::config::Config;
use crate::reference::Reference;

pub struct AzureLayout;

impl Layout for AzureLayout {
    /// The environment is not consulted, so a vault that only `AZURE_KEY_VAULT_URL` names
    /// shows as that variable.
    fn planned_location(&self, reference: &Reference, config: &Config) -> String {
        let configured = config
            .azure
            .vault_url
            .as_deref()
            .and_then(settings::vault_origin)
            .unwrap_or_else(|| "$AZURE_KEY_VAULT_URL".to_string());
        match secret::target(reference, Some(&configured)) {
            Ok(target) => describe(&target),
            Err(_) => reference.to_string(),
        }
    }

    fn previous_reference(&self, name: &str) -> Option<Reference> {
        Some(previous_reference(name))
    }

    fn previous_costs_a_read(&self) -> bool {
        true
    }

    fn paired_password_key(&self) -> &'static str {
        PASSWORD_KEY
    }
}
