//! `rotate` on KV v2: the pending slot is a sibling path (`<path>.pending`) written create-only
//! (`cas=0`), holding the value, the rotation id and the version the rotation started from;
//! promote is a check-and-set write of the secret against that version; finish deletes the
//! sibling's metadata (all its versions, so the next `cas=0` write can succeed).

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::VaultBackend;
use super::http::HttpFailure;
use super::kv::{self, PREVIOUS_FIELD as PREVIOUS};
use super::path::SecretPath;
use crate::backend::layout::named_secret_key;
use crate::backend::rotation::{CHANGED_HINT, TAKEN_HINT, USERNAME_KEY, conflict};
use crate::backend::{
    FetchError, FetchErrorKind, KeptPrevious, Metadata, PendingSlot, RotationStore,
};
use crate::reference::Reference;
use crate::secret::SecretString;

const PENDING_SUFFIX: &str = ".pending";
const ROTATION_ID: &str = "rotation_id";
const BASE_VERSION: &str = "base_version";

/// `secret://NAME#previous`: the same KV secret, so launches read it in the same request.
pub(super) fn previous_reference(name: &str) -> Reference {
    named_secret_key(name, PREVIOUS)
}

/// `secret://NAME.pending`: the sibling path a rotation of `secret://NAME` writes first (the
/// path [`VaultBackend::rotation_target`] builds), for `policy`.
pub(super) fn pending_reference(name: &str) -> Reference {
    Reference::named_secret(&format!("{name}{PENDING_SUFFIX}"))
}

impl VaultBackend {
    /// The secret, its key, the pending sibling, and a token; only on KV v2, which alone has
    /// check-and-set.
    async fn rotation_target(
        &self,
        reference: &Reference,
    ) -> Result<(SecretPath, String, SecretPath, SecretString), FetchError> {
        let (secret, key) = self.target(reference)?;
        let token = self.token().await?;
        let kv_version = self.write_version(&token, &secret).await?;
        if kv_version != 2 {
            return Err(FetchError::new(
                FetchErrorKind::Unsupported,
                format!(
                    "{}: rotate needs KV version 2 (check-and-set and a pending slot); mount \"{}\" is KV version 1",
                    secret.logical(),
                    secret.mount
                ),
            )
            .with_hint(format!(
                "upgrade the mount: bao kv enable-versioning {}",
                secret.mount
            )));
        }
        let pending = SecretPath {
            path: format!("{}{PENDING_SUFFIX}", secret.path),
            ..secret.clone()
        };
        Ok((secret, key, pending, token))
    }

    fn auth(&self) -> String {
        self.settings.auth.describe()
    }

    /// A KV v2 write with check-and-set `cas` (0: create-only); a mismatch is `conflict()`.
    async fn cas_write(
        &self,
        token: &SecretString,
        secret: &SecretPath,
        data: Value,
        cas: u64,
        conflict: impl FnOnce() -> FetchError,
    ) -> Result<Metadata, FetchError> {
        let body = json!({ "data": data, "options": { "cas": cas } });
        match self
            .http
            .send(
                Method::POST,
                &secret.api_path(2),
                &[],
                Some(token),
                Some(&body),
            )
            .await
        {
            Ok(answer) => Ok(kv::version_metadata(
                answer.get("data").unwrap_or(&Value::Null),
            )),
            Err(failure) if is_cas_mismatch(&failure) => Err(conflict()),
            Err(failure) => Err(kv::explain(
                failure,
                &self.http,
                secret,
                2,
                "writing",
                &self.auth(),
            )),
        }
    }
}

#[async_trait]
impl RotationStore for VaultBackend {
    fn pending_location(&self, reference: &Reference) -> String {
        match self.target(reference) {
            Ok((secret, _)) => format!("{}{PENDING_SUFFIX}", secret.logical()),
            Err(_) => format!("{reference}{PENDING_SUFFIX}"),
        }
    }

    async fn pending(&self, reference: &Reference) -> Result<Option<PendingSlot>, FetchError> {
        let (_, _, pending, token) = self.rotation_target(reference).await?;
        let data = match kv::read(&self.http, &token, &pending, 2, &self.auth()).await {
            Ok(data) => data,
            Err(error) if error.kind == FetchErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let text = |name: &str| data.keys.get(name).and_then(Value::as_str);
        let (Some(value), Some(rotation_id)) = (text("value"), text(ROTATION_ID)) else {
            return Err(FetchError::new(
                FetchErrorKind::Invalid,
                format!(
                    "{} is not a pending slot written by cronos-secrets rotate (no value or rotation_id)",
                    pending.logical()
                ),
            )
            .with_hint(format!(
                "rename or delete it (bao kv metadata delete -mount={} {}): the name is reserved for rotations",
                pending.mount, pending.path
            )));
        };
        Ok(Some(PendingSlot {
            rotation_id: rotation_id.to_string(),
            value: SecretString::from(value),
            base_version: text(BASE_VERSION).map(str::to_string),
            username: text(USERNAME_KEY).map(str::to_string),
        }))
    }

    async fn create_pending(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<(), FetchError> {
        let (_, _, pending, token) = self.rotation_target(reference).await?;
        let mut data = json!({
            "value": utf8(slot)?,
            ROTATION_ID: slot.rotation_id,
            BASE_VERSION: slot.base_version,
        });
        if let Some(username) = &slot.username {
            data[USERNAME_KEY] = json!(username);
        }
        let taken = || {
            conflict(
                format!(
                    "{}: a pending slot already exists (another rotation started first)",
                    pending.logical()
                ),
                TAKEN_HINT,
            )
        };
        self.cas_write(&token, &pending, data, 0, taken)
            .await
            .map(|_| ())
    }

    /// Nothing before the promote: its one check-and-set write moves the replaced value.
    async fn keep_previous(
        &self,
        _reference: &Reference,
        _slot: &PendingSlot,
    ) -> Result<KeptPrevious, FetchError> {
        Ok(KeptPrevious::default())
    }

    async fn promote(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
        expected_current: Option<&str>,
        kept: Option<&KeptPrevious>,
    ) -> Result<Metadata, FetchError> {
        let (secret, key, _, token) = self.rotation_target(reference).await?;
        let current = kv::read(&self.http, &token, &secret, 2, &self.auth()).await?;
        let cas: u64 = expected_current.and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut keys = current.keys;
        // The secret's other keys (a `username` beside `value`) stay as they are; the replaced
        // value moves to `previous` in the same check-and-set write.
        let replaced = keys.insert(key, Value::String(utf8(slot)?.to_string()));
        if let (Some(_), Some(replaced)) = (kept, replaced) {
            keys.insert(PREVIOUS.to_string(), replaced);
        }
        // A paired login's user name changes with its password, in the same write.
        if let Some(username) = &slot.username {
            keys.insert(USERNAME_KEY.to_string(), Value::String(username.clone()));
        }
        let changed = || {
            conflict(
                format!(
                    "{}: changed since the rotation started (expected version {cas}); nothing was promoted",
                    secret.logical()
                ),
                CHANGED_HINT,
            )
        };
        self.cas_write(&token, &secret, Value::Object(keys), cas, changed)
            .await
    }

    async fn retire_previous(&self, reference: &Reference) -> Result<bool, FetchError> {
        let (secret, _, _, token) = self.rotation_target(reference).await?;
        let current = kv::read(&self.http, &token, &secret, 2, &self.auth()).await?;
        let mut keys = current.keys;
        if keys.remove(PREVIOUS).is_none() {
            return Ok(false);
        }
        let cas: u64 = current
            .metadata
            .version
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let changed = || {
            conflict(
                format!(
                    "{}: changed while retiring; nothing was retired",
                    secret.logical()
                ),
                "run rotate --retire again",
            )
        };
        self.cas_write(&token, &secret, Value::Object(keys), cas, changed)
            .await?;
        Ok(true)
    }

    async fn remove_pending(
        &self,
        reference: &Reference,
        slot: &PendingSlot,
    ) -> Result<(), FetchError> {
        // Only our own slot: a concurrent rotation may have written one after ours was gone.
        match self.pending(reference).await? {
            Some(found) if found.rotation_id == slot.rotation_id => {}
            _ => return Ok(()),
        }
        let (_, _, pending, token) = self.rotation_target(reference).await?;
        let metadata = format!("{}/metadata/{}", pending.mount, pending.path);
        match self
            .http
            .send(Method::DELETE, &metadata, &[], Some(&token), None)
            .await
        {
            Ok(_) => Ok(()),
            Err(HttpFailure::Status { status: 404, .. }) => Ok(()),
            Err(failure) => Err(kv::explain(
                failure,
                &self.http,
                &pending,
                2,
                "deleting",
                &self.auth(),
            )),
        }
    }
}

fn utf8(slot: &PendingSlot) -> Result<&str, FetchError> {
    slot.value.expose_str().ok_or_else(|| {
        FetchError::new(
            FetchErrorKind::Invalid,
            "Vault KV values must be valid UTF-8 text",
        )
    })
}

/// KV v2 answers a failed check-and-set with 400 "check-and-set parameter did not match".
fn is_cas_mismatch(failure: &HttpFailure) -> bool {
    matches!(failure, HttpFailure::Status { status: 400, errors }
        if errors.iter().any(|error| error.contains("check-and-set")))
}
