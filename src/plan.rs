//! The launch plan: which variables the program gets, and from where, before anything is
//! fetched. Env files are read and expanded here; references are only collected.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::bounded;
use crate::config::{BackendKind, Config};
use crate::env_vars::{self, Environment};
use crate::envfile::{self, Value};
use crate::expand::{self, ExpandError, Found, Lookup, Piece};
use crate::placeholder::{self, Syntax};
use crate::problem::Problem;
use crate::reference::{Reference, Scheme};
use crate::secret::SecretString;

/// Which env files to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvFiles {
    /// `.env.${CRONOS_AI_ENV:-production}` in the working directory, when it exists.
    Default,
    /// `--env-file`, in order; a later file wins over an earlier one.
    Explicit(Vec<PathBuf>),
    /// `--no-env-file`.
    Skip,
}

/// Where a variable's value was written down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The launcher's own environment.
    Process,
    EnvFile {
        path: PathBuf,
        line: usize,
    },
    /// A required secret found nowhere else, read from the configured backend by name.
    Backend,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Process => f.write_str("environment"),
            Origin::EnvFile { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Backend => f.write_str("backend"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlannedVar {
    pub name: String,
    pub origin: Origin,
    pub pieces: Vec<Piece>,
    /// Index into `Config::secrets` when this is a required secret's canonical variable.
    pub secret: Option<usize>,
    /// The alias it was found under (`DATABASE_PASSWORD` for `CRONOS_AI_DB_PASSWORD`).
    pub alias_of: Option<String>,
}

impl PlannedVar {
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        expand::references(&self.pieces)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Sorted by name.
    pub vars: Vec<PlannedVar>,
    /// Required secrets (indexes into `Config::secrets`) that no source provides.
    pub missing: Vec<usize>,
    /// `KEY` lines without a value: passed through from the launcher's environment.
    pub inherited: Vec<String>,
    /// Every key the env files define, including those the environment overrides and `KEY`
    /// lines: the names `export` writes besides the required secrets. Sorted.
    pub env_file_keys: Vec<String>,
}

pub struct PlanRequest<'a> {
    pub config: &'a Config,
    pub env: &'a Environment,
    pub env_files: &'a EnvFiles,
    /// `--override`: env files win over the process environment.
    pub override_env: bool,
    pub working_dir: &'a Path,
    /// `run --keep-launcher-env`: entries may refer to the launcher's credentials.
    pub keep_launcher_env: bool,
    /// Resolve references in inherited values (off with `--no-resolve-env`).
    pub resolve_inherited: bool,
}

/// How deep env-file entries may refer to each other: far beyond any real file, far below the
/// depth at which the recursive expansion would exhaust the stack.
const MAX_CHAIN: usize = 200;

struct FileEntry {
    path: PathBuf,
    dir: PathBuf,
    line: usize,
    value: Value,
}

/// Builds the plan, reporting every problem found (not just the first).
pub fn build(request: &PlanRequest) -> Result<Plan, Vec<Problem>> {
    let files = read_env_files(request)?;
    let env_file_keys: BTreeSet<String> = files.iter().map(|(key, _)| key.clone()).collect();
    let mut winners: BTreeMap<String, FileEntry> = BTreeMap::new();
    let mut inherited = Vec::new();
    for (key, entry) in files {
        if matches!(entry.value, Value::Inherit) {
            if !inherited.contains(&key) {
                inherited.push(key.clone());
            }
            winners.remove(&key);
            continue;
        }
        let shadowed = !request.override_env && request.env.get(&key).is_some();
        if !shadowed {
            winners.insert(key, entry);
        }
    }

    let declared = declared_variables(request.config);
    let mut graph = Graph {
        entries: &winners,
        request,
        declared: &declared,
        expanded: HashMap::new(),
        failed: HashMap::new(),
        stack: Vec::new(),
    };
    let mut problems = Vec::new();
    let mut vars: BTreeMap<String, PlannedVar> = BTreeMap::new();
    for (key, entry) in &winners {
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
            Err(error) => problems.push(
                Problem::new(format!("environment variable {name}"), error.to_string())
                    .with_optional_hint(error.hint()),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let missing = bind_required_secrets(request, &mut vars);
    Ok(Plan {
        vars: vars.into_values().collect(),
        missing,
        inherited,
        env_file_keys: env_file_keys.into_iter().collect(),
    })
}

fn planned(name: &str, origin: Origin, pieces: Vec<Piece>) -> PlannedVar {
    PlannedVar {
        name: name.to_string(),
        origin,
        pieces,
        secret: None,
        alias_of: None,
    }
}

/// Gives each required secret its canonical variable: from its env name or an alias, else
/// `secret://NAME` from a non-env backend. Returns the secrets that nothing provides.
fn bind_required_secrets(
    request: &PlanRequest,
    vars: &mut BTreeMap<String, PlannedVar>,
) -> Vec<usize> {
    let mut missing = Vec::new();
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
            None if request.config.backend != BackendKind::Env => planned(
                &secret.env,
                Origin::Backend,
                vec![Piece::Ref(Reference::named_secret(&secret.name))],
            ),
            None => {
                if !secret.optional {
                    missing.push(index);
                }
                continue;
            }
        };
        vars.insert(
            secret.env.clone(),
            PlannedVar {
                secret: Some(index),
                ..var
            },
        );
    }
    missing
}

/// The variables the config declares (the required secrets' names and aliases): their
/// inherited values are the launcher's to resolve, whatever the reference.
fn declared_variables(config: &Config) -> BTreeSet<String> {
    config
        .secrets
        .iter()
        .flat_map(|secret| secret.variables().map(str::to_string))
        .collect()
}

/// The pieces of an inherited value. Inherited values are inputs the launcher does not
/// control (a ConfigMap entry, a CI variable), so only what is unambiguously a secret
/// reference is resolved: a whole value `secret://`, `vault://`, `aws-sm://`, `azure-kv://` or
/// a Secrets Manager ARN, and `${scheme://…}` placeholders. `env://` and `file://` whole
/// values (`PIP_FIND_LINKS=file:///wheels`, `GIT_URL=file:///repo`) are ordinary values unless
/// the variable is declared. `--no-resolve-env` resolves nothing.
fn inherited_pieces(
    value: &str,
    declared: bool,
    request: &PlanRequest,
) -> Result<Vec<Piece>, ExpandError> {
    let text = || Ok(vec![Piece::Text(SecretString::from(value))]);
    if !request.resolve_inherited {
        return text();
    }
    if Reference::is_reference(value) {
        let reference = Reference::parse(value, request.working_dir)?;
        let ambiguous = matches!(reference.scheme, Scheme::Env | Scheme::File);
        if ambiguous && !declared {
            return text();
        }
        return Ok(vec![Piece::Ref(reference)]);
    }
    process_pieces(value, request.working_dir)
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

fn read_env_files(request: &PlanRequest) -> Result<Vec<(String, FileEntry)>, Vec<Problem>> {
    let paths = match request.env_files {
        EnvFiles::Skip => return Ok(Vec::new()),
        EnvFiles::Explicit(paths) => paths.clone(),
        EnvFiles::Default => {
            let default = request
                .working_dir
                .join(format!(".env.{}", env_vars::app_env(request.env)));
            if !default.is_file() {
                return Ok(Vec::new());
            }
            vec![PathBuf::from(format!(
                ".env.{}",
                env_vars::app_env(request.env)
            ))]
        }
    };
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let absolute = request.working_dir.join(&path);
        let text = match bounded::read_input_file(&absolute, bounded::INPUT_FILE_LIMIT) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    problems.push(Problem::new(
                        path.display().to_string(),
                        "not valid UTF-8 text",
                    ));
                    continue;
                }
            },
            Err(error) => {
                problems.push(
                    Problem::new(
                        path.display().to_string(),
                        format!("cannot read the env file: {error}"),
                    )
                    .with_hint("check the --env-file path, or pass --no-env-file"),
                );
                continue;
            }
        };
        match envfile::parse(&text) {
            Ok(parsed) => {
                let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
                for entry in parsed {
                    entries.push((
                        entry.key,
                        FileEntry {
                            path: path.clone(),
                            dir: dir.clone(),
                            line: entry.line,
                            value: entry.value,
                        },
                    ));
                }
            }
            Err(error) => problems.push(Problem::new(
                format!("{}:{}", path.display(), error.line()),
                error.to_string(),
            )),
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

/// Pieces of a process environment value: a whole-value reference, `${scheme://…}` inside a
/// longer value, and otherwise literal text (other `$` are not ours to interpret).
fn process_pieces(value: &str, working_dir: &Path) -> Result<Vec<Piece>, ExpandError> {
    if Reference::is_reference(value) {
        return Ok(vec![Piece::Ref(Reference::parse(value, working_dir)?)]);
    }
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if Reference::is_reference(&after[..end]) => {
                text.push_str(&rest[..start]);
                if !text.is_empty() {
                    pieces.push(Piece::Text(SecretString::from(std::mem::take(&mut text))));
                }
                pieces.push(Piece::Ref(Reference::parse(&after[..end], working_dir)?));
                rest = &after[end + 1..];
            }
            _ => {
                text.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(SecretString::from(text)));
    }
    Ok(pieces)
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
