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
        let mut by_secret: BTreeMap<(String, String, Option<String>), (SecretId, Vec<&Reference>)> =
            BTreeMap::new();
        for reference in references {
            match self.target(reference) {
                Ok(target) => {
                    by_secret
                        .entry(target.id.read_key())
                        .or_insert_with(|| (target.id.clone(), Vec::new()))
                        .1
                        .push(reference);
                }
                Err(error) => {
                    described.insert(reference.clone(), Err(error));
                }
            }
        }
        let answers = futures::future::join_all(
            by_secret
                .values()
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
            updated: current
                .created
                .and_then(|seconds| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))),
            ..Metadata::default()
        })
    }
}
