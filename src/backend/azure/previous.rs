//! The previous slot on Key Vault: a rotation that keeps the replaced value writes it to the
//! sibling secret `<name>-previous` first, then the new current version with the tag
//! `cronos-previous: <the sibling's version>` (`secret::PREVIOUS_KEPT_TAG`), so launches read
//! the sibling only while the current version says it is there, and read the version it
//! names: a later write of the sibling (the next rotation's, killed before its promote)
//! changes nothing they get. (Versions tagged by older builds say `kept`: the latest one.)
//! `--retire` removes the tag from the current version in place (UpdateSecret, a PATCH: no
//! new version, its other tags kept), then the sibling's value.

use reqwest::Method;
use serde_json::{Value, json};

use super::AzureBackend;
use super::errors::{self, Doing};
use super::rotation::{Current, STATE, Tagged};
use super::secret::{self, PREVIOUS_KEPT_TAG, SecretId};
use crate::backend::{FetchError, KeptPrevious};
use crate::reference::Reference;

const PREVIOUS_SUFFIX: &str = "_previous";
/// What a retired previous slot holds: shorter than any secret's minimum, so never injected.
const RETIRED: &str = "-";

/// `secret://NAME_previous` (`NAME-previous` in the vault): a sibling written before promote.
pub(super) fn previous_reference(name: &str) -> Reference {
    Reference::named_secret(&format!("{name}{PREVIOUS_SUFFIX}"))
}

impl AzureBackend {
    fn previous_id(&self, reference: &Reference) -> Result<SecretId, FetchError> {
        let (id, _) = self.ids(reference)?;
        let name = format!("{}{PREVIOUS_SUFFIX}", reference.target);
        Ok(SecretId {
            name: self.target(&Reference::named_secret(&name))?.id.name,
            ..id
        })
    }

    /// Stores the value now current in the sibling, as a new version no launch reads until a
    /// current version names it; returns that version.
    pub(super) async fn store_previous(
        &self,
        reference: &Reference,
    ) -> Result<KeptPrevious, FetchError> {
        let (id, _) = self.ids(reference)?;
        let Current { value, .. } = self.current_bundle(&id).await?;
        match value {
            Some(value) => self.store_previous_value(reference, value).await,
            None => Ok(KeptPrevious::default()),
        }
    }

    /// Stores `value` in the sibling; returns its new version.
    pub(super) async fn store_previous_value(
        &self,
        reference: &Reference,
        value: String,
    ) -> Result<KeptPrevious, FetchError> {
        let previous = self.previous_id(reference)?;
        let written = self.put(&previous, &json!({ "value": value })).await?;
        Ok(KeptPrevious {
            version: written.version,
        })
    }

    /// Takes the previous-kept tag off the current version, keeping its other tags; `false`
    /// when it had none.
    async fn unmark_current(&self, reference: &Reference) -> Result<bool, FetchError> {
        let (id, _) = self.ids(reference)?;
        let Current {
            version, mut tags, ..
        } = self.current_bundle(&id).await?;
        let (Some(version), true) = (version, secret::has_previous_kept(&tags)) else {
            return Ok(false);
        };
        tags.remove(PREVIOUS_KEPT_TAG);
        let versioned = SecretId {
            version: Some(version),
            ..id
        };
        self.send_json(
            Method::PATCH,
            &versioned.url(),
            &versioned,
            &json!({ "tags": tags }),
        )
        .await?;
        Ok(true)
    }

    /// `rotate --retire`: `false` when there was nothing to retire.
    /// The tags of a new current version whose replaced value `kept` holds.
    pub(super) fn previous_tags(kept: &KeptPrevious) -> Option<Value> {
        let version = kept.version.as_ref()?;
        Some(json!({ PREVIOUS_KEPT_TAG: version }))
    }

    pub(super) async fn retire_previous_slot(
        &self,
        reference: &Reference,
    ) -> Result<bool, FetchError> {
        // The tag first: once it is gone launches stop reading the sibling.
        let unmarked = self.unmark_current(reference).await?;
        let previous = self.previous_id(reference)?;
        let bearer = self.authorize(&previous).await?;
        let answer = self.get_bundle(&previous, &bearer, Doing::Reading).await?;
        match answer.status {
            200 => {}
            404 => return Ok(unmarked),
            _ => {
                return Err(errors::explain(
                    &answer,
                    &previous,
                    &self.settings.flow,
                    Doing::Reading,
                ));
            }
        }
        if answer
            .json::<Tagged>()
            .and_then(|bundle| bundle.value)
            .as_deref()
            == Some(RETIRED)
        {
            return Ok(unmarked);
        }
        // Deleting would leave the name soft-deleted (the next rotation could not write it):
        // a marker too short to be any secret's value, which launches leave out.
        self.put(
            &previous,
            &json!({ "value": RETIRED, "tags": { STATE: "retired" } }),
        )
        .await?;
        Ok(true)
    }
}
