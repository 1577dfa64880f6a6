//! Values inherited from the launcher's environment: which are secret references to resolve.
//!
//! Inherited values are inputs the launcher does not control (a ConfigMap entry, a CI
//! variable), so only what is unambiguously a secret reference is resolved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Origin, PlanRequest, PlannedVar, planned};
use crate::config::Config;
use crate::expand::{self, ExpandError, Found, Lookup, Piece};
use crate::placeholder::{self, Syntax};
use crate::problem::Problem;
use crate::reference::{Reference, Scheme};
use crate::secret::SecretString;

/// The variables the config declares (the required secrets' names and aliases): their
/// inherited values are the launcher's to resolve, whatever the reference.
pub(super) fn declared_variables(config: &Config) -> BTreeSet<String> {
    config
        .secrets
        .iter()
        .flat_map(|secret| secret.variables().map(str::to_string))
        .collect()
}

/// The pieces of an inherited value. Inherited values are inputs the launcher does not
/// control (a ConfigMap entry, a CI variable), so for a variable the config does not declare
/// only what is unambiguously a secret reference is resolved: `secret://`, `vault://`,
/// `aws-sm://`, `azure-kv://NAME` and Secrets Manager ARNs, whole or as `${…}` placeholders.
/// `env://` and `file://` (`PIP_FIND_LINKS=file:///wheels`, `GIT_URL=file:///repo`), and
/// `azure-kv://HOST/NAME`, which would make the launcher contact whichever host the value
/// names, leave the whole value as it is unless the variable is declared. `--no-resolve-env`
/// resolves nothing.
pub(super) fn inherited_pieces(
    value: &str,
    declared: bool,
    request: &PlanRequest,
) -> Result<Vec<Piece>, ExpandError> {
    let text = || Ok(vec![Piece::Text(SecretString::from(value))]);
    if !request.resolve_inherited {
        return text();
    }
    let pieces = if Reference::is_reference(value) {
        vec![Piece::Ref(Reference::parse(value, request.working_dir)?)]
    } else {
        let segments = placeholder::parse(value, Syntax::Inherited)
            .expect("every inherited value parses: only our references are placeholders");
        expand::expand(&segments, &mut InheritedLookup(request.working_dir))?
    };
    let for_declared_only = |piece: &Piece| match piece {
        Piece::Ref(reference) => {
            matches!(reference.scheme, Scheme::Env | Scheme::File) || reference.names_a_vault_host()
        }
        Piece::Text(_) => false,
    };
    if !declared && pieces.iter().any(for_declared_only) {
        return text();
    }
    Ok(pieces)
}

/// Inherited values hold no variables, and their `${scheme://…}` are relative to the
/// working directory.
struct InheritedLookup<'a>(&'a Path);

impl Lookup for InheritedLookup<'_> {
    fn variable(&mut self, _name: &str) -> Result<Found, ExpandError> {
        unreachable!("Syntax::Inherited yields no variables")
    }

    fn reference_base(&self) -> Result<&Path, ExpandError> {
        Ok(self.0)
    }
}

/// Plans every inherited variable that holds a reference and is not already planned from an
/// env file; the rest stay the launcher's environment, byte for byte.
pub(super) fn plan_inherited(
    request: &PlanRequest,
    declared: &BTreeSet<String>,
    vars: &mut BTreeMap<String, PlannedVar>,
    problems: &mut Vec<Problem>,
) {
    for (name, value) in request.env.iter() {
        let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else {
            continue;
        };
        // A value without a reference (or one not resolved, see `inherited_pieces`) comes back
        // as plain text and stays the launcher's environment, byte for byte.
        if vars.contains_key(name) {
            continue;
        }
        let is_declared = declared.contains(name);
        if is_declared && !request.resolve_inherited && Reference::is_reference(value) {
            problems.push(
                Problem::new(
                    format!("environment variable {name}"),
                    "holds a secret reference, but --no-resolve-env is set, so it would reach the program as the reference itself",
                )
                .with_hint("drop --no-resolve-env, or set the variable to the secret's value"),
            );
            continue;
        }
        match inherited_pieces(value, is_declared, request) {
            Ok(pieces) if pieces.iter().any(|piece| matches!(piece, Piece::Ref(_))) => {
                vars.insert(name.to_string(), planned(name, Origin::Process, pieces));
            }
            Ok(_) => {}
            Err(error) if is_declared => problems.push(
                Problem::new(format!("environment variable {name}"), error.to_string())
                    .with_optional_hint(error.hint()),
            ),
            // One stray value in the launcher's environment (a ConfigMap entry) must not be a
            // switch that stops every launch: it is passed on as it is, and said so.
            Err(error) => tracing::warn!(
                "environment variable {name} is passed to the program as it is: {error}; declare it in the config's secrets: to have it resolved (and refused when it cannot be)"
            ),
        }
    }
}
