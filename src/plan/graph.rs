//! Env-file entries that refer to each other (`URL=postgres://u:${DB_PASSWORD}@db`), in any
//! order and across files: each expanded once, cycles and over-long chains reported.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::env_files::FileEntry;
use super::inherited::inherited_pieces;
use super::{Origin, PlanRequest, PlannedVar, planned};
use crate::env_vars;
use crate::envfile::Value;
use crate::expand::{self, ExpandError, Found, Lookup, Piece};
use crate::placeholder::{self, Syntax};
use crate::problem::Problem;
use crate::reference::Reference;
use crate::secret::SecretString;

/// How deep env-file entries may refer to each other: far beyond any real file, far below the
/// depth at which the recursive expansion would exhaust the stack.
const MAX_CHAIN: usize = 200;

/// Expands every winning entry into a planned variable; problems are collected.
pub(super) fn expand_entries(
    winners: &BTreeMap<String, FileEntry>,
    request: &PlanRequest,
    declared: &BTreeSet<String>,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, PlannedVar> {
    let mut graph = Graph {
        entries: winners,
        request,
        declared,
        expanded: HashMap::new(),
        failed: HashMap::new(),
        stack: Vec::new(),
    };
    let mut vars = BTreeMap::new();
    for (key, entry) in winners {
        match graph.entry_pieces(key) {
            Ok(pieces) => {
                let origin = Origin::EnvFile {
                    path: entry.path.clone(),
                    line: entry.line,
                };
                vars.insert(key.clone(), planned(key, origin, pieces));
            }
            Err(problem) => problems.push(problem),
        }
    }
    vars
}

/// `${VAULT_TOKEN}` in an env file would hand the launcher's credentials to the program under
/// another name (the env backend refuses `env://VAULT_TOKEN` the same way).
fn refuse_launcher_variable(name: &str, request: &PlanRequest) -> Result<(), ExpandError> {
    if !request.keep_launcher_env && env_vars::is_launcher_variable(OsStr::new(name)) {
        return Err(ExpandError::LauncherVariable {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// Env-file entries that refer to each other, expanded once each, with cycle detection.
struct Graph<'a> {
    entries: &'a BTreeMap<String, FileEntry>,
    request: &'a PlanRequest<'a>,
    declared: &'a BTreeSet<String>,
    expanded: HashMap<String, Vec<Piece>>,
    failed: HashMap<String, Problem>,
    stack: Vec<String>,
}

impl Graph<'_> {
    fn entry_pieces(&mut self, key: &str) -> Result<Vec<Piece>, Problem> {
        if let Some(pieces) = self.expanded.get(key) {
            return Ok(pieces.clone());
        }
        if let Some(problem) = self.failed.get(key) {
            return Err(problem.clone());
        }
        let result = self.expand_entry(key);
        match &result {
            Ok(pieces) => {
                self.expanded.insert(key.to_string(), pieces.clone());
            }
            Err(problem) => {
                self.failed.insert(key.to_string(), problem.clone());
            }
        }
        result
    }

    fn expand_entry(&mut self, key: &str) -> Result<Vec<Piece>, Problem> {
        let entries = self.entries;
        let entry = &entries[key];
        let location = format!("{}:{}: {key}", entry.path.display(), entry.line);
        let pieces = match &entry.value {
            Value::Inherit => Vec::new(),
            Value::Literal(text) | Value::Interpolated(text) if Reference::is_reference(text) => {
                let reference = Reference::parse(text, &entry.dir)
                    .map_err(|error| Problem::new(&location, error.to_string()))?;
                vec![Piece::Ref(reference)]
            }
            Value::Literal(text) => vec![Piece::Text(SecretString::from(text.as_str()))],
            Value::Interpolated(text) => {
                let segments = placeholder::parse(text, Syntax::EnvFile).map_err(|error| {
                    let (_, column) = placeholder::line_column(text, error.offset());
                    Problem::new(&location, format!("{error} (column {column} of the value)"))
                })?;
                self.stack.push(key.to_string());
                let mut lookup = EntryLookup {
                    graph: self,
                    dir: entry.dir.clone(),
                };
                let result = expand::expand(&segments, &mut lookup);
                self.stack.pop();
                result.map_err(|error| {
                    let hint = error.hint();
                    Problem::new(&location, error.to_string()).with_optional_hint(hint)
                })?
            }
        };
        Ok(pieces)
    }
}

struct EntryLookup<'g, 'a> {
    graph: &'g mut Graph<'a>,
    dir: PathBuf,
}

impl Lookup for EntryLookup<'_, '_> {
    fn variable(&mut self, name: &str) -> Result<Found, ExpandError> {
        refuse_launcher_variable(name, self.graph.request)?;
        // `LOG_LEVEL=${LOG_LEVEL:-debug}` means the environment's LOG_LEVEL, not itself.
        let self_reference = self.graph.stack.last().is_some_and(|key| key == name);
        if self.graph.entries.contains_key(name) && !self_reference {
            if let Some(start) = self.graph.stack.iter().position(|key| key == name) {
                let mut chain = self.graph.stack[start..].to_vec();
                chain.push(name.to_string());
                return Err(ExpandError::Cycle { chain });
            }
            if self.graph.stack.len() >= MAX_CHAIN {
                return Err(ExpandError::TooDeep {
                    name: name.to_string(),
                    limit: MAX_CHAIN,
                });
            }
            // The entry reports its own problem, with its own line, when the plan reaches it.
            return match self.graph.entry_pieces(name) {
                Ok(pieces) => Ok(Some(pieces)),
                Err(_) => Err(ExpandError::Upstream {
                    name: name.to_string(),
                }),
            };
        }
        match self.graph.request.env.get(name) {
            None => Ok(None),
            Some(value) => match value.to_str() {
                Some(text) => {
                    let declared = self.graph.declared.contains(name);
                    inherited_pieces(text, declared, self.graph.request).map(Some)
                }
                None => Ok(Some(vec![Piece::Text(SecretString::new(
                    value.as_encoded_bytes().to_vec(),
                ))])),
            },
        }
    }

    fn reference_base(&self) -> Result<&Path, ExpandError> {
        Ok(&self.dir)
    }
}
