//! The config file (the guide's `config/cronos_ai.production.yaml`), `CRONOS_SECRETS_*`
//! overrides and `${VAR}` expansion, turned once into a validated [`Config`].
//!
//! The file belongs to the application: only `secrets_manager:` and `secrets:` are ours, other
//! top-level keys are ignored, but a near miss of ours (`secret_manager:`) is an error, because a
//! typo must not silently select the defaults.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use crate::duration::{BareUnit, parse_duration};
use crate::env_vars::{self, CONFIG_OVERRIDE_PREFIX, Environment};
use crate::expand::{self, ExpandError, Found, Lookup, Piece};
use crate::placeholder::{self, Syntax};
use crate::schema::{self, RequiredSecret};
use crate::secret::SecretString;
use crate::suggest::nearest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackendKind {
    Env,
    Vault,
    AwsSecretsManager,
    AzureKeyVault,
}

impl BackendKind {
    const NAMES: [(&'static str, BackendKind); 4] = [
        ("env", BackendKind::Env),
        ("vault", BackendKind::Vault),
        ("aws_secrets_manager", BackendKind::AwsSecretsManager),
        ("azure_key_vault", BackendKind::AzureKeyVault),
    ];

    pub fn as_str(self) -> &'static str {
        BackendKind::NAMES
            .iter()
            .find(|(_, kind)| *kind == self)
            .map(|(name, _)| *name)
            .unwrap_or("env")
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the config came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOrigin {
    BuiltIn,
    File(PathBuf),
}

#[derive(Debug, Clone, Default)]
pub struct VaultAuthSettings {
    pub method: Option<String>,
    pub mount: Option<String>,
    pub role: Option<String>,
    pub role_id: Option<String>,
    pub role_id_file: Option<PathBuf>,
    pub secret_id: Option<SecretString>,
    pub secret_id_file: Option<PathBuf>,
    pub jwt_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct VaultSettings {
    pub addr: Option<String>,
    pub token: Option<SecretString>,
    pub mount_point: String,
    pub path: Option<String>,
    pub namespace: Option<String>,
    pub kv_version: Option<u8>,
    pub max_concurrency: usize,
    pub revoke_token: bool,
    pub auth: VaultAuthSettings,
}

#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub prefix: String,
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AzureSettings {
    pub vault_url: Option<String>,
}

/// The validated settings a launch runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub origin: ConfigOrigin,
    pub backend: BackendKind,
    pub vault: VaultSettings,
    pub aws: AwsSettings,
    pub azure: AzureSettings,
    pub secrets: Vec<RequiredSecret>,
}

/// A problem with the config, where it is, and what to do.
pub type ConfigError = crate::problem::Problem;

const SECRETS_MANAGER: &str = "secrets_manager";
const SECRETS: &str = "secrets";

/// Keys of `secrets_manager:`; `vault_auth` is the one nested map.
const MANAGER_KEYS: &[&str] = &[
    "enabled",
    "backend",
    "vault_addr",
    "vault_token",
    "vault_mount_point",
    "vault_path",
    "vault_namespace",
    "vault_kv_version",
    "vault_max_concurrency",
    "vault_revoke_token",
    "vault_auth",
    "aws_region",
    "aws_prefix",
    "aws_endpoint_url",
    "azure_vault_url",
];
const VAULT_AUTH_KEYS: &[&str] = &[
    "method",
    "mount",
    "role",
    "role_id",
    "role_id_file",
    "secret_id",
    "secret_id_file",
    "jwt_file",
];
const SECRET_KEYS: &[&str] = &[
    "env",
    "aliases",
    "min_length",
    "rotate_every",
    "description",
    "optional",
];

/// Finds the config: `--config`, else `$CRONOS_SECRETS_CONFIG`, else
/// `config/cronos_ai.${CRONOS_AI_ENV:-production}.yaml` when it exists, else none (built-in).
pub fn locate(explicit: Option<&Path>, env: &Environment) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    if let Some(path) = env.get_str(env_vars::CONFIG) {
        return Some(PathBuf::from(path));
    }
    let conventional = PathBuf::from(format!("config/cronos_ai.{}.yaml", env_vars::app_env(env)));
    conventional.is_file().then_some(conventional)
}

/// Loads and validates the config at `path` (or the built-in defaults), with overrides from `env`.
pub fn load(path: Option<&Path>, env: &Environment) -> Result<Config, ConfigError> {
    let (origin, text) = match path {
        Some(path) => {
            let text = fs_err::read_to_string(path).map_err(|error| ConfigError {
                location: path.display().to_string(),
                message: format!("cannot read the config file: {}", io_reason(&error)),
                hint: Some("pass an existing file with --config or CRONOS_SECRETS_CONFIG".into()),
            })?;
            (ConfigOrigin::File(path.to_path_buf()), text)
        }
        None => (ConfigOrigin::BuiltIn, String::new()),
    };
    let reader = Reader {
        origin: &origin,
        text: &text,
        env,
        overridden: BTreeMap::new(),
    };
    reader.read()
}

/// The part of an I/O error worth showing (fs-err's own message repeats the path).
fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error
            .get_ref()
            .and_then(|inner| inner.source())
            .map(|source| source.to_string())
            .unwrap_or_else(|| error.to_string()),
    }
}

struct Reader<'a> {
    origin: &'a ConfigOrigin,
    text: &'a str,
    env: &'a Environment,
    /// Key paths set by a `CRONOS_SECRETS_*` variable, so errors name the variable.
    overridden: BTreeMap<Vec<String>, String>,
}

impl Reader<'_> {
    fn read(mut self) -> Result<Config, ConfigError> {
        let document: Value = serde_yaml_ng::from_str(self.text).map_err(|error| ConfigError {
            location: self.file_name(),
            message: format!("not valid YAML: {error}"),
            hint: Some("check the indentation and quoting near that line".into()),
        })?;
        let mut root = match document {
            Value::Null => Mapping::new(),
            Value::Mapping(mapping) => mapping,
            _ => return Err(self.error(&[], "expected a mapping at the top level", None)),
        };
        self.check_top_level(&root)?;
        let manager = root
            .entry(Value::from(SECRETS_MANAGER))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if manager.is_null() {
            *manager = Value::Mapping(Mapping::new());
        }
        let Value::Mapping(manager) = manager else {
            return Err(self.error(&[SECRETS_MANAGER], "expected a mapping of settings", None));
        };
        let mut manager = manager.clone();
        self.apply_overrides(&mut manager)?;
        self.check_keys(&manager, &[SECRETS_MANAGER], MANAGER_KEYS)?;

        let path = [SECRETS_MANAGER];
        let settings = Settings {
            reader: &self,
            map: &manager,
            path: &path,
        };
        let backend = settings.backend()?;
        let vault = settings.vault()?;
        let aws = AwsSettings {
            region: settings.string("aws_region")?,
            prefix: settings
                .string("aws_prefix")?
                .unwrap_or_else(|| "cronos-ai".into()),
            endpoint_url: settings.string("aws_endpoint_url")?,
        };
        let azure = AzureSettings {
            vault_url: settings.string("azure_vault_url")?,
        };
        let secrets = match root.get(SECRETS) {
            None => schema::cronos_ai_defaults(),
            Some(value) => self.secrets(value)?,
        };
        Ok(Config {
            origin: self.origin.clone(),
            backend,
            vault,
            aws,
            azure,
            secrets,
        })
    }

    fn check_top_level(&self, root: &Mapping) -> Result<(), ConfigError> {
        for key in root.keys().filter_map(Value::as_str) {
            if key == SECRETS_MANAGER || key == SECRETS {
                continue;
            }
            let normalized = key.to_ascii_lowercase().replace('-', "_");
            let near = |ours: &str, distance| {
                normalized == ours || strsim::damerau_levenshtein(&normalized, ours) <= distance
            };
            let intended = [(SECRETS_MANAGER, 2), (SECRETS, 1)]
                .into_iter()
                .find(|(ours, distance)| near(ours, *distance));
            if let Some((ours, _)) = intended {
                return Err(self.error(
                    &[key],
                    &format!("unknown top-level key \"{key}\""),
                    Some(format!("did you mean \"{ours}\"? (other top-level keys belong to the application and are ignored)")),
                ));
            }
        }
        Ok(())
    }

    fn check_keys(&self, map: &Mapping, path: &[&str], known: &[&str]) -> Result<(), ConfigError> {
        for key in map.keys() {
            let Some(key) = key.as_str() else {
                return Err(self.error(path, "keys must be strings", None));
            };
            if !known.contains(&key) {
                let hint = match nearest(key, known) {
                    Some(candidate) => format!("did you mean \"{candidate}\"?"),
                    None => format!("valid keys: {}", known.join(", ")),
                };
                let mut full: Vec<&str> = path.to_vec();
                full.push(key);
                return Err(self.error(&full, &format!("unknown key \"{key}\""), Some(hint)));
            }
        }
        Ok(())
    }

    /// `CRONOS_SECRETS_BACKEND=vault` sets `secrets_manager.backend`;
    /// `CRONOS_SECRETS_VAULT_AUTH__METHOD=approle` sets `secrets_manager.vault_auth.method`.
    fn apply_overrides(&mut self, manager: &mut Mapping) -> Result<(), ConfigError> {
        for (variable, value) in self.env.with_prefix(CONFIG_OVERRIDE_PREFIX) {
            if env_vars::TOOL_SETTINGS.contains(&variable.as_str()) {
                continue;
            }
            let suffix = &variable[CONFIG_OVERRIDE_PREFIX.len()..];
            let keys: Vec<String> = suffix.split("__").map(str::to_ascii_lowercase).collect();
            let known: &[&str] = if keys.len() == 1 {
                MANAGER_KEYS
            } else {
                VAULT_AUTH_KEYS
            };
            let valid = match keys.as_slice() {
                [key] => MANAGER_KEYS.contains(&key.as_str()) && key != "vault_auth",
                [parent, key] => parent == "vault_auth" && VAULT_AUTH_KEYS.contains(&key.as_str()),
                _ => false,
            };
            if !valid {
                let last = keys.last().map(String::as_str).unwrap_or("");
                let hint = match nearest(last, known) {
                    Some(candidate) => {
                        let prefix = if keys.len() == 2 { "VAULT_AUTH__" } else { "" };
                        format!(
                            "did you mean {CONFIG_OVERRIDE_PREFIX}{prefix}{}?",
                            candidate.to_ascii_uppercase()
                        )
                    }
                    None => format!(
                        "{CONFIG_OVERRIDE_PREFIX}<KEY> sets a key of secrets_manager: ({})",
                        MANAGER_KEYS.join(", ")
                    ),
                };
                return Err(ConfigError {
                    location: variable.clone(),
                    message: "not a setting of cronos-secrets".into(),
                    hint: Some(hint),
                });
            }
            // Parsed as a YAML scalar so that "false" is a boolean and "16" a number.
            let parsed = serde_yaml_ng::from_str::<Value>(&value).unwrap_or(Value::String(value));
            let parsed = if parsed.is_null() {
                Value::String(String::new())
            } else {
                parsed
            };
            let mut target = &mut *manager;
            for parent in &keys[..keys.len() - 1] {
                let entry = target
                    .entry(Value::from(parent.as_str()))
                    .or_insert_with(|| Value::Mapping(Mapping::new()));
                if !entry.is_mapping() {
                    *entry = Value::Mapping(Mapping::new());
                }
                let Value::Mapping(inner) = entry else {
                    unreachable!("just made a mapping")
                };
                target = inner;
            }
            target.insert(Value::from(keys[keys.len() - 1].as_str()), parsed);
            let mut path = vec![SECRETS_MANAGER.to_string()];
            path.extend(keys);
            self.overridden.insert(path, variable);
        }
        Ok(())
    }

    fn secrets(&self, value: &Value) -> Result<Vec<RequiredSecret>, ConfigError> {
        let map = match value {
            Value::Null => return Ok(Vec::new()),
            Value::Mapping(map) => map,
            _ => return Err(self.error(&[SECRETS], "expected a mapping of secret names", None)),
        };
        let mut secrets = Vec::new();
        for (name, entry) in map {
            let Some(name) = name.as_str() else {
                return Err(self.error(&[SECRETS], "secret names must be strings", None));
            };
            let empty = Mapping::new();
            let entry = match entry {
                Value::Null => &empty,
                Value::Mapping(entry) => entry,
                _ => {
                    return Err(self.error(
                        &[SECRETS, name],
                        "expected a mapping (env, min_length, …)",
                        None,
                    ));
                }
            };
            let path = [SECRETS, name];
            self.check_keys(entry, &path, SECRET_KEYS)?;
            let settings = Settings {
                reader: self,
                map: entry,
                path: &path,
            };
            let env = settings
                .string("env")?
                .unwrap_or_else(|| name.to_ascii_uppercase());
            let rotate_every = match settings.string("rotate_every")? {
                None => None,
                Some(text) => Some(parse_duration(&text, BareUnit::Days).map_err(|message| {
                    self.error(&[SECRETS, name, "rotate_every"], &message, None)
                })?),
            };
            secrets.push(RequiredSecret {
                name: name.to_string(),
                env,
                aliases: settings.string_list("aliases")?,
                min_length: settings.integer("min_length")?.unwrap_or(1) as usize,
                rotate_every,
                description: settings
                    .string("description")?
                    .unwrap_or_else(|| schema::describe_name(name)),
                optional: settings.boolean("optional")?.unwrap_or(false),
            });
        }
        Ok(secrets)
    }

    fn file_name(&self) -> String {
        match self.origin {
            ConfigOrigin::BuiltIn => "built-in config".to_string(),
            ConfigOrigin::File(path) => path.display().to_string(),
        }
    }

    /// `file:line: a.b.c` for a key in the file, or the `CRONOS_SECRETS_*` variable that set it.
    fn location(&self, path: &[&str]) -> String {
        let owned: Vec<String> = path.iter().map(|key| key.to_string()).collect();
        if let Some(variable) = self.overridden.get(&owned) {
            return variable.clone();
        }
        let dotted = path.join(".");
        match line_of(self.text, path) {
            Some(line) => format!("{}:{line}: {dotted}", self.file_name()),
            None if dotted.is_empty() => self.file_name(),
            None => format!("{}: {dotted}", self.file_name()),
        }
    }

    fn error(&self, path: &[&str], message: &str, hint: Option<String>) -> ConfigError {
        ConfigError {
            location: self.location(path),
            message: message.to_string(),
            hint,
        }
    }
}

/// Typed access to one mapping of the config, with errors that name the key.
struct Settings<'a> {
    reader: &'a Reader<'a>,
    map: &'a Mapping,
    path: &'a [&'a str],
}

impl Settings<'_> {
    fn error(&self, key: &str, message: &str, hint: Option<String>) -> ConfigError {
        let mut path = self.path.to_vec();
        path.push(key);
        self.reader.error(&path, message, hint)
    }

    fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        let raw = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(text)) => text.clone(),
            Some(Value::Bool(flag)) => flag.to_string(),
            Some(Value::Number(number)) => number.to_string(),
            Some(_) => return Err(self.error(key, "expected a string", None)),
        };
        self.expand(key, &raw).map(Some)
    }

    /// Expands `${VAR}`, `${VAR:-default}` from the process environment.
    fn expand(&self, key: &str, raw: &str) -> Result<String, ConfigError> {
        let segments = placeholder::parse(raw, Syntax::Template)
            .map_err(|error| self.error(key, &error.to_string(), None))?;
        let mut lookup = ProcessEnvLookup(self.reader.env);
        let pieces = expand::expand(&segments, &mut lookup).map_err(|error| {
            let hint = error.hint();
            self.error(key, &error.to_string(), hint)
        })?;
        let text = expand::text_only(&pieces).unwrap_or_default();
        String::from_utf8(text.expose().to_vec())
            .map_err(|_| self.error(key, "the expanded value is not valid UTF-8", None))
    }

    fn secret(&self, key: &str) -> Result<Option<SecretString>, ConfigError> {
        Ok(self
            .string(key)?
            .filter(|text| !text.is_empty())
            .map(SecretString::from))
    }

    fn path(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        Ok(self
            .string(key)?
            .filter(|text| !text.is_empty())
            .map(|text| PathBuf::from(shellexpand::tilde(&text).as_ref())))
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(Value::String(_)) => match self.string(key)?.as_deref() {
                Some("true") => Ok(Some(true)),
                Some("false") => Ok(Some(false)),
                _ => Err(self.error(key, "expected true or false", None)),
            },
            Some(_) => Err(self.error(key, "expected true or false", None)),
        }
    }

    fn integer(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => number
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.error(key, "expected a whole number of at least 0", None)),
            Some(Value::String(_)) => {
                let text = self.string(key)?.unwrap_or_default();
                text.trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| self.error(key, "expected a whole number of at least 0", None))
            }
            Some(_) => Err(self.error(key, "expected a whole number of at least 0", None)),
        }
    }

    fn string_list(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(_)) => Ok(vec![self.string(key)?.unwrap_or_default()]),
            Some(Value::Sequence(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => self.expand(key, text),
                    _ => Err(self.error(key, "expected a list of variable names", None)),
                })
                .collect(),
            Some(_) => Err(self.error(key, "expected a list of variable names", None)),
        }
    }

    fn backend(&self) -> Result<BackendKind, ConfigError> {
        let enabled = self.boolean("enabled")?;
        let named = self.string("backend")?;
        if enabled == Some(false) {
            // The guide: `enabled: false  # Use environment variables directly`.
            return Ok(BackendKind::Env);
        }
        let Some(name) = named else {
            return match enabled {
                Some(true) => Err(self.error(
                    "backend",
                    "secrets_manager is enabled but no backend is named",
                    Some("set backend: vault, aws_secrets_manager, azure_key_vault or env".into()),
                )),
                _ => Ok(BackendKind::Env),
            };
        };
        let normalized = name.trim().to_ascii_lowercase();
        let aliases = [
            ("environment", BackendKind::Env),
            ("openbao", BackendKind::Vault),
        ];
        BackendKind::NAMES
            .iter()
            .chain(aliases.iter())
            .find(|(known, _)| *known == normalized)
            .map(|(_, kind)| *kind)
            .ok_or_else(|| {
                let names: Vec<&str> = BackendKind::NAMES.iter().map(|(name, _)| *name).collect();
                let hint = match nearest(&normalized, &names) {
                    Some(candidate) => format!("did you mean \"{candidate}\"?"),
                    None => format!("valid backends: {}", names.join(", ")),
                };
                self.error(
                    "backend",
                    &format!("unknown backend \"{name}\""),
                    Some(hint),
                )
            })
    }

    fn vault(&self) -> Result<VaultSettings, ConfigError> {
        let kv_version = match self.integer("vault_kv_version")? {
            None => None,
            Some(version @ (1 | 2)) => Some(version as u8),
            Some(_) => return Err(self.error("vault_kv_version", "expected 1 or 2", None)),
        };
        let max_concurrency = match self.integer("vault_max_concurrency")? {
            None => 16,
            Some(0) => {
                return Err(self.error("vault_max_concurrency", "expected at least 1", None));
            }
            Some(count) => count as usize,
        };
        let auth = match self.map.get("vault_auth") {
            None | Some(Value::Null) => VaultAuthSettings::default(),
            Some(Value::Mapping(map)) => {
                let mut path = self.path.to_vec();
                path.push("vault_auth");
                self.reader.check_keys(map, &path, VAULT_AUTH_KEYS)?;
                let auth = Settings {
                    reader: self.reader,
                    map,
                    path: &path,
                };
                VaultAuthSettings {
                    method: auth.string("method")?,
                    mount: auth.string("mount")?,
                    role: auth.string("role")?,
                    role_id: auth.string("role_id")?,
                    role_id_file: auth.path("role_id_file")?,
                    secret_id: auth.secret("secret_id")?,
                    secret_id_file: auth.path("secret_id_file")?,
                    jwt_file: auth.path("jwt_file")?,
                }
            }
            Some(_) => {
                return Err(self.error("vault_auth", "expected a mapping (method, role, …)", None));
            }
        };
        Ok(VaultSettings {
            addr: self.string("vault_addr")?.filter(|text| !text.is_empty()),
            token: self.secret("vault_token")?,
            mount_point: self
                .string("vault_mount_point")?
                .unwrap_or_else(|| "secret".into()),
            path: self.string("vault_path")?,
            namespace: self
                .string("vault_namespace")?
                .filter(|text| !text.is_empty()),
            kv_version,
            max_concurrency,
            revoke_token: self.boolean("vault_revoke_token")?.unwrap_or(false),
            auth,
        })
    }
}

struct ProcessEnvLookup<'a>(&'a Environment);

impl Lookup for ProcessEnvLookup<'_> {
    fn variable(&mut self, name: &str) -> Result<Found, ExpandError> {
        Ok(self.0.get(name).map(|value| {
            vec![Piece::Text(SecretString::new(
                value.as_encoded_bytes().to_vec(),
            ))]
        }))
    }

    fn reference_base(&self) -> Result<&Path, ExpandError> {
        Err(ExpandError::ReferenceNotAllowed {
            reference: "in the config file; put secret references in an env file".into(),
        })
    }
}

/// The 1-based line of a nested key, found by reading the YAML text as indented `key:` lines.
/// Good enough for messages; the YAML parser has already accepted the document.
fn line_of(text: &str, path: &[&str]) -> Option<usize> {
    let mut start = 0;
    let mut parent_indent: Option<usize> = None;
    let lines: Vec<&str> = text.lines().collect();
    let mut found = None;
    for key in path {
        let position = lines.iter().enumerate().skip(start).find(|(_, line)| {
            let indent = line.len() - line.trim_start().len();
            let body = line.trim_start();
            let body = body.strip_prefix(['"', '\'']).unwrap_or(body);
            parent_indent.is_none_or(|parent| indent > parent)
                && body.strip_prefix(key).is_some_and(|rest| {
                    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
                    rest.trim_start().starts_with(':')
                })
        })?;
        let (index, line) = position;
        parent_indent = Some(line.len() - line.trim_start().len());
        start = index + 1;
        found = Some(index + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_of_nested_keys() {
        let text = "database:\n  backend: x\nsecrets_manager:\n  enabled: true\n  backend: vault\n";
        assert_eq!(line_of(text, &["secrets_manager", "backend"]), Some(5));
        assert_eq!(line_of(text, &["secrets_manager"]), Some(3));
        assert_eq!(line_of(text, &["nope"]), None);
    }
}
