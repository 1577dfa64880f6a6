//! `<ENV>_PREVIOUS` variables: a rotated key's replaced value, read only while the current
//! version says one is kept ([`Metadata::previous_kept`]) and its grace period lasts. Where the
//! previous slot costs a request of its own (AWS, Key Vault), it is read in a second round,
//! after the current values, so that launches of secrets never rotated (or retired, or past
//! their grace) make exactly the requests they made before rotation existed.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::{Answer, ResolvedVar};
use crate::backend::{Metadata, Source};
use crate::config::Config;
use crate::plan::{Plan, PlannedVar};
use crate::reference::Reference;
use crate::schema::Previous;

/// A previous value whose slot costs a read of its own: read in the second round.
pub(super) fn read_later(var: &PlannedVar, config: &Config) -> bool {
    var.previous_of.is_some()
        && var.references().any(|reference| {
            Source::of(reference, config.backend)
                .layout()
                .previous_costs_a_read()
        })
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
    let current = current_reads(index, plan, answers);
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

/// What the current reads of the table's secret `index` answered besides their values.
fn current_reads<'a>(
    index: usize,
    plan: &Plan,
    answers: &'a BTreeMap<Reference, Answer>,
) -> Vec<&'a Metadata> {
    plan.vars
        .iter()
        .filter(|planned| planned.secret == Some(index))
        .flat_map(PlannedVar::references)
        .filter_map(|reference| answers.get(reference)?.result.as_ref().ok())
        .map(|fetched| &fetched.metadata)
        .collect()
}

/// What the second round fetches for `reference`, a previous value of `var`: the version the
/// current read names, where it names one (Key Vault), so that a later write of the previous
/// slot (a rotation killed before its promote) changes nothing a launch gets.
pub(super) fn pinned(
    var: &PlannedVar,
    reference: &Reference,
    plan: &Plan,
    answers: &BTreeMap<Reference, Answer>,
) -> Reference {
    let version = var.previous_of.and_then(|index| {
        current_reads(index, plan, answers)
            .into_iter()
            .find_map(|metadata| metadata.previous_version.clone())
    });
    let mut pinned = reference.clone();
    if let Some(version) = version {
        pinned.params.insert("version".to_string(), version);
    }
    pinned
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::backend::Fetched;
    use crate::env_vars::Environment;
    use crate::expand::Piece;
    use crate::plan::Origin;
    use crate::secret::SecretString;

    const DAY: Duration = Duration::from_secs(86_400);

    fn var(
        name: &str,
        target: &str,
        secret: Option<usize>,
        previous_of: Option<usize>,
    ) -> PlannedVar {
        PlannedVar {
            name: name.to_string(),
            origin: Origin::Backend,
            pieces: vec![Piece::Ref(Reference::named_secret(target))],
            secret,
            alias_of: None,
            previous_of,
        }
    }

    /// Whether the previous value of the table's secret `index` is wanted when its current
    /// read answered `metadata`.
    fn wanted_after(index: usize, metadata: Metadata, now: SystemTime) -> bool {
        let config = crate::config::load(None, &Environment::from_vars([])).unwrap();
        let name = &config.secrets[index].name;
        let plan = Plan {
            vars: vec![
                var("CURRENT", name, Some(index), None),
                var(
                    "CURRENT_PREVIOUS",
                    &format!("{name}_previous"),
                    None,
                    Some(index),
                ),
            ],
            ..Plan::default()
        };
        let answer = Answer {
            source: Source::AzureKeyVault,
            result: Ok(Fetched {
                value: SecretString::from("current-value"),
                metadata,
            }),
            reused: false,
        };
        let answers = BTreeMap::from([(Reference::named_secret(name), answer)]);
        assert!(wanted(&plan.vars[0], &plan, &answers, &config, now));
        wanted(&plan.vars[1], &plan, &answers, &config, now)
    }

    #[test]
    fn a_previous_value_is_wanted_only_when_marked_and_within_its_grace() {
        let (jwt, encryption) = (2, 3);
        let now = SystemTime::UNIX_EPOCH + 20_000 * DAY;
        let kept = |updated: Option<SystemTime>| Metadata {
            previous_kept: true,
            updated,
            ..Metadata::default()
        };
        // Never rotated (or retired): no marker, whatever the date.
        let unmarked = Metadata {
            updated: Some(now),
            ..Metadata::default()
        };
        assert!(!wanted_after(jwt, unmarked, now));
        // The JWT secret's seven days.
        assert!(wanted_after(jwt, kept(Some(now - 6 * DAY)), now));
        assert!(!wanted_after(jwt, kept(Some(now - 7 * DAY)), now));
        // No date to count from: kept until retired.
        assert!(wanted_after(jwt, kept(None), now));
        // The encryption key's until retired.
        assert!(wanted_after(encryption, kept(Some(now - 400 * DAY)), now));
    }

    #[test]
    fn a_previous_value_is_read_as_the_version_its_current_one_names() {
        let config = crate::config::load(None, &Environment::from_vars([])).unwrap();
        let plan = Plan {
            vars: vec![
                var("C", "jwt_secret", Some(2), None),
                var("P", "jwt_secret_previous", None, Some(2)),
            ],
            ..Plan::default()
        };
        let read = |previous_version: Option<&str>| {
            let answer = Answer {
                source: Source::AzureKeyVault,
                result: Ok(Fetched {
                    value: SecretString::from("current-value"),
                    metadata: Metadata {
                        previous_kept: true,
                        previous_version: previous_version.map(str::to_string),
                        ..Metadata::default()
                    },
                }),
                reused: false,
            };
            let answers = BTreeMap::from([(Reference::named_secret("jwt_secret"), answer)]);
            let previous = Reference::named_secret("jwt_secret_previous");
            assert!(wanted(
                &plan.vars[1],
                &plan,
                &answers,
                &config,
                SystemTime::now()
            ));
            pinned(&plan.vars[1], &previous, &plan, &answers)
        };
        assert_eq!(read(Some("abc")).param("version"), Some("abc"));
        assert_eq!(read(None), Reference::named_secret("jwt_secret_previous"));
    }

    #[test]
    fn only_previous_values_in_a_backend_of_their_own_read_later() {
        let mut config = crate::config::load(None, &Environment::from_vars([])).unwrap();
        let previous = var("P", "jwt_secret_previous", None, Some(2));
        let current = var("C", "jwt_secret", Some(2), None);
        config.backend = crate::config::BackendKind::AwsSecretsManager;
        assert!(read_later(&previous, &config));
        assert!(!read_later(&current, &config));
        config.backend = crate::config::BackendKind::Vault;
        assert!(!read_later(&previous, &config));
    }
}
