//! `rotate` on Key Vault, which has neither staging labels nor check-and-set: the pending slot
//! is a sibling secret `<name>-pending` whose tags hold the rotation id and the version the
//! rotation started from; promote compares the secret's current version with that one, then
//! writes a new version; finish writes a disabled "done" version of the sibling (deleting it
//! would leave the name soft-deleted, blocking the next rotation until purged).
//! Between the comparison and the write there is no server-side guard: two rotations racing
//! there are told apart by re-reading the sibling's rotation id, and a write that lands in
//! between after all by listing the versions before and after (`race.rs`).
//! The previous slot (`<name>-previous`, and the tag saying it is kept) is `previous.rs`.

use std::collections::HashMap;
use std::time::SystemTime;

use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AzureBackend;
use super::errors::{self, Doing};
use super::secret::{self, SecretId};
use crate::backend::rotation::{CHANGED_HINT, TAKEN_HINT, conflict, slot_text, slot_value};
use crate::backend::{
    FetchError, FetchErrorKind, KeptPrevious, Metadata, PendingSlot, RotationStore,
};
use crate::reference::Reference;

/// A paired login's password key in the secret's JSON object, beside `username`.
pub(super) const PASSWORD_KEY: &str = "value";
const SUFFIX: &str = "-pending";
const ROTATION_ID: &str = "cronos-rotation-id";
const BASE_VERSION: &str = "cronos-base-version";
pub(super) const STATE: &str = "cronos-rotation-state";

/// `secret://NAME_pending` (`NAME-pending` in the vault): the sibling [`AzureBackend::ids`]
/// names as the pending slot of `secret://NAME`, for `policy`.
pub(super) fn pending_reference(name: &str) -> Reference {
    Reference::named_secret(&format!("{name}{}", SUFFIX.replace('-', "_")))
}

#[derive(Deserialize)]
pub(super) struct Tagged {
    pub(super) value: Option<String>,
    #[serde(default)]
    pub(super) tags: HashMap<String, String>,
}

impl AzureBackend {
    pub(super) fn ids(&self, reference: &Reference) -> Result<(SecretId, SecretId), FetchError> {
        let target = self.target(reference)?;
        if target.key.is_some() || target.id.version.is_some() {
            return Err(FetchError::new(
                FetchErrorKind::Invalid,
                format!(
                    "{}: rotate replaces a whole secret; the reference may not pick a #KEY or a ?version",
                    target.id.location()
                ),
            ));
        }
        let pending = SecretId {
            name: format!("{}{SUFFIX}", target.id.name),
            ..target.id.clone()
        };
        Ok((target.id, pending))
    }

    /// The slot, or `None` when the sibling is missing or its latest version is "done".
    async fn read_slot(&self, pending: &SecretId) -> Result<Option<PendingSlot>, FetchError> {
        let bearer = self.authorize(pending).await?;
        let answer = self.get_bundle(pending, &bearer, Doing::Reading).await?;
        let (code, _) = errors::error_of(&answer);
        match answer.status {
            200 => {}
            404 => return Ok(None),
            // The latest version is the disabled "done" marker.
            403 if code == "SecretDisabled" => return Ok(None),
            _ => {
                return Err(errors::explain(
                    &answer,
                    pending,
                    &self.settings.flow,
                    Doing::Reading,
                ));
            }
        }
        let bundle: Tagged = answer.json().ok_or_else(|| {
            FetchError::new(
                FetchErrorKind::Invalid,
                format!("{}: not a Key Vault secret bundle", pending.location()),
            )
        })?;
        if bundle.tags.get(STATE).map(String::as_str) != Some("pending") {
            return Ok(None);
        }
        let (Some(value), Some(rotation_id)) = (bundle.value, bundle.tags.get(ROTATION_ID)) else {
            return Ok(None);
        };
        let (value, username) = slot_value(&value, PASSWORD_KEY);
        Ok(Some(PendingSlot {
            rotation_id: rotation_id.clone(),
            value,
            base_version: bundle.tags.get(BASE_VERSION).cloned(),
            username,
        }))
    }

    /// Writes a new version of the secret (SetSecret).
    pub(super) async fn put(&self, id: &SecretId, body: &Value) -> Result<Metadata, FetchError> {
        self.send_json(Method::PUT, &id.set_url(), id, body).await
    }

    pub(super) async fn send_json(
        &self,
        method: Method,
        url: &str,
        id: &SecretId,
        body: &Value,
    ) -> Result<Metadata, FetchError> {
        let answer = self.write_json(method, url, id, body).await?;
        Ok(match secret::version(&answer.body, SystemTime::now()) {
            Ok(Ok(version)) => version.metadata,
            _ => Metadata::default(),
        })
    }

    /// The current version's id, value and tags.
    pub(super) async fn current_bundle(&self, id: &SecretId) -> Result<Current, FetchError> {
        let bearer = self.authorize(id).await?;
        let answer = self.get_bundle(id, &bearer, Doing::Reading).await?;
        if answer.status != 200 {
            return Err(errors::explain(
                &answer,
                id,
                &self.settings.flow,
                Doing::Reading,
            ));
        }
        let bundle = answer.json::<Value>();
        let version = bundle
            .as_ref()
            .and_then(|bundle| bundle.get("id")?.as_str().and_then(secret::version_of_id));
        let value = bundle
            .as_ref()
            .and_then(|bundle| Some(bundle.get("value")?.as_str()?.to_string()));
        let tags = bundle
            .as_ref()
            .and_then(|bundle| serde_json::from_value(bundle.get("tags")?.clone()).ok())
            .unwrap_or_default();
        Ok(Current {
            version,
            value,
            tags,
        })
    }
}

pub(super) struct Current {
    pub(super) version: Option<String>,
    pub(super) value: Option<String>,
    pub(super) tags: HashMap<String, String>,
}

/// The slot as Key Vault holds it: the value, or a paired login's JSON object.
fn text(slot: &PendingSlot) -> Result<String, FetchError> {
    let text = slot_text(slot, PASSWORD_KEY, "Key Vault")?;
    Ok(text.expose_str().unwrap_or_default().to_string())
}

#[async_trait]
impl RotationStore for AzureBackend {
    fn pending_location(&self, reference: &Reference) -> String {
        match self.ids(reference) {
            Ok((_, pending)) => pending.location(),
            Err(_) => format!("{reference}{SUFFIX}"),
        }
    }

    async fn pending(&self, reference: &Reference) -> Result<Option<PendingSlot>, FetchError> {
        let (_, pending) = self.ids(reference)?;
        self.read_slot(&pending).await
    }

    async fn create_pending(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<(), FetchError> {
        let (_, pending) = self.ids(reference)?;
        let taken = |id: &str| {
            conflict(
                format!(
                    "{}: a pending slot of rotation {} exists already (another rotation started first)",
                    pending.location(),
                    crate::untrusted_text::escaped(id)
                ),
                TAKEN_HINT,
            )
        };
        if let Some(existing) = self.read_slot(&pending).await? {
            return Err(taken(&existing.rotation_id));
        }
        let mut tags = json!({ ROTATION_ID: slot.rotation_id, STATE: "pending" });
        if let Some(base) = &slot.base_version {
            tags[BASE_VERSION] = json!(base);
        }
        self.put(&pending, &json!({ "value": text(slot)?, "tags": tags }))
            .await?;
        // No create-only write in Key Vault: of two rotations that looked at once, the later
        // write is the slot, and the earlier one learns it here.
        match self.read_slot(&pending).await? {
            Some(latest) if latest.rotation_id == slot.rotation_id => Ok(()),
            Some(latest) => Err(taken(&latest.rotation_id)),
            None => Err(taken("(gone)")),
        }
    }

    async fn keep_previous(
        &self,
        reference: &Reference,
        _slot: &PendingSlot,
    ) -> Result<KeptPrevious, FetchError> {
        self.store_previous(reference).await
    }

    async fn promote(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
        expected_current: Option<&str>,
        kept: Option<&KeptPrevious>,
    ) -> Result<Metadata, FetchError> {
        let (id, pending) = self.ids(reference)?;
        match self.read_slot(&pending).await? {
            Some(latest) if latest.rotation_id == slot.rotation_id => {}
            _ => {
                return Err(conflict(
                    format!(
                        "{}: no longer holds rotation {} (another rotation took the slot); nothing was promoted",
                        pending.location(),
                        slot.rotation_id
                    ),
                    "check the secret's versions: az keyvault secret list-versions",
                ));
            }
        }
        // Listed before the comparison: a version that appears after it is another writer's.
        let before = self.versions(&id).await?;
        let Current {
            version: current, ..
        } = self.current_bundle(&id).await?;
        if let Some(expected) = expected_current
            && current.as_deref() != Some(expected)
        {
            return Err(conflict(
                format!(
                    "{}: changed since the rotation started (version {}, not {expected}); nothing was promoted",
                    id.location(),
                    current.as_deref().unwrap_or("-")
                ),
                CHANGED_HINT,
            ));
        }
        let mut promoted = json!({ "value": text(slot)? });
        if let Some(tags) = kept.and_then(Self::previous_tags) {
            promoted["tags"] = tags;
        }
        let written = self.put(&id, &promoted).await?;
        if let Some(ours) = &written.version {
            self.check_interleaved(reference, &id, &before, ours, kept.is_some())
                .await?;
        }
        Ok(written)
    }

    async fn retire_previous(&self, reference: &Reference) -> Result<bool, FetchError> {
        self.retire_previous_slot(reference).await
    }

    async fn remove_pending(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<(), FetchError> {
        let (_, pending) = self.ids(reference)?;
        // Only our own slot: a concurrent rotation may have written one after ours was gone.
        match self.read_slot(&pending).await? {
            Some(found) if found.rotation_id == slot.rotation_id => {}
            _ => return Ok(()),
        }
        // A marker version, disabled and holding no secret: what launches or a later probe see.
        let marker = json!({
            "value": "rotation finished",
            "attributes": { "enabled": false },
            "tags": { ROTATION_ID: slot.rotation_id, STATE: "done" },
        });
        self.put(&pending, &marker).await.map(|_| ())
    }
}
