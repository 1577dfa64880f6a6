//! The four steps, the same on every backend: *create* (a generated value, durably in the
//! pending slot), *set* and *test* (the external system, when there is one), *promote* (the
//! pending value becomes current, check-and-set against the version read at the start),
//! *finish* (the slot is removed). Each step starts from a probe of the real state, so that a
//! run killed anywhere can be completed (`--resume`) or undone (`--abort`) by a later one,
//! with the same value: no generated value is ever lost.

use super::fault::Fault;
use crate::backend::{Backend, FetchError, Fetched, Metadata, PendingSlot, RotationStore};
use crate::logging::AUDIT_TARGET;
use crate::problem::Problem;
use crate::random::{random_bytes, random_secret};
use crate::reference::Reference;
use crate::schema::{Previous, RequiredSecret};
use crate::secret::SecretString;
use crate::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Create,
    Set,
    Test,
    Promote,
    Finish,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Create,
        Step::Set,
        Step::Test,
        Step::Promote,
        Step::Finish,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Create => "create",
            Step::Set => "set",
            Step::Test => "test",
            Step::Promote => "promote",
            Step::Finish => "finish",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.as_str() == text)
    }
}

/// One secret being rotated in one backend.
pub struct Rotating<'a> {
    pub secret: &'a RequiredSecret,
    pub reference: Reference,
    pub backend: &'a dyn Backend,
    pub store: &'a dyn RotationStore,
    pub fault: Fault,
}

/// What happened to one secret.
pub enum Done {
    Rotated {
        rotation_id: String,
        version: Option<String>,
    },
    Aborted {
        rotation_id: String,
    },
    NothingPending,
}

impl Rotating<'_> {
    fn location(&self) -> String {
        self.backend.location(&self.reference)
    }

    fn pending_location(&self) -> String {
        self.store.pending_location(&self.reference)
    }

    fn problem(&self, error: FetchError) -> Problem {
        Problem::new(&self.secret.name, error.message).with_optional_hint(error.hint)
    }

    pub async fn current(&self) -> Result<Fetched, Problem> {
        let mut answers = self
            .backend
            .fetch(std::slice::from_ref(&self.reference))
            .await;
        match answers.remove(&self.reference) {
            Some(Ok(fetched)) => Ok(fetched),
            Some(Err(error)) => Err(self.problem(error)),
            None => Err(Problem::new(
                &self.secret.name,
                "the backend gave no answer",
            )),
        }
    }

    pub async fn pending(&self) -> Result<Option<PendingSlot>, Problem> {
        self.store
            .pending(&self.reference)
            .await
            .map_err(|error| self.problem(error))
    }

    /// A new rotation: refuses when a pending slot exists (no silent auto-resume: two
    /// operators must not both finish one rotation).
    pub async fn rotate(&self, length: usize) -> Result<Done, Problem> {
        let current = self.current().await?;
        if let Some(slot) = self.pending().await? {
            return Err(self.unfinished(&slot));
        }
        let value = SecretString::from(random_secret(length, crate::cli::Encoding::Base64url)?);
        // The launcher validates every launch with the same rules: never store what it refuses.
        validate::check_new_value(&self.secret.name, Some(self.secret), &value, false)?;
        let slot = PendingSlot {
            rotation_id: rotation_id()?,
            value,
            base_version: current.metadata.version.clone(),
        };
        self.store
            .create_pending(&self.reference, &slot)
            .await
            .map_err(|error| self.problem(error))?;
        self.audit(
            &slot,
            Step::Create,
            current.metadata.version.as_deref(),
            None,
        );
        self.fault.after(Step::Create);
        let completed = self
            .complete(&slot, current.metadata.version.as_deref())
            .await;
        if completed.is_err() {
            // Lost a race (promote found the secret changed): the new value was never current
            // and no system holds it, so this run's own slot goes instead of blocking the next.
            // (Once the database and Redis steps have run, the slot must stay for --resume.)
            let _ = self.store.remove_pending(&self.reference, &slot).await;
        }
        completed
    }

    /// `--resume`: completes the pending slot's rotation with the pending value.
    pub async fn resume(&self) -> Result<Done, Problem> {
        let Some(slot) = self.pending().await? else {
            return Ok(Done::NothingPending);
        };
        self.complete(&slot, slot.base_version.as_deref()).await
    }

    /// `--abort`: removes the pending slot; the current value stays (or, if the crash came
    /// after promote, the already promoted one: the slot is then only what finish removes).
    pub async fn abort(&self) -> Result<Done, Problem> {
        let Some(slot) = self.pending().await? else {
            return Ok(Done::NothingPending);
        };
        self.store
            .remove_pending(&self.reference, &slot)
            .await
            .map_err(|error| self.problem(error))?;
        self.audit_named(&slot, "abort", None, None);
        Ok(Done::Aborted {
            rotation_id: slot.rotation_id,
        })
    }

    async fn complete(
        &self,
        slot: &PendingSlot,
        started_at: Option<&str>,
    ) -> Result<Done, Problem> {
        // No external system checks a key: set and test have nothing to do. The database and
        // Redis steps plug in here through `external::ExternalSystem`: probe which of pending,
        // current and previous logs in, set unless pending does, then test pending.
        for step in [Step::Set, Step::Test] {
            self.audit_named(slot, step.as_str(), None, Some("no external system"));
            self.fault.after(step);
        }
        // Probe: a run killed after promote left the pending value current already.
        let current = self.current().await?;
        let version = if current.value.expose() == slot.value.expose() {
            current.metadata.version.clone()
        } else {
            let promoted: Metadata = self
                .store
                .promote(&self.reference, slot, started_at, self.keeps_previous())
                .await
                .map_err(|error| self.problem(error))?;
            promoted.version
        };
        self.audit(
            slot,
            Step::Promote,
            current.metadata.version.as_deref(),
            version.as_deref(),
        );
        self.fault.after(Step::Promote);
        self.store
            .remove_pending(&self.reference, slot)
            .await
            .map_err(|error| self.problem(error))?;
        self.audit(slot, Step::Finish, None, version.as_deref());
        self.fault.after(Step::Finish);
        Ok(Done::Rotated {
            rotation_id: slot.rotation_id.clone(),
            version,
        })
    }

    fn keeps_previous(&self) -> bool {
        self.secret.previous != Previous::Never
    }

    /// `--retire`: drops the previous value, so launches no longer get `<ENV>_PREVIOUS`.
    pub async fn retire(&self) -> Result<bool, Problem> {
        let retired = self
            .store
            .retire_previous(&self.reference)
            .await
            .map_err(|error| self.problem(error))?;
        tracing::info!(
            target: AUDIT_TARGET,
            secret = %self.secret.name,
            step = "retire",
            source = %self.backend.source(),
            location = %self.location(),
            retired,
            "rotation step"
        );
        Ok(retired)
    }

    fn unfinished(&self, slot: &PendingSlot) -> Problem {
        Problem::new(
            &self.secret.name,
            format!(
                "an unfinished rotation ({}) left a pending slot at {}; refusing to start another",
                slot.rotation_id,
                self.pending_location()
            ),
        )
        .with_hint(format!(
            "complete it with the pending value: cronos-secrets rotate --resume {name}, or drop it: cronos-secrets rotate --abort {name}",
            name = self.secret.name
        ))
    }

    fn audit(&self, slot: &PendingSlot, step: Step, from: Option<&str>, to: Option<&str>) {
        self.audit_named(slot, step.as_str(), from.or(to).map(|_| (from, to)), None);
    }

    fn audit_named(
        &self,
        slot: &PendingSlot,
        step: &str,
        versions: Option<(Option<&str>, Option<&str>)>,
        note: Option<&str>,
    ) {
        let (from, to) = versions.unwrap_or((None, None));
        tracing::info!(
            target: AUDIT_TARGET,
            rotation_id = %slot.rotation_id,
            secret = %self.secret.name,
            step,
            source = %self.backend.source(),
            location = %self.location(),
            pending = %self.pending_location(),
            version_before = from.unwrap_or("-"),
            version_after = to.unwrap_or("-"),
            note = note.unwrap_or("-"),
            "rotation step"
        );
    }
}

/// 32 hex characters: a valid AWS `ClientRequestToken` (32 to 64 characters), unique per run.
fn rotation_id() -> Result<String, Problem> {
    Ok(random_bytes(16)?
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}
