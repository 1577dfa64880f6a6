//! `rotate --status`'s dates without the values: the secret's version listing (attributes
//! only), one per secret however many references share it. Key Vault serves the newest
//! version as current, so that is the one whose date is reported, unless the reference pins
//! another.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::AzureBackend;
use super::secret::SecretId;
use crate::backend::{Described, FetchError, FetchErrorKind, Metadata};
use crate::reference::Reference;

impl AzureBackend {
    pub(super) async fn described(&self, references: &[Reference]) -> Described {
        let mut described = Described::new();
        // Key Vault's names are case-insensitive: one listing per secret however spelled.
        let mut by_secret: BTreeMap<SecretId, Vec<&Reference>> = BTreeMap::new();
        for reference in references {
            match self.target(reference) {
                Ok(target) => {
                    let id = SecretId {
                        name: target.id.name.to_ascii_lowercase(),
                        ..target.id
                    };
                    by_secret.entry(id).or_default().push(reference);
                }
                Err(error) => {
                    described.insert(reference.clone(), Err(error));
                }
            }
        }
        let answers = futures::future::join_all(
            by_secret
                .iter()
                .map(|(id, references)| async move { (references, self.metadata_of(id).await) }),
        )
        .await;
        for (references, answer) in answers {
            for reference in references {
                described.insert((*reference).clone(), answer.clone());
            }
        }
        described
    }

    async fn metadata_of(&self, id: &SecretId) -> Result<Metadata, FetchError> {
        let listed = self.versions(id).await?;
        let current = match &id.version {
            Some(pinned) => listed.iter().find(|listed| &listed.version == pinned),
            // The last of equal creation times: listings come oldest first.
            None => listed.iter().max_by_key(|listed| listed.created),
        };
        let Some(current) = current else {
            return Err(FetchError::new(
                FetchErrorKind::NotFound,
                format!("{}: no such version in its listing", id.location()),
            ));
        };
        Ok(Metadata {
            version: Some(current.version.clone()),
            updated: current.created.and_then(|seconds| {
                SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
            }),
            ..Metadata::default()
        })
    }
}
