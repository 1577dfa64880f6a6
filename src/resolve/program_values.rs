//! `secret://NAME` read alone (`get`, a template's placeholder) on the env backend: the value
//! the program of `run` would get as NAME's variable, so an env-file entry counts as it does for
//! `run` and `check` (`CRONOS_AI_DB_PASSWORD=file://…` in `.env.development`), instead of only
//! the launcher's environment.

use super::PlaceholderValue;
use crate::backend::Source;
use crate::config::Config;
use crate::expand::Piece;
use crate::plan::{Origin, Plan};
use crate::reference::Reference;

/// `extras` with each bare `secret://NAME` of a required secret replaced by the pieces of its
/// planned variable, when the env backend serves it and an env file gives that variable (the
/// launcher's environment is what the env backend reads anyway). Other backends read NAME
/// from the store, as the program's own `secret://NAME` would.
pub fn as_the_program_gets(
    extras: &[PlaceholderValue],
    plan: &Plan,
    config: &Config,
) -> Vec<PlaceholderValue> {
    extras
        .iter()
        .map(|extra| PlaceholderValue {
            location: extra.location.clone(),
            pieces: extra
                .pieces
                .iter()
                .flat_map(|piece| match piece {
                    Piece::Ref(reference) => match planned_pieces(reference, plan, config) {
                        Some(pieces) => pieces.to_vec(),
                        None => vec![piece.clone()],
                    },
                    Piece::Text(_) => vec![piece.clone()],
                })
                .collect(),
        })
        .collect()
}

fn planned_pieces<'a>(
    reference: &Reference,
    plan: &'a Plan,
    config: &Config,
) -> Option<&'a [Piece]> {
    if Source::of(reference, config.backend) != Source::Env
        || *reference != Reference::named_secret(&reference.target)
    {
        return None;
    }
    let index = config
        .secrets
        .iter()
        .position(|secret| secret.name == reference.target)?;
    let var = plan
        .vars
        .iter()
        .find(|var| var.secret == Some(index) && matches!(var.origin, Origin::EnvFile { .. }))?;
    // `CRONOS_AI_DB_PASSWORD=secret://database_password` reads the launcher's environment
    // already: the same reference, not a second hop.
    let only_itself = matches!(var.pieces.as_slice(), [Piece::Ref(own)] if own == reference);
    (!only_itself).then_some(var.pieces.as_slice())
}
