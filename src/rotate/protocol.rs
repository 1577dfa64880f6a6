//! The four steps, the same on every backend: *create* (a generated value, durably in the
//! pending slot), *set* and *test* (the external system, when there is one), *promote* (the
//! pending value becomes current, check-and-set against the version read at the start),
//! *finish* (the slot is removed). Each step starts from a probe of the real state, so that a
//! run killed anywhere can be completed (`--resume`) or undone (`--abort`) by a later one,
//! with the same value: no generated value is ever lost.

use super::external::{Credential, ExternalSystem};
use super::fault::Fault;
use super::step::Step;
use crate::backend::{
    self, Backend, FetchError, Fetched, KeptPrevious, Metadata, PendingSlot, RUNNING_HINT,
    RotationStore,
};
use crate::logging::AUDIT_TARGET;
use crate::problem::Problem;
use crate::random::{random_bytes, random_secret};
use crate::reference::Reference;
use crate::resolve;
use crate::schema::{Previous, RequiredSecret};
use crate::secret::SecretString;
use crate::untrusted_text::escaped;
use crate::validate;

/// One secret being rotated in one backend.
pub struct Rotating<'a> {
    pub secret: &'a RequiredSecret,
    /// `secret://NAME`: the whole secret, as the pending slot and promote address it.
    pub reference: Reference,
    pub backend: &'a dyn Backend,
    pub store: &'a dyn RotationStore,
    pub fault: Fault,
    /// The system that checks the value (the database, Redis), which *set* and *test* change.
    pub system: Option<&'a dyn ExternalSystem>,
    /// `strategy: alternating`: the two login roles; the user name changes with the password.
    pub pair: Option<&'a [String; 2]>,
}

/// The current value, with the user name of a paired login.
pub struct CurrentValue {
    pub fetched: Fetched,
    pub username: Option<String>,
    /// Whether the backend holds the user name (a secret from before `alternating` does not).
    pub username_stored: bool,
}

impl CurrentValue {
    pub fn credential(&self) -> Credential {
        Credential {
            username: self.username.clone(),
            password: self.fetched.value.clone(),
        }
    }

    /// Whether `slot` is this value already (a run killed after promote). A pair's user name
    /// must be stored too: `--setup` pairs up a password with the name it was read as.
    pub(super) fn is(&self, slot: &PendingSlot) -> bool {
        self.fetched.value.expose() == slot.value.expose()
            && (slot.username.is_none() || (self.username_stored && slot.username == self.username))
    }
}

/// What happened to one secret.
pub enum Done {
    Rotated {
        rotation_id: String,
        version: Option<String>,
    },
    Aborted {
        rotation_id: String,
        /// The run was killed after promote: its value is current and stays.
        promoted: bool,
    },
    NothingPending,
}

impl Rotating<'_> {
    fn location(&self) -> String {
        self.backend.location(&self.reference)
    }

    pub(super) fn pending_location(&self) -> String {
        self.store.pending_location(&self.reference)
    }

    pub(super) fn problem(&self, error: FetchError) -> Problem {
        Problem::new(&self.secret.name, error.message).with_optional_hint(error.hint)
    }

    /// The current value (a paired login's password and user name, read together).
    pub async fn current(&self) -> Result<CurrentValue, Problem> {
        let username = self
            .pair
            .map(|_| backend::paired_username_reference(&self.secret.name));
        let references: Vec<Reference> = std::iter::once(self.reference.clone())
            .chain(username.clone())
            .collect();
        let mut answers = resolve::read(self.backend, &references, &self.secret.name).await?;
        let mut fetched = answers
            .take(&self.reference)
            .map_err(|error| self.problem(error))?;
        let (Some(reference), Some([first, _])) = (&username, self.pair) else {
            return Ok(CurrentValue {
                fetched,
                username: None,
                username_stored: false,
            });
        };
        // A paired login: the password out of the backend's shape (AWS's JSON object), and
        // the user name, which a secret from before `alternating` lacks: its user is then the
        // first role, the one `strategy: single` rotated.
        let key = self.backend.source().layout().paired_password_key();
        if let Some(text) = fetched.value.expose_str() {
            fetched.value = backend::slot_value(text, key).0;
        }
        let (username, username_stored) = match answers.take(reference) {
            Ok(name) => (
                String::from_utf8_lossy(name.value.expose()).into_owned(),
                true,
            ),
            _ => (first.clone(), false),
        };
        Ok(CurrentValue {
            fetched,
            username: Some(username),
            username_stored,
        })
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
        let value = self.generate(length)?;
        let username = self.next_username(&current);
        self.replace(current, value, username).await
    }

    /// Makes `value` (with `username`, for a pair) current through a new pending slot.
    async fn replace(
        &self,
        current: CurrentValue,
        value: SecretString,
        username: Option<String>,
    ) -> Result<Done, Problem> {
        if let Some(slot) = self.pending().await? {
            return Err(self.unfinished(&slot));
        }
        let started_at = current.fetched.metadata.version.clone();
        let slot = PendingSlot {
            rotation_id: rotation_id()?,
            value,
            base_version: started_at.clone(),
            username,
        };
        self.create(&slot, started_at.as_deref()).await?;
        let completed = self.complete(&slot, started_at.as_deref(), current).await;
        match (&completed, self.system) {
            // Lost a race (promote found the secret changed): the new value was never current
            // and no system holds it, so this run's own slot goes instead of blocking the next.
            (Err(_), None) => {
                let _ = self.store.remove_pending(&self.reference, &slot).await;
            }
            // The system may hold the pending value now: the slot stays, so no value is lost.
            (Err(problem), Some(_)) => {
                return Err(self.slot_kept(problem.clone()));
            }
            _ => {}
        }
        completed
    }

    /// Stores a new slot durably: the first step, before any system changes.
    pub(super) async fn create(
        &self,
        slot: &PendingSlot,
        from: Option<&str>,
    ) -> Result<(), Problem> {
        self.store
            .create_pending(&self.reference, slot)
            .await
            .map_err(|error| self.problem(error))?;
        self.audit(slot, Step::Create, from, None);
        self.fault.after(Step::Create);
        Ok(())
    }

    /// A new value for this secret: `length` URL-safe characters the launcher accepts.
    pub(super) fn generate(&self, length: usize) -> Result<SecretString, Problem> {
        let value = SecretString::from(random_secret(length, crate::random::Encoding::Base64url)?);
        // The launcher validates every launch with the same rules: never store what it refuses.
        validate::check_new_value(&self.secret.name, Some(self.secret), &value, false)?;
        Ok(value)
    }

    /// `alternating`: the role not in use now.
    fn next_username(&self, current: &CurrentValue) -> Option<String> {
        let [first, second] = self.pair?;
        Some(if current.username.as_deref() == Some(first.as_str()) {
            second.clone()
        } else {
            first.clone()
        })
    }

    fn slot_kept(&self, problem: Problem) -> Problem {
        let name = &self.secret.name;
        let keep = format!(
            "the pending value stays in {} (the system may hold it already): fix the cause, then cronos-secrets rotate --resume {name}",
            self.pending_location()
        );
        let hint = match problem.hint {
            Some(hint) => format!("{hint}; {keep}"),
            None => keep,
        };
        Problem {
            hint: Some(hint),
            ..problem
        }
    }

    /// `--resume`: completes the pending slot's rotation with the pending value, if the slot
    /// is one this tool wrote for this secret (`slot_check`). The current value is read here,
    /// since a run killed after promote left the pending value current already (then promote
    /// has nothing to do).
    pub async fn resume(&self) -> Result<Done, Problem> {
        let Some(slot) = self.pending().await? else {
            return Ok(Done::NothingPending);
        };
        self.check_slot(&slot, None)?;
        let current = self.current().await?;
        self.check_slot(&slot, Some(&current))?;
        self.complete(&slot, slot.base_version.as_deref(), current)
            .await
    }

    /// `--setup` of `alternating`: a secret from before holds the password alone; store it as
    /// a pair with the first role's name (the same password, through the same pending slot and
    /// check-and-set promote), so launches can read `#username` before the first rotation.
    /// `false` when the secret is a pair already.
    pub async fn pair_up(&self) -> Result<bool, Problem> {
        let current = self.current().await?;
        if current.username_stored || self.pair.is_none() {
            return Ok(false);
        }
        let (value, username) = (current.fetched.value.clone(), current.username.clone());
        self.replace(current, value, username).await.map(|_| true)
    }

    /// `--abort` of a password: refused while the system accepts only the pending value (a
    /// run killed between *set* and *promote* with `single`), which dropping would lose.
    async fn abort_allowed(
        &self,
        slot: &PendingSlot,
        current: &CurrentValue,
    ) -> Result<(), Problem> {
        let Some(system) = self.system else {
            return Ok(());
        };
        if self.logs_in(system, &current.credential()).await? {
            return Ok(());
        }
        // A slot naming a role the config does not name was never set by this tool: its login
        // is not even tried.
        if self.foreign_login(slot, None).is_none()
            && self.logs_in(system, &slot_credential(slot)).await?
        {
            return Err(Problem::new(
                &self.secret.name,
                format!(
                    "refusing to abort: {} accepts only the pending password now; dropping it would lock the application out",
                    system.describe()
                ),
            )
            .with_hint(format!(
                "complete the rotation instead: cronos-secrets rotate --resume {}",
                self.secret.name
            )));
        }
        Ok(())
    }

    /// `--abort`: removes the pending slot; the current value stays (or, if the crash came
    /// after promote, the already promoted one: the slot is then only what finish removes,
    /// and the message says the new value stays).
    pub async fn abort(&self) -> Result<Done, Problem> {
        let Some(slot) = self.pending().await? else {
            return Ok(Done::NothingPending);
        };
        let current = match (self.current().await, self.system) {
            (Ok(current), _) => Some(current),
            // A key's slot goes even when the current value cannot be read.
            (Err(_), None) => None,
            (Err(problem), Some(_)) => return Err(problem),
        };
        if let Some(current) = &current {
            self.abort_allowed(&slot, current).await?;
        }
        self.store
            .remove_pending(&self.reference, &slot)
            .await
            .map_err(|error| self.problem(error))?;
        self.audit_named(&slot, "abort", None, None);
        Ok(Done::Aborted {
            rotation_id: slot.rotation_id.clone(),
            promoted: current.is_some_and(|current| current.is(&slot)),
        })
    }

    /// Set, test, promote and finish. `current`: the value a run read just before it created
    /// `slot`, or that a resume read. The promote's check-and-set against `started_at` guards
    /// against a writer in between either way.
    async fn complete(
        &self,
        slot: &PendingSlot,
        started_at: Option<&str>,
        current: CurrentValue,
    ) -> Result<Done, Problem> {
        // Set and test in the system that checks the value (see `external_steps`); a key has
        // none. A value the system rejected is replaced by a new slot, so go on with that one.
        let slot = &match self.system {
            Some(system) => self.set_and_test(system, slot, &current).await?,
            None => {
                for step in [Step::Set, Step::Test] {
                    self.audit_named(slot, step.as_str(), None, Some("no external system"));
                    self.fault.after(step);
                }
                slot.clone()
            }
        };
        let version = if current.is(slot) {
            current.fetched.metadata.version.clone()
        } else {
            let kept = self.keep_previous(slot).await?;
            let promoted: Metadata = self
                .store
                .promote(&self.reference, slot, started_at, kept.as_ref())
                .await
                .map_err(|error| self.problem(error))?;
            promoted.version
        };
        self.audit(
            slot,
            Step::Promote,
            current.fetched.metadata.version.as_deref(),
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

    /// The first part of promote, for a secret that keeps its replaced value.
    async fn keep_previous(&self, slot: &PendingSlot) -> Result<Option<KeptPrevious>, Problem> {
        if self.secret.previous == Previous::Never {
            return Ok(None);
        }
        let kept = self
            .store
            .keep_previous(&self.reference, slot)
            .await
            .map_err(|error| self.problem(error))?;
        self.audit_named(slot, Step::Previous.as_str(), None, None);
        self.fault.after(Step::Previous);
        Ok(Some(kept))
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
        let name = &self.secret.name;
        if let Some(why) = self.foreign(slot, None) {
            return Problem::new(
                name,
                format!(
                    "a pending slot at {} was not written by cronos-secrets ({why}); refusing to start another rotation",
                    self.pending_location()
                ),
            )
            .with_hint(format!(
                "inspect it, then drop it: cronos-secrets rotate --abort {name}"
            ));
        }
        Problem::new(
            name,
            format!(
                "an unfinished rotation ({}) left a pending slot at {}; refusing to start another",
                slot.rotation_id,
                self.pending_location()
            ),
        )
        .with_hint(format!(
            "{RUNNING_HINT}; if it is not, complete it with the pending value: cronos-secrets rotate --resume {name}, or drop it: cronos-secrets rotate --abort {name}"
        ))
    }

    pub(super) fn audit(
        &self,
        slot: &PendingSlot,
        step: Step,
        from: Option<&str>,
        to: Option<&str>,
    ) {
        self.audit_named(slot, step.as_str(), from.or(to).map(|_| (from, to)), None);
    }

    pub(super) fn audit_named(
        &self,
        slot: &PendingSlot,
        step: &str,
        versions: Option<(Option<&str>, Option<&str>)>,
        note: Option<&str>,
    ) {
        let (from, to) = versions.unwrap_or((None, None));
        tracing::info!(
            target: AUDIT_TARGET,
            rotation_id = %escaped(&slot.rotation_id),
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

/// The login a slot holds.
pub(super) fn slot_credential(slot: &PendingSlot) -> Credential {
    Credential {
        username: slot.username.clone(),
        password: slot.value.clone(),
    }
}

/// 32 hex characters: a valid AWS `ClientRequestToken` (32 to 64 characters), unique per run.
pub(super) fn rotation_id() -> Result<String, Problem> {
    Ok(random_bytes(16)?
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}
