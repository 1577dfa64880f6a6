//! `<ENV>_PREVIOUS` variables: a rotated key's replaced value, read only while the current
//! version says one is kept ([`Metadata::previous_kept`]) and its grace period lasts. Where the
//! previous slot costs a request of its own (AWS, Key Vault), it is read in a second round,
//! after the current values, so that launches of secrets never rotated (or retired, or past
//! their grace) make exactly the requests they made before rotation existed.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::{Answer, ResolvedVar};
use crate::backend::{self, Metadata, Source};
use crate::config::Config;
use crate::plan::{Plan, PlannedVar};
use crate::reference::Reference;
use crate::schema::Previous;

/// A previous value whose slot costs a read of its own: read in the second round.
pub(super) fn read_later(var: &PlannedVar, config: &Config) -> bool {
    var.previous_of.is_some()
        && var
            .references()
            .any(|reference| backend::previous_costs_a_read(Source::of(reference, config.backend)))
}

/// Whether the launch gets `var`: any variable but a previous value, and a previous value
/// only when the current read of its secret shows one kept and (with a grace period) the
/// current version is younger than the grace. Past the grace or without the marker it is left
/// out, unread when [`read_later`].
pub(super) fn wanted(
    var: &PlannedVar,
    plan: &Plan,
    answers: &BTreeMap<Reference, Answer>,
    config: &Config,
    now: SystemTime,
) -> bool {
    let Some(index) = var.previous_of else {
        return true;
    };
    let current: Vec<&Metadata> = plan
        .vars
        .iter()
        .filter(|planned| planned.secret == Some(index))
        .flat_map(PlannedVar::references)
        .filter_map(|reference| answers.get(reference)?.result.as_ref().ok())
        .map(|fetched| &fetched.metadata)
        .collect();
    let kept = current.iter().any(|metadata| metadata.previous_kept);
    let rotated_at = current.iter().find_map(|metadata| metadata.updated);
    let within_grace = match (config.secrets[index].previous, rotated_at) {
        (Previous::Never, _) => false,
        (Previous::For(grace), Some(at)) => at + grace > now,
        // No date to count from: kept until retired rather than dropped on a guess.
        (Previous::For(_), None) | (Previous::UntilRetired, _) => true,
    };
    kept && within_grace
}

/// Leaves out previous values that turn out to have nothing to give although the current
/// version is marked: the slot is missing (emptied by hand), or holds something shorter than
/// the secret's own minimum (Key Vault's retired marker is one character: never a key).
pub(super) fn without_absent(vars: Vec<ResolvedVar>, config: &Config) -> Vec<ResolvedVar> {
    vars.into_iter()
        .filter(|var| {
            let Some(index) = var.planned.previous_of else {
                return true;
            };
            let secret = &config.secrets[index];
            match &var.value {
                Ok(value) => value.char_len() >= secret.min_length.max(2),
                Err(_) => !var.not_found,
            }
        })
        .collect()
}
