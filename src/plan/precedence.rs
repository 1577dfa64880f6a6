//! Which value wins: the launcher's environment over env files (unless `--override`), a later
//! env file over an earlier one, a `KEY` line passing the environment's value through, and a
//! required secret found under its name, an alias, or in the backend.

use std::collections::{BTreeMap, BTreeSet};

use super::env_files::FileEntry;
use super::{Origin, PlanRequest, PlannedVar, planned};
use crate::backend::Source;
use crate::config::BackendKind;
use crate::envfile::Value;
use crate::expand::Piece;
use crate::reference::Reference;
use crate::schema::Previous;
use crate::secret::SecretString;

/// What the env files contribute once precedence is applied.
pub(super) struct FileWinners {
    /// The entries that give a variable its value, by key.
    pub(super) winners: BTreeMap<String, FileEntry>,
    /// `KEY` lines, in order of first appearance: the environment's value passes through.
    pub(super) pass_through: Vec<String>,
    /// Every key the files define, including shadowed ones and `KEY` lines.
    pub(super) keys: BTreeSet<String>,
}

pub(super) fn file_winners(files: Vec<(String, FileEntry)>, request: &PlanRequest) -> FileWinners {
    let keys: BTreeSet<String> = files.iter().map(|(key, _)| key.clone()).collect();
    let mut winners: BTreeMap<String, FileEntry> = BTreeMap::new();
    let mut pass_through = Vec::new();
    let mut seen_pass_through = BTreeSet::new();
    for (key, entry) in files {
        if matches!(entry.value, Value::Inherit) {
            if seen_pass_through.insert(key.clone()) {
                pass_through.push(key.clone());
            }
            winners.remove(&key);
            continue;
        }
        let shadowed = !request.override_env && request.env.get(&key).is_some();
        if !shadowed {
            winners.insert(key, entry);
        }
    }
    FileWinners {
        winners,
        pass_through,
        keys,
    }
}

/// Gives each required secret its canonical variable: from its env name or an alias, else
/// `secret://NAME` from a non-env backend. Returns the secrets that nothing provides.
pub(super) fn bind_required_secrets(
    request: &PlanRequest,
    vars: &mut BTreeMap<String, PlannedVar>,
) -> Vec<usize> {
    let mut missing = Vec::new();
    let mut previous = Vec::new();
    for (index, secret) in request.config.secrets.iter().enumerate() {
        let found = secret.variables().find_map(|name| {
            if let Some(var) = vars.get(name) {
                return Some((name.to_string(), var.origin.clone(), var.pieces.clone()));
            }
            let value = request.env.get(name)?;
            let text = SecretString::new(value.as_encoded_bytes().to_vec());
            Some((name.to_string(), Origin::Process, vec![Piece::Text(text)]))
        });
        let var = match found {
            Some((found_as, origin, pieces)) => PlannedVar {
                alias_of: (found_as != secret.env).then_some(found_as),
                ..planned(&secret.env, origin, pieces)
            },
            None if request.config.backend != BackendKind::Env => {
                let source = Source::from(request.config.backend);
                let reference = if request.config.is_paired_login(&secret.name) {
                    source.layout().paired_password_reference(&secret.name)
                } else {
                    Reference::named_secret(&secret.name)
                };
                planned(&secret.env, Origin::Backend, vec![Piece::Ref(reference)])
            }
            None => {
                if !secret.optional {
                    missing.push(index);
                }
                continue;
            }
        };
        if var.origin == Origin::Backend && secret.previous != Previous::Never {
            let name = format!("{}_PREVIOUS", secret.env);
            let source = Source::from(request.config.backend);
            if request.env.get(&name).is_none()
                && let Some(reference) = source.layout().previous_reference(&secret.name)
            {
                previous.push(PlannedVar {
                    previous_of: Some(index),
                    ..planned(&name, Origin::Backend, vec![Piece::Ref(reference)])
                });
            }
        }
        vars.insert(
            secret.env.clone(),
            PlannedVar {
                secret: Some(index),
                ..var
            },
        );
    }
    // A previous value the env files or the environment give wins, as for any variable.
    for var in previous {
        vars.entry(var.name.clone()).or_insert(var);
    }
    missing
}
