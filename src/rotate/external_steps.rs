//! *set* and *test* in the system that checks a password (the database, Redis), re-entrant:
//! each run first probes which of the pending and current passwords the system accepts, and
//! goes on from there. The pending value is in the backend before the system changes, so a
//! run killed anywhere leaves the system holding a value the backend holds.

use super::external::{Accepted, Candidates, Credential, ExternalSystem, StepError};
use super::protocol::{CurrentValue, Rotating, rotation_id, slot_credential};
use super::step::Step;
use crate::backend::PendingSlot;
use crate::problem::Problem;

impl Rotating<'_> {
    /// Sets (unless the value was promoted already: a rerun after a crash) and tests the value;
    /// returns the slot to promote: a new one when the system rejected the first value.
    pub(super) async fn set_and_test(
        &self,
        system: &dyn ExternalSystem,
        slot: &PendingSlot,
        current: &CurrentValue,
    ) -> Result<PendingSlot, Problem> {
        let promoted = current.is(slot);
        let current = current.credential();
        let pending = slot_credential(slot);
        let accepted = system
            .probe(&Candidates {
                pending: &pending,
                current: &current,
                previous: None,
            })
            .await
            .map_err(|error| self.failed("probe", error))?;
        let slot = match accepted {
            Accepted::None => return Err(self.locked_out(system)),
            // Killed after promote: the system has it, and setting it again now would make
            // the promoted value "current" and drop the one it replaced (Redis keeps both).
            Accepted::Pending if promoted => {
                self.audit_named(slot, Step::Set.as_str(), None, Some("promoted already"));
                self.fault.after(Step::Set);
                slot.clone()
            }
            // Accepted, not promoted (a rerun after a crash): set again all the same, since
            // set is idempotent and a first run killed before the system persisted the change
            // (Redis's ACL SAVE) must not leave it in memory only.
            _ => self.set(system, slot, &current).await?,
        };
        system
            .test(&slot_credential(&slot))
            .await
            .map_err(|error| self.failed("test", error))?;
        self.audit_named(&slot, Step::Test.as_str(), None, Some(&system.describe()));
        self.fault.after(Step::Test);
        Ok(slot)
    }

    /// *set*; a value the system rejects (a password policy) is replaced once by a new one,
    /// never replayed forever. The rejected value was never accepted, so dropping it loses
    /// nothing.
    async fn set(
        &self,
        system: &dyn ExternalSystem,
        slot: &PendingSlot,
        current: &Credential,
    ) -> Result<PendingSlot, Problem> {
        let first = match system.set(&slot_credential(slot), current).await {
            Ok(()) => {
                self.audit_named(slot, Step::Set.as_str(), None, Some(&system.describe()));
                self.fault.after(Step::Set);
                return Ok(slot.clone());
            }
            Err(StepError::Rejected(why)) => why,
            Err(error) => return Err(self.failed("set", error)),
        };
        tracing::warn!(
            secret = %self.secret.name,
            system = %system.describe(),
            "the new password was rejected ({first}); generating another once"
        );
        self.store
            .remove_pending(&self.reference, slot)
            .await
            .map_err(|error| self.problem(error))?;
        let replacement = PendingSlot {
            rotation_id: rotation_id()?,
            value: self.generate(slot.value.expose().len())?,
            ..slot.clone()
        };
        self.create(&replacement, slot.base_version.as_deref())
            .await?;
        match system.set(&slot_credential(&replacement), current).await {
            Ok(()) => {
                self.audit_named(
                    &replacement,
                    Step::Set.as_str(),
                    None,
                    Some(&system.describe()),
                );
                self.fault.after(Step::Set);
                Ok(replacement)
            }
            Err(StepError::Rejected(why)) => {
                // Rejected twice: no value reached the system, the slot goes.
                let _ = self
                    .store
                    .remove_pending(&self.reference, &replacement)
                    .await;
                Err(Problem::new(
                    &self.secret.name,
                    format!(
                        "{} rejected two generated passwords ({why}); nothing was changed",
                        system.describe()
                    ),
                )
                .with_hint("check the server's password policy (length, character classes) against the secret's min_length"))
            }
            Err(error) => Err(self.failed("set", error)),
        }
    }

    /// Whether `credential` logs in to the system now.
    pub(super) async fn logs_in(
        &self,
        system: &dyn ExternalSystem,
        credential: &Credential,
    ) -> Result<bool, Problem> {
        let accepted = system
            .probe(&Candidates {
                pending: credential,
                current: credential,
                previous: None,
            })
            .await
            .map_err(|error| self.failed("probe", error))?;
        Ok(accepted != Accepted::None)
    }

    /// The step's own message names the system already.
    fn failed(&self, step: &str, error: StepError) -> Problem {
        let (StepError::Rejected(why) | StepError::Failed(why)) = error;
        Problem::new(&self.secret.name, format!("{step} failed: {why}"))
    }

    fn locked_out(&self, system: &dyn ExternalSystem) -> Problem {
        Problem::new(
            &self.secret.name,
            format!(
                "{} accepts neither the pending nor the current password; nothing was changed",
                system.describe()
            ),
        )
        .with_hint(format!(
            "the user may not exist, or someone changed the password outside cronos-secrets: create the user, or store the password in use with cronos-secrets set {}, then rotate --resume",
            self.secret.name
        ))
    }
}
