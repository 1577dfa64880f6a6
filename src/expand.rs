//! Expanding parsed placeholders into pieces: literal text and references still to fetch.
//!
//! One engine for env files, config values and templates. The caller decides what a variable
//! name means (another env-file entry, the process environment) through [`Lookup`].

use std::path::Path;

use thiserror::Error;

use crate::placeholder::{Fallback, Segment};
use crate::reference::{Reference, ReferenceError};
use crate::secret::SecretString;

/// A part of an expanded value. References are fetched later, all at once, then joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(SecretString),
    Ref(Reference),
}

/// What a placeholder found: nothing (unset), or its pieces.
pub type Found = Option<Vec<Piece>>;

pub trait Lookup {
    /// The pieces of variable `name`, or `None` when it is unset.
    fn variable(&mut self, name: &str) -> Result<Found, ExpandError>;
    /// Whether `${scheme://…}` may appear here, and relative to which directory.
    fn reference_base(&self) -> Result<&Path, ExpandError>;
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExpandError {
    #[error("variable {name} is not set (at column {column})")]
    Unset { name: String, column: usize },
    #[error("variable {name} is required: {message}")]
    Required { name: String, message: String },
    #[error("placeholders form a cycle: {}", .chain.join(" -> "))]
    Cycle { chain: Vec<String> },
    #[error("uses {name}, which has an error of its own (reported separately)")]
    Upstream { name: String },
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("secret references are not allowed here ({reference})")]
    ReferenceNotAllowed { reference: String },
    #[error(
        "{name} is the launcher's own credential or setting: it is not given to the program, under its own name or any other"
    )]
    LauncherVariable { name: String },
    #[error("entries refer to each other more than {limit} deep (through {name})")]
    TooDeep { name: String, limit: usize },
}

impl ExpandError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ExpandError::Unset { name, .. } => Some(format!(
                "set {name}, give a default with ${{{name}:-default}}, or allow it empty with ${{{name}:-}}"
            )),
            ExpandError::Cycle { .. } => Some("make one of these a plain value".to_string()),
            ExpandError::LauncherVariable { .. } => Some(
                "remove the reference; if the program really needs it, pass --keep-launcher-env to run".to_string(),
            ),
            ExpandError::TooDeep { .. } => {
                Some("give the entries their values directly instead of through a chain".to_string())
            }
            _ => None,
        }
    }
}

/// Expands `segments` into pieces, merging adjacent text.
pub fn expand(segments: &[Segment], lookup: &mut dyn Lookup) -> Result<Vec<Piece>, ExpandError> {
    let mut pieces = Vec::new();
    for segment in segments {
        match segment {
            Segment::Literal(text) => push_text(&mut pieces, text.as_bytes()),
            Segment::Reference { raw, .. } => {
                let base = lookup.reference_base()?;
                let reference = Reference::parse(raw, base)?;
                pieces.push(Piece::Ref(reference));
            }
            Segment::Variable {
                name,
                fallback,
                offset,
            } => {
                let found = lookup.variable(name)?;
                let expanded = apply_fallback(name, *offset, found, fallback, lookup)?;
                for piece in expanded {
                    match piece {
                        Piece::Text(text) => push_text(&mut pieces, text.expose()),
                        reference => pieces.push(reference),
                    }
                }
            }
        }
    }
    Ok(pieces)
}

fn apply_fallback(
    name: &str,
    offset: usize,
    found: Found,
    fallback: &Fallback,
    lookup: &mut dyn Lookup,
) -> Result<Vec<Piece>, ExpandError> {
    // A value still holding a reference is taken as non-empty: we cannot know before fetching.
    let is_empty = |pieces: &Vec<Piece>| {
        pieces
            .iter()
            .all(|piece| matches!(piece, Piece::Text(text) if text.is_empty()))
    };
    let missing = |if_empty: bool| match &found {
        None => true,
        Some(pieces) => if_empty && is_empty(pieces),
    };
    match fallback {
        Fallback::Default { if_empty, value } if missing(*if_empty) => expand(value, lookup),
        Fallback::Required { if_empty, message } if missing(*if_empty) => {
            Err(ExpandError::Required {
                name: name.to_string(),
                message: if message.is_empty() {
                    "not set".to_string()
                } else {
                    message.clone()
                },
            })
        }
        _ => found.ok_or_else(|| ExpandError::Unset {
            name: name.to_string(),
            column: offset + 1,
        }),
    }
}

fn push_text(pieces: &mut Vec<Piece>, bytes: &[u8]) {
    if let Some(Piece::Text(last)) = pieces.last_mut() {
        last.push_bytes(bytes);
    } else {
        pieces.push(Piece::Text(SecretString::new(bytes.to_vec())));
    }
}

/// The references among `pieces`, in order.
pub fn references(pieces: &[Piece]) -> impl Iterator<Item = &Reference> {
    pieces.iter().filter_map(|piece| match piece {
        Piece::Ref(reference) => Some(reference),
        Piece::Text(_) => None,
    })
}

/// Joins pieces that hold no reference; `None` if any does.
pub fn text_only(pieces: &[Piece]) -> Option<SecretString> {
    let mut joined = SecretString::default();
    for piece in pieces {
        match piece {
            Piece::Text(text) => joined.push_bytes(text.expose()),
            Piece::Ref(_) => return None,
        }
    }
    Some(joined)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::*;
    use crate::placeholder::{Syntax, parse};

    struct Vars(HashMap<&'static str, &'static str>, PathBuf);

    impl Lookup for Vars {
        fn variable(&mut self, name: &str) -> Result<Found, ExpandError> {
            Ok(self
                .0
                .get(name)
                .map(|value| vec![Piece::Text(SecretString::from(*value))]))
        }
        fn reference_base(&self) -> Result<&Path, ExpandError> {
            Ok(&self.1)
        }
    }

    fn run(input: &str) -> Result<Vec<Piece>, ExpandError> {
        let vars = HashMap::from([("SET", "value"), ("EMPTY", "")]);
        let segments = parse(input, Syntax::EnvFile).unwrap();
        expand(&segments, &mut Vars(vars, PathBuf::from("/base")))
    }

    fn text(input: &str) -> String {
        let pieces = run(input).unwrap();
        String::from_utf8(text_only(&pieces).unwrap().expose().to_vec()).unwrap()
    }

    #[test]
    fn defaults_follow_compose_semantics() {
        assert_eq!(text("${SET:-d}"), "value");
        assert_eq!(text("${EMPTY:-d}"), "d");
        assert_eq!(text("${EMPTY-d}"), "");
        assert_eq!(text("${UNSET-d}"), "d");
        assert_eq!(text("${UNSET:-${SET}}!"), "value!");
        assert_eq!(text("a$SET-b"), "avalue-b");
    }

    #[test]
    fn unset_and_required_are_errors_naming_the_variable() {
        let unset = run("x ${MISSING}").unwrap_err();
        assert_eq!(
            unset,
            ExpandError::Unset {
                name: "MISSING".into(),
                column: 3
            }
        );
        assert!(unset.hint().unwrap().contains("${MISSING:-}"));
        let required = run("${EMPTY:?must be set}").unwrap_err();
        assert_eq!(
            required.to_string(),
            "variable EMPTY is required: must be set"
        );
        assert!(run("${EMPTY?must be set}").is_ok());
    }

    #[test]
    fn references_become_pieces_relative_to_the_base() {
        let pieces = run("pre-${file://db}-post").unwrap();
        assert_eq!(pieces.len(), 3);
        let Piece::Ref(reference) = &pieces[1] else {
            panic!("expected a reference")
        };
        assert_eq!(reference.to_string(), "file:///base/db");
        assert!(text_only(&pieces).is_none());
    }
}
