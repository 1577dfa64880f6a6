//! The calls a binding makes beyond the guide's two: a batch of reads, a secret's details, the
//! current versions (to refresh a cache by metadata, as `run --watch` does), a validated write.

use std::time::{Duration, SystemTime};

use std::collections::BTreeSet;

use super::{Backing, Failure, FailureKind, SecretsManager};
use crate::backend::{
    FetchErrorKind, Metadata, Source, StoreOptions, Version, call_deadline, deadline_after,
};
use crate::problem::Problem;
use crate::reference::{Reference, Scheme};
use crate::resolve;
use crate::secret::SecretString;
use crate::supervise::poll;
use crate::validate;

/// What is known of a secret's current value besides the value itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretDetails {
    /// The backend's version id (`7`, an AWS version id), when it keeps one.
    pub version: Option<String>,
    /// When this version was written.
    pub updated: Option<SystemTime>,
    /// When this version stops being valid (Key Vault's `exp`).
    pub expires: Option<SystemTime>,
}

impl From<&Metadata> for SecretDetails {
    fn from(metadata: &Metadata) -> Self {
        SecretDetails {
            version: metadata.version.clone(),
            updated: metadata.updated,
            expires: metadata.expires,
        }
    }
}

/// One value read, with its details and what identifies its version (compared, never shown:
/// where a backend keeps no version it is a digest of the value).
#[derive(Debug)]
pub struct SecretRead {
    pub value: SecretString,
    pub details: SecretDetails,
    pub version: Version,
}

impl SecretsManager {
    /// Reads every name (or reference) in one batch of the launcher's resolution: each
    /// distinct one once, all backends concurrently, under one deadline; all or nothing.
    pub fn read_secrets(&self, names: &[&str]) -> Result<Vec<SecretRead>, Failure> {
        let references = self.references(names)?;
        let plan = crate::plan::Plan::default();
        let fetched = self
            .kept
            .block_on(self.fetch_many(&references, &plan, Backing::Kept))?;
        Ok(fetched
            .into_iter()
            .map(|fetched| SecretRead {
                version: Version::of_fetched(&fetched),
                details: SecretDetails::from(&fetched.metadata),
                value: fetched.value,
            })
            .collect())
    }

    /// Each name's current version, or why it is not known now, from the backends' metadata
    /// (no value is read where the backend keeps versions), as the watcher polls.
    pub fn current_versions(
        &self,
        names: &[&str],
    ) -> Result<Vec<Result<Version, Failure>>, Failure> {
        let references = self.references(names)?;
        let groups = resolve::by_source(references.iter().cloned().collect(), &self.config);
        let sources: BTreeSet<Source> = groups.keys().copied().collect();
        let deadline = deadline_after(self.timeout);
        let mut versions = self.kept.block_on(call_deadline::within(deadline, async {
            let backends = self
                .kept
                .ready(&sources, &self.context(deadline))
                .await
                .map_err(|problem| Failure::new(FailureKind::BackendUnavailable, problem))?;
            let versions = poll::versions_on(&backends, groups, deadline).await;
            let failed = versions.values().any(|version| {
                matches!(version, Err(error) if matches!(error.kind, FetchErrorKind::Unavailable | FetchErrorKind::Denied))
            });
            if failed {
                self.kept.forget(&sources);
            }
            Ok(versions)
        }))?;
        Ok(references
            .iter()
            .map(|reference| match versions.remove(reference) {
                Some(Ok(version)) => Ok(version),
                Some(Err(error)) => {
                    let problem = Problem::new(reference.to_string(), error.message)
                        .with_optional_hint(error.hint);
                    Err(Failure::new(FailureKind::of_fetch(error.kind), problem))
                }
                None => Err(Failure::new(
                    FailureKind::BackendUnavailable,
                    Problem::new(reference.to_string(), "no version was given"),
                )),
            })
            .collect())
    }

    /// Validates then writes a new version of `name` (a required secret's rules apply, as for
    /// `set`); returns the new version's details.
    pub fn write_secret(&self, name: &str, value: &SecretString) -> Result<SecretDetails, Failure> {
        let reference = self.reference(name)?;
        self.check_new_value(name, &reference, value, false)?;
        let metadata = self.kept.block_on(self.store(
            &reference,
            value,
            StoreOptions::default(),
            Backing::Kept,
        ))?;
        Ok(SecretDetails::from(&metadata))
    }

    /// The configured backend's name (`vault`), for a binding's `repr`.
    pub fn backend_name(&self) -> &'static str {
        self.config.backend.as_str()
    }

    /// The config's audit log (`secrets_manager.audit_log`), where a binding appends its audit
    /// events when it is given no file of its own.
    pub fn audit_log(&self) -> Option<&std::path::Path> {
        self.config.audit_log.as_deref()
    }

    /// The timeout every call is bounded by (`--timeout`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `set`'s check: a required secret (read as `secret://NAME`) gets the rules every launch
    /// applies to it; any value is refused with a NUL byte.
    pub(crate) fn check_new_value(
        &self,
        label: &str,
        reference: &Reference,
        value: &SecretString,
        force: bool,
    ) -> Result<(), Failure> {
        let table_entry = match (&reference.scheme, &reference.key) {
            (Scheme::Secret, None) => self
                .config
                .secrets
                .iter()
                .find(|secret| secret.name == reference.target),
            _ => None,
        };
        validate::check_new_value(label, table_entry, value, force)
            .map_err(|problem| Failure::new(FailureKind::InvalidValue, problem))
    }

    fn references(&self, names: &[&str]) -> Result<Vec<Reference>, Failure> {
        names.iter().map(|name| self.reference(name)).collect()
    }
}
