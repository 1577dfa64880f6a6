//! The *set* and *test* steps: the system that checks a rotated password (`postgres`,
//! `redis`), built from the config's `rotation:` section by `systems`; without it
//! `select::rotation_of` refuses their passwords rather than changing them only in the store.
//!
//! Every method is re-entrant and starts from the real state: after a crash, `probe` says
//! which of the pending, current and previous credentials the system accepts, and the
//! protocol goes on from there (`external_steps`).

use async_trait::async_trait;

use crate::secret::SecretString;

/// A login: with alternating users the user name changes with the password, in one secret.
pub struct Credential {
    pub username: Option<String>,
    pub password: SecretString,
}

/// The credentials a probe tries, in this order.
pub struct Candidates<'a> {
    pub pending: &'a Credential,
    pub current: &'a Credential,
    pub previous: Option<&'a Credential>,
}

/// Which candidate the system accepts now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Pending,
    Current,
    Previous,
    /// None logs in: stop and ask a human; nothing is changed.
    None,
}

/// Why a step failed; the message names the system and never holds a value.
pub enum StepError {
    /// The system refused the value itself (a password policy): generate a new pending value
    /// once, never replay it forever.
    Rejected(String),
    /// Anything else (network, permissions): keep the pending value, the step can be rerun.
    Failed(String),
}

#[async_trait]
pub trait ExternalSystem: Send + Sync {
    /// `postgresql cronos_user@db:5432/cronos_ai`, for plans, audit events and messages.
    fn describe(&self) -> String;

    /// The login users the config names: the only ones *set* may change (a pending slot that
    /// names another is not ours, see `slot_check`).
    fn users(&self) -> Vec<String>;

    async fn probe(&self, candidates: &Candidates<'_>) -> Result<Accepted, StepError>;

    /// Makes the system accept `pending` (logging in with `current`, or an admin login).
    async fn set(&self, pending: &Credential, current: &Credential) -> Result<(), StepError>;

    /// Logs in with `pending` over a fresh connection.
    async fn test(&self, pending: &Credential) -> Result<(), StepError>;
}
