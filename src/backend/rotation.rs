//! What `rotate` needs from a backend besides reads: a **pending slot** that launches never
//! read, an atomic promote guarded by the version read at the start, and removal of the slot.
//! Each backend implements it in its own folder (`vault/rotation.rs`, `aws/rotation.rs`,
//! `azure/rotation.rs`), so that each keeps describing its own locations.

use async_trait::async_trait;

use super::{FetchError, Metadata};
use crate::reference::Reference;
use crate::secret::SecretString;

/// One pending value, stored durably before anything else changes. It is the rotation's only
/// journal: the rotation id and the version the rotation started from live beside the value,
/// in the backend, never on local disk.
#[derive(Debug, Clone)]
pub struct PendingSlot {
    /// 32 hex characters; on AWS the pending version's `ClientRequestToken` (its version id).
    pub rotation_id: String,
    pub value: SecretString,
    /// The current version when the slot was created (AWS: the pending version's second
    /// label, `cronos-base-<version>`); promote, `--resume`'s too, replaces only that one.
    pub base_version: Option<String>,
    /// The login role that goes with the value (the database's `strategy: alternating`, where
    /// the user name changes with the password, in the same secret); `None` for a bare value.
    pub username: Option<String>,
}

/// What [`RotationStore::keep_previous`] stored, for promote to mark the new version with.
#[derive(Debug, Clone, Default)]
pub struct KeptPrevious {
    /// Key Vault: the version of `NAME-previous` holding the replaced value, which the new
    /// current version names, so that launches read that one and no later write of the slot.
    pub version: Option<String>,
}

#[async_trait]
pub trait RotationStore: Send + Sync {
    /// Where the pending slot of `reference` lives, for plans, audit events and messages.
    fn pending_location(&self, reference: &Reference) -> String;

    /// The pending slot, if one exists.
    async fn pending(&self, reference: &Reference) -> Result<Option<PendingSlot>, FetchError>;

    /// Stores the slot, create-only: an existing slot (another rotation's) is an error naming
    /// it, never overwritten.
    async fn create_pending(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<(), FetchError>;

    /// Before promote, for a secret that keeps its replaced value: stores what the promote
    /// needs where no launch looks yet (AWS: the previous-kept marker the current version does
    /// not hold, moved to the pending version; Key Vault: the value now current, as a new
    /// version of `NAME-previous`; Vault: nothing, promote's one write keeps it). A run killed
    /// right after it changes nothing launches get, and `--abort` has nothing to restore.
    async fn keep_previous(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<KeptPrevious, FetchError>;

    /// Makes the slot's value current in one atomic step, only if the current version is still
    /// `expected_current` (check-and-set); returns the new current version. With `kept`
    /// (from [`keep_previous`](Self::keep_previous)), the new version says that the replaced
    /// value is kept in the previous slot (`previous_reference`).
    async fn promote(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
        expected_current: Option<&str>,
        kept: Option<&KeptPrevious>,
    ) -> Result<Metadata, FetchError>;

    /// Drops the previous value (`rotate --retire`); `false` when there was none.
    async fn retire_previous(&self, reference: &Reference) -> Result<bool, FetchError>;

    /// Removes the slot (after promote: `finish`; without: `--abort`). Removing a slot that is
    /// already gone succeeds, so the step can be repeated after a crash.
    async fn remove_pending(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<(), FetchError>;
}

/// The error for a write that lost a race or found a slot it did not expect.
pub fn conflict(message: impl Into<String>, hint: impl Into<String>) -> FetchError {
    FetchError::new(super::FetchErrorKind::Invalid, message).with_hint(hint)
}

/// What to do when promote finds the secret changed since the rotation started.
pub const CHANGED_HINT: &str = "another writer got there first: check the current value and rotate again if needed (a --resume that ends here leaves the slot: drop it with --abort)";

/// A slot found where a rotation wanted to write its own may belong to a rotation still
/// running: finishing or dropping it at once would break that one.
pub const RUNNING_HINT: &str = "another rotation may still be running: wait for it to end, or check cronos-secrets rotate --status";

/// What the loser of a race for the pending slot is told.
pub const TAKEN_HINT: &str = "another rotation may still be running: wait for it to end, or check cronos-secrets rotate --status; if none is, finish its slot with rotate --resume, or drop it with rotate --abort";

/// The field of a paired login's user name, on every backend: `secret://NAME#username`.
pub const USERNAME_KEY: &str = "username";

/// The text a backend that stores one string per version (AWS, Key Vault) writes for a slot:
/// the value itself, or for a paired login the JSON object `{"username", <password_key>}`
/// (on AWS the shape of AWS's own rotation functions).
pub fn slot_text(
    slot: &PendingSlot,
    password_key: &str,
    store: &str,
) -> Result<SecretString, FetchError> {
    let password = slot.value.expose_str().ok_or_else(|| {
        FetchError::new(
            super::FetchErrorKind::Invalid,
            format!("{store} secrets are text, and the value is not UTF-8"),
        )
    })?;
    Ok(match &slot.username {
        None => SecretString::from(password),
        Some(username) => SecretString::from(
            serde_json::json!({ USERNAME_KEY: username, password_key: password }).to_string(),
        ),
    })
}

/// [`slot_text`] read back: a JSON object holding exactly a user name and the password key is
/// a paired login; anything else is a bare value (rotate generates no JSON values).
pub fn slot_value(text: &str, password_key: &str) -> (SecretString, Option<String>) {
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_str(text)
        && object.len() == 2
        && let (
            Some(serde_json::Value::String(username)),
            Some(serde_json::Value::String(password)),
        ) = (object.get(USERNAME_KEY), object.get(password_key))
    {
        return (
            SecretString::from(password.as_str()),
            Some(username.clone()),
        );
    }
    (SecretString::from(text), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(username: Option<&str>) -> PendingSlot {
        PendingSlot {
            rotation_id: "0".repeat(32),
            value: SecretString::from("p4ss-\"word\""),
            base_version: None,
            username: username.map(str::to_string),
        }
    }

    #[test]
    fn a_pair_round_trips_through_the_json_shape() {
        let text = slot_text(&slot(Some("cronos_user_b")), "password", "test").unwrap();
        let object: serde_json::Value = serde_json::from_slice(text.expose()).unwrap();
        assert_eq!(object["username"], "cronos_user_b");
        assert_eq!(object["password"], "p4ss-\"word\"");
        let (value, username) = slot_value(text.expose_str().unwrap(), "password");
        assert_eq!(value.expose(), b"p4ss-\"word\"");
        assert_eq!(username.as_deref(), Some("cronos_user_b"));
        // Read with another backend's key, it is not a pair: the whole text.
        assert_eq!(slot_value(text.expose_str().unwrap(), "value").1, None);
    }

    #[test]
    fn a_bare_value_stays_bare() {
        let text = slot_text(&slot(None), "value", "test").unwrap();
        assert_eq!(text.expose(), b"p4ss-\"word\"");
        let (value, username) = slot_value("{\"username\": \"u\"}", "value");
        assert_eq!(value.expose(), b"{\"username\": \"u\"}");
        assert_eq!(username, None);
    }
}
