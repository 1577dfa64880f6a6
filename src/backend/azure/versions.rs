//! A secret's version ids, from its listing (attributes only, never a value): what promote
//! compares before and after its write, since Key Vault has no check-and-set (`race.rs`).

use serde::Deserialize;

use super::AzureBackend;
use super::errors::{self, Doing};
use super::secret::{API_VERSION, SecretId, version_of_id};
use crate::backend::{FetchError, FetchErrorKind};

/// Pages followed at most (25 versions each): a listing that never ends is refused.
const MAX_PAGES: usize = 200;

/// One version in a listing: its id and creation time (Unix seconds).
pub(super) struct Listed {
    pub(super) version: String,
    pub(super) created: Option<u64>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<Entry>,
    #[serde(rename = "nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    attributes: Attributes,
}

#[derive(Deserialize, Default)]
struct Attributes {
    created: Option<u64>,
}

impl AzureBackend {
    /// Every version of `id`'s secret. A next page is followed only on the same vault and
    /// secret: the bearer token goes nowhere a listing names.
    pub(super) async fn versions(&self, id: &SecretId) -> Result<Vec<Listed>, FetchError> {
        let bearer = self.authorize(id).await?;
        let first = format!(
            "{}/secrets/{}/versions?api-version={API_VERSION}&maxresults=25",
            id.vault, id.name
        );
        let same_listing = format!("{}/secrets/{}/versions?", id.vault, id.name);
        let flow = &self.settings.flow;
        let mut listed = Vec::new();
        let mut next = Some(first);
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else {
                return Ok(listed);
            };
            let answer = self
                .get_authorized(&url, id, &bearer, Doing::Reading)
                .await?;
            if answer.status != 200 {
                return Err(errors::explain(&answer, id, flow, Doing::Reading));
            }
            let page: Page = answer.json().ok_or_else(|| {
                FetchError::new(
                    FetchErrorKind::Invalid,
                    format!("{}: not a Key Vault versions listing", id.location()),
                )
            })?;
            listed.extend(page.value.into_iter().filter_map(|entry| {
                Some(Listed {
                    version: version_of_id(&entry.id)?,
                    created: entry.attributes.created,
                })
            }));
            next = page.next_link.filter(|link| {
                link.to_lowercase()
                    .starts_with(&same_listing.to_lowercase())
            });
        }
        Err(FetchError::new(
            FetchErrorKind::Invalid,
            format!(
                "{}: the versions listing did not end after {MAX_PAGES} pages",
                id.location()
            ),
        ))
    }
}
