//! Key Vault has no check-and-set: between promote's comparison of the current version and its
//! write, another writer (a second rotation that looked at the same moment, a `set`) can make
//! a version current that ours then replaces. That value was current for a moment, so a
//! launch in between may have used it (signed a token with it). The versions listed before
//! the comparison tell such a write apart after ours: the run then fails loudly and, when ours
//! is current, keeps the other value as the previous one, where launches get it.

use serde_json::json;

use super::AzureBackend;
use super::errors::Doing;
use super::rotation::{Current, Tagged};
use super::secret::{PREVIOUS_KEPT_TAG, SecretId};
use super::versions::Listed;
use crate::backend::rotation::conflict;
use crate::backend::{FetchError, FetchErrorKind, KeptPrevious};
use crate::reference::Reference;

const HINT: &str = "another rotation (or a set) ran at the same moment and may have reported success: check which value the applications use (cronos-secrets get NAME), and never run two rotations of one secret at once";

impl AzureBackend {
    /// Fails when a version other than `ours` appeared since `before` was listed; with `keep`,
    /// the value `ours` replaced becomes the previous one.
    pub(super) async fn check_interleaved(
        &self,
        reference: &Reference,
        id: &SecretId,
        before: &[Listed],
        ours: &str,
        keep: bool,
    ) -> Result<(), FetchError> {
        let after = self.versions(id).await?;
        let other = after
            .iter()
            .filter(|listed| listed.version != ours)
            .filter(|listed| !before.iter().any(|seen| seen.version == listed.version))
            .max_by_key(|listed| listed.created);
        let Some(other) = other.map(|listed| listed.version.clone()) else {
            return Ok(());
        };
        let Current { version: now, .. } = self.current_bundle(id).await?;
        if now.as_deref() != Some(ours) {
            return Err(conflict(
                format!(
                    "{}: another writer stored a version right after this rotation's promote: version {} is current, not this rotation's {ours}",
                    id.location(),
                    now.as_deref().unwrap_or("-")
                ),
                HINT,
            ));
        }
        let mut kept = "";
        if keep {
            let value = self.version_value(id, &other).await?;
            let previous = self.store_previous_value(reference, value).await?;
            self.tag_previous(id, ours, &previous).await?;
            kept = "; its value is kept as the previous one (launches get it as the _PREVIOUS variable)";
        }
        Err(conflict(
            format!(
                "{}: another writer stored version {other} between this rotation's check and its promote, and this rotation's value (version {ours}) replaced it{kept}",
                id.location()
            ),
            HINT,
        ))
    }

    async fn version_value(&self, id: &SecretId, version: &str) -> Result<String, FetchError> {
        let pinned = SecretId {
            version: Some(version.to_string()),
            ..id.clone()
        };
        let bearer = self.authorize(&pinned).await?;
        let answer = self.get_bundle(&pinned, &bearer, Doing::Reading).await?;
        answer
            .json::<Tagged>()
            .and_then(|bundle| bundle.value)
            .filter(|_| answer.status == 200)
            .ok_or_else(|| {
                FetchError::new(
                    FetchErrorKind::Invalid,
                    format!("{}: the version could not be read", pinned.location()),
                )
            })
    }

    /// Points version `ours` at the previous slot's version `kept` (UpdateSecret, in place).
    async fn tag_previous(
        &self,
        id: &SecretId,
        ours: &str,
        kept: &KeptPrevious,
    ) -> Result<(), FetchError> {
        let Some(previous) = &kept.version else {
            return Ok(());
        };
        let versioned = SecretId {
            version: Some(ours.to_string()),
            ..id.clone()
        };
        self.send_json(
            reqwest::Method::PATCH,
            &versioned.url(),
            &versioned,
            &json!({ "tags": { PREVIOUS_KEPT_TAG: previous } }),
        )
        .await
        .map(|_| ())
    }
}
