//! `rotate` with Secrets Manager's own staging labels, as its rotation functions use them: the
//! pending slot is a version staged `AWSPENDING` whose `ClientRequestToken` (version id) is
//! the rotation id; promote is `UpdateSecretVersionStage` moving `AWSCURRENT` to it (which
//! moves `AWSPREVIOUS` to the old version, in one service-side step); finish removes
//! `AWSPENDING` (AWS's own templates leave it on the new current version: aws-samples#168).
//! A rotation that keeps the replaced value moves a previous-kept label to the pending version
//! before promoting it, so the version becomes current already marked: the launches that read
//! it (whose answers carry its labels) then also read AWSPREVIOUS, and launches of a secret
//! never rotated read nothing more. Of the two such labels it moves the one the current
//! version does not hold, so a run killed in between leaves the current version marked.
//! The pending version also carries `cronos-base-<version>`: the version the rotation started
//! from, which promote (also `--resume`'s) compares with the one staged AWSCURRENT.

use std::collections::HashMap;

use async_trait::async_trait;

use super::AwsBackend;
use super::errors::{Action, CallFailure};
use super::read::PREVIOUS_KEPT;
use super::request::{Request, SecretRead};
use crate::backend::rotation::{CHANGED_HINT, TAKEN_HINT, conflict, slot_text, slot_value};
use crate::backend::{
    Backend, FetchError, FetchErrorKind, KeptPrevious, Metadata, PendingSlot, RotationStore,
};
use crate::reference::Reference;

use super::versions::CURRENT_STAGE as CURRENT;
/// A paired login's password key: the JSON shape of AWS's own rotation functions
/// (`{"username": …, "password": …}`).
pub(super) const PASSWORD_KEY: &str = "password";
const PENDING: &str = "AWSPENDING";
/// The label that records, on the pending version, the version the rotation started from:
/// `cronos-base-<version id>` (a label is the only thing besides the value a version holds),
/// so that `--resume` promotes only over that one.
const BASE_PREFIX: &str = "cronos-base-";
const PREVIOUS: &str = "AWSPREVIOUS";

/// `secret://NAME?version_stage=AWSPREVIOUS`: the version promote moved AWSCURRENT from.
pub(super) fn previous_reference(name: &str) -> Reference {
    let mut reference = Reference::named_secret(name);
    reference
        .params
        .insert("version_stage".to_string(), PREVIOUS.to_string());
    reference
}

/// Version id → staging labels, from `DescribeSecret`.
type Stages = HashMap<String, Vec<String>>;

impl AwsBackend {
    fn whole_secret(&self, reference: &Reference) -> Result<SecretRead, FetchError> {
        let request = Request::of(reference, &self.prefix)?;
        if request.selection.key.is_some() || request.read.is_pinned() {
            return Err(FetchError::new(
                FetchErrorKind::Invalid,
                format!(
                    "{}: rotate replaces a whole secret's current version; the reference may not pick a #KEY or a version",
                    self.location(reference)
                ),
            ));
        }
        Ok(request.read)
    }

    fn failed(
        &self,
        reference: &Reference,
        read: &SecretRead,
        action: Action,
    ) -> impl Fn(CallFailure) -> FetchError {
        let location = self.location(reference);
        let read = read.clone();
        let service = self.connection.service.clone();
        move |failure| failure.describe(&read, &location, action, &service)
    }

    async fn stages(&self, reference: &Reference, read: &SecretRead) -> Result<Stages, FetchError> {
        self.describe_stages(read, &self.location(reference)).await
    }

    async fn move_stage(
        &self,
        reference: &Reference,
        read: &SecretRead,
        stage: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> Result<(), FetchError> {
        self.connection
            .client
            .update_secret_version_stage()
            .secret_id(&read.id)
            .version_stage(stage)
            .set_move_to_version_id(to.map(str::to_string))
            .set_remove_from_version_id(from.map(str::to_string))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| {
                self.failed(reference, read, Action::UpdateSecretVersionStage)(
                    CallFailure::from_sdk(error),
                )
            })
    }
}

/// The version holding `stage`.
fn holder<'a>(stages: &'a Stages, stage: &str) -> Option<&'a str> {
    stages
        .iter()
        .find(|(_, labels)| labels.iter().any(|label| label == stage))
        .map(|(id, _)| id.as_str())
}

/// The version a rotation started from, as its pending version's label records it.
fn base_of(labels: &[String]) -> Option<String> {
    labels
        .iter()
        .find_map(|label| label.strip_prefix(BASE_PREFIX))
        .map(str::to_string)
}

/// The version staged AWSPENDING. On the current version too: a run killed between promote
/// and finish leaves it there, and so do AWS's own rotation functions (aws-samples#168);
/// either way `--resume` only removes the label (the value is current already).
fn pending_version(stages: &Stages) -> Option<&str> {
    holder(stages, PENDING)
}

#[async_trait]
impl RotationStore for AwsBackend {
    fn pending_location(&self, reference: &Reference) -> String {
        format!("{}?version_stage={PENDING}", self.location(reference))
    }

    async fn pending(&self, reference: &Reference) -> Result<Option<PendingSlot>, FetchError> {
        let read = self.whole_secret(reference)?;
        let stages = self.stages(reference, &read).await?;
        let Some(version) = pending_version(&stages) else {
            return Ok(None);
        };
        let base_version = base_of(&stages[version]);
        let answer = self
            .connection
            .client
            .get_secret_value()
            .secret_id(&read.id)
            .version_id(version)
            .send()
            .await
            .map_err(|error| {
                self.failed(reference, &read, Action::GetSecretValue)(CallFailure::from_sdk(error))
            })?;
        let value = answer.secret_string.ok_or_else(|| {
            FetchError::new(
                FetchErrorKind::Invalid,
                format!(
                    "{}: the AWSPENDING version {version} holds no text",
                    self.location(reference)
                ),
            )
            .with_hint("remove the label by hand: aws secretsmanager update-secret-version-stage --version-stage AWSPENDING --remove-from-version-id VERSION")
        })?;
        let (value, username) = slot_value(&value, PASSWORD_KEY);
        Ok(Some(PendingSlot {
            rotation_id: version.to_string(),
            value,
            base_version,
            username,
        }))
    }

    async fn create_pending(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<(), FetchError> {
        let read = self.whole_secret(reference)?;
        let taken = |version: &str| {
            conflict(
                format!(
                    "{}: version {version} is staged AWSPENDING already (another rotation started first)",
                    self.location(reference)
                ),
                TAKEN_HINT,
            )
        };
        // PutSecretValue would move AWSPENDING from another version to ours: look first.
        if let Some(version) = pending_version(&self.stages(reference, &read).await?) {
            return Err(taken(version));
        }
        let text = slot_text(slot, PASSWORD_KEY, "Secrets Manager")?;
        let base = slot
            .base_version
            .as_ref()
            .map(|base| format!("{BASE_PREFIX}{base}"));
        self.connection
            .client
            .put_secret_value()
            .secret_id(&read.id)
            .client_request_token(&slot.rotation_id)
            .secret_string(text.expose_str().unwrap_or_default())
            .set_version_stages(Some(
                std::iter::once(PENDING.to_string()).chain(base).collect(),
            ))
            .send()
            .await
            .map_err(|error| {
                self.failed(reference, &read, Action::PutSecretValue)(CallFailure::from_sdk(error))
            })?;
        // Two rotations that looked at once: the later Put took the label; the earlier loses.
        match pending_version(&self.stages(reference, &read).await?) {
            Some(version) if version == slot.rotation_id => Ok(()),
            Some(version) => Err(taken(version)),
            None => Err(taken("(none)")),
        }
    }

    /// Marks the pending version with the previous-kept label the current version does not
    /// hold (AWS moves AWSPREVIOUS itself, in the promote's call).
    async fn keep_previous(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<KeptPrevious, FetchError> {
        let read = self.whole_secret(reference)?;
        let stages = self.stages(reference, &read).await?;
        let ours = slot.rotation_id.as_str();
        let current = holder(&stages, CURRENT).and_then(|version| stages.get(version));
        let held = |label: &&str| current.is_some_and(|labels| labels.iter().any(|l| l == label));
        // Both on the current version (set by hand): the first one moves, as it always did.
        let label = PREVIOUS_KEPT
            .iter()
            .find(|label| !held(label))
            .unwrap_or(&PREVIOUS_KEPT[0]);
        let marked = holder(&stages, label);
        if marked != Some(ours) {
            self.move_stage(reference, &read, label, Some(ours), marked)
                .await?;
        }
        Ok(KeptPrevious::default())
    }

    async fn promote(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
        expected_current: Option<&str>,
        // The marker is on the pending version already (keep_previous).
        _kept: Option<&KeptPrevious>,
    ) -> Result<Metadata, FetchError> {
        let read = self.whole_secret(reference)?;
        let stages = self.stages(reference, &read).await?;
        let ours = &slot.rotation_id;
        let labels = stages.get(ours).cloned().unwrap_or_default();
        if labels.iter().any(|label| label == CURRENT) {
            return Ok(version(ours));
        }
        if !labels.iter().any(|label| label == PENDING) {
            return Err(conflict(
                format!(
                    "{}: version {ours} is no longer staged AWSPENDING (another rotation took the slot); nothing was promoted",
                    self.location(reference)
                ),
                "check the secret's versions: aws secretsmanager describe-secret --secret-id ID",
            ));
        }
        let current = holder(&stages, CURRENT);
        if let (Some(expected), Some(current)) = (expected_current, current)
            && expected != current
        {
            return Err(conflict(
                format!(
                    "{}: changed since the rotation started (AWSCURRENT is version {current}, not {expected}); nothing was promoted",
                    self.location(reference)
                ),
                CHANGED_HINT,
            ));
        }
        // RemoveFromVersionId must still hold AWSCURRENT: the service's own check-and-set.
        self.move_stage(reference, &read, CURRENT, Some(ours), current)
            .await?;
        Ok(version(ours))
    }

    async fn retire_previous(&self, reference: &Reference) -> Result<bool, FetchError> {
        let read = self.whole_secret(reference)?;
        let stages = self.stages(reference, &read).await?;
        let current = holder(&stages, CURRENT);
        let mut retired = false;
        // The marker first: once it is gone launches stop reading AWSPREVIOUS, whatever
        // happens to the label after.
        for label in PREVIOUS_KEPT {
            if let Some(marked) = holder(&stages, label).map(str::to_string) {
                self.move_stage(reference, &read, label, None, Some(&marked))
                    .await?;
                retired |= current == Some(marked.as_str());
            }
        }
        if let Some(previous) = holder(&stages, PREVIOUS).map(str::to_string) {
            self.move_stage(reference, &read, PREVIOUS, None, Some(&previous))
                .await?;
            retired = true;
        }
        Ok(retired)
    }

    async fn remove_pending(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<(), FetchError> {
        let read = self.whole_secret(reference)?;
        let stages = self.stages(reference, &read).await?;
        let labels = stages.get(&slot.rotation_id).cloned().unwrap_or_default();
        if labels.iter().any(|label| label == PENDING) {
            self.move_stage(reference, &read, PENDING, None, Some(&slot.rotation_id))
                .await?;
        }
        // The base label after AWSPENDING, which alone makes the slot: a crash in between
        // leaves a stray label on a version that is no slot, which nothing reads.
        if let Some(base) = base_of(&labels) {
            let label = format!("{BASE_PREFIX}{base}");
            self.move_stage(reference, &read, &label, None, Some(&slot.rotation_id))
                .await?;
        }
        Ok(())
    }
}

fn version(id: &str) -> Metadata {
    Metadata {
        version: Some(id.to_string()),
        ..Metadata::default()
    }
}
