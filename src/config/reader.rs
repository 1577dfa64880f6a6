//! Reading the YAML document: top-level keys, `CRONOS_SECRETS_*` overrides, unknown keys with
//! "did you mean", and the `secrets:` table; every error names the file and line or the variable.

use std::collections::BTreeMap;

use serde_yaml_ng::{Mapping, Value};

use super::checklist::{self, CHECKLIST};
use super::document::Document;
use super::dynamic::{self, DYNAMIC};
use super::rotation::{self, ROTATION};
use super::typed_mapping::TypedMapping;
use super::{
    AwsSettings, Config, ConfigError, ConfigOrigin, MANAGER_KEYS, RotationSettings, SECRET_KEYS,
    SECRETS, SECRETS_MANAGER, VAULT_AUTH_KEYS,
};
use crate::duration::{BareUnit, parse_duration};
use crate::env_vars::{self, CONFIG_OVERRIDE_PREFIX, Environment};
use crate::schema::{self, RequiredSecret};
use crate::suggest::nearest;

pub(super) fn read(
    origin: &ConfigOrigin,
    text: &str,
    env: &Environment,
) -> Result<Config, ConfigError> {
    let mut reader = ConfigReader {
        document: Document {
            origin,
            text,
            env,
            overridden: BTreeMap::new(),
        },
    };
    reader.read()
}

/// Reads one document into a [`Config`]: top-level keys, overrides, settings, `secrets:`.
struct ConfigReader<'a> {
    document: Document<'a>,
}

impl ConfigReader<'_> {
    fn read(&mut self) -> Result<Config, ConfigError> {
        let document: Value =
            serde_yaml_ng::from_str(self.document.text).map_err(|error| ConfigError {
                location: self.document.file_name(),
                message: format!("not valid YAML: {error}"),
                hint: Some("check the indentation and quoting near that line".into()),
            })?;
        let mut root = match document {
            Value::Null => Mapping::new(),
            Value::Mapping(mapping) => mapping,
            _ => {
                return Err(self
                    .document
                    .error(&[], "expected a mapping at the top level", None));
            }
        };
        self.check_top_level(&root)?;
        checklist::check_near_miss(&self.document, &root)?;
        let manager = root
            .entry(Value::from(SECRETS_MANAGER))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if manager.is_null() {
            *manager = Value::Mapping(Mapping::new());
        }
        let Value::Mapping(manager) = manager else {
            return Err(self.document.error(
                &[SECRETS_MANAGER],
                "expected a mapping of settings",
                None,
            ));
        };
        let mut manager = manager.clone();
        self.apply_overrides(&mut manager)?;
        self.document
            .check_keys(&manager, &[SECRETS_MANAGER], MANAGER_KEYS)?;

        let path = [SECRETS_MANAGER];
        let settings = TypedMapping {
            document: &self.document,
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
        let azure = settings.azure()?;
        let audit_log = settings.path("audit_log")?;
        let secrets = match root.get(SECRETS) {
            None => schema::cronos_ai_defaults(),
            Some(value) => self.secrets(value)?,
        };
        let checklist = match root.get(CHECKLIST) {
            None => Default::default(),
            Some(value) => checklist::read(&self.document, value)?,
        };
        let rotation = match root.get(ROTATION) {
            None => RotationSettings::default(),
            Some(value) => rotation::read(&self.document, value)?,
        };
        let dynamic = match root.get(DYNAMIC) {
            None => Vec::new(),
            Some(value) => dynamic::read(&self.document, value)?,
        };
        Ok(Config {
            backend,
            vault,
            aws,
            azure,
            secrets,
            audit_log,
            checklist,
            rotation,
            dynamic,
        })
    }

    fn check_top_level(&self, root: &Mapping) -> Result<(), ConfigError> {
        for key in root.keys().filter_map(Value::as_str) {
            if [SECRETS_MANAGER, SECRETS, ROTATION, DYNAMIC].contains(&key) {
                continue;
            }
            let normalized = key.to_ascii_lowercase().replace('-', "_");
            let near = |ours: &str, distance| {
                normalized == ours || strsim::damerau_levenshtein(&normalized, ours) <= distance
            };
            let intended = [
                (SECRETS_MANAGER, 2),
                (SECRETS, 1),
                (ROTATION, 1),
                (DYNAMIC, 1),
            ]
            .into_iter()
            .find(|(ours, distance)| near(ours, *distance));
            if let Some((ours, _)) = intended {
                return Err(self.document.error(
                    &[key],
                    &format!("unknown top-level key \"{key}\""),
                    Some(format!("did you mean \"{ours}\"? (other top-level keys belong to the application and are ignored)")),
                ));
            }
        }
        Ok(())
    }

    /// `CRONOS_SECRETS_BACKEND=vault` sets `secrets_manager.backend`;
    /// `CRONOS_SECRETS_VAULT_AUTH__METHOD=approle` sets `secrets_manager.vault_auth.method`.
    fn apply_overrides(&mut self, manager: &mut Mapping) -> Result<(), ConfigError> {
        for (variable, value) in self.document.env.with_prefix(CONFIG_OVERRIDE_PREFIX) {
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
            // Text, never YAML: `0x1F` or `1e3` must not become 31 or 1000.0 in a path or a
            // name. The typed getters parse booleans and numbers from the text, strictly.
            let parsed = Value::String(value);
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
            self.document.overridden.insert(path, variable);
        }
        Ok(())
    }

    fn secrets(&self, value: &Value) -> Result<Vec<RequiredSecret>, ConfigError> {
        let map = match value {
            Value::Null => return Ok(Vec::new()),
            Value::Mapping(map) => map,
            _ => {
                return Err(self.document.error(
                    &[SECRETS],
                    "expected a mapping of secret names",
                    None,
                ));
            }
        };
        let mut secrets = Vec::new();
        for (name, entry) in map {
            let Some(name) = name.as_str() else {
                return Err(self
                    .document
                    .error(&[SECRETS], "secret names must be strings", None));
            };
            let empty = Mapping::new();
            let entry = match entry {
                Value::Null => &empty,
                Value::Mapping(entry) => entry,
                _ => {
                    return Err(self.document.error(
                        &[SECRETS, name],
                        "expected a mapping (env, min_length, …)",
                        None,
                    ));
                }
            };
            let path = [SECRETS, name];
            self.document.check_keys(entry, &path, SECRET_KEYS)?;
            let settings = TypedMapping {
                document: &self.document,
                map: entry,
                path: &path,
            };
            let env = settings
                .string("env")?
                .unwrap_or_else(|| name.to_ascii_uppercase());
            let rotate_every = match settings.string("rotate_every")? {
                None => None,
                Some(text) => Some(parse_duration(&text, BareUnit::Days).map_err(|message| {
                    self.document
                        .error(&[SECRETS, name, "rotate_every"], &message, None)
                })?),
            };
            let previous = match settings.string("previous_grace")? {
                None => schema::Previous::default_for(name),
                Some(text) if text.trim() == "until_retired" => schema::Previous::UntilRetired,
                Some(text) => match parse_duration(&text, BareUnit::Days) {
                    Ok(grace) if grace.is_zero() => schema::Previous::Never,
                    Ok(grace) => schema::Previous::For(grace),
                    Err(message) => {
                        return Err(self.document.error(
                            &[SECRETS, name, "previous_grace"],
                            &format!("{message}, or until_retired"),
                            None,
                        ));
                    }
                },
            };
            secrets.push(RequiredSecret {
                name: name.to_string(),
                env,
                aliases: settings.string_list("aliases")?,
                min_length: settings.integer("min_length")?.unwrap_or(1) as usize,
                rotate_every,
                previous,
                description: settings
                    .string("description")?
                    .unwrap_or_else(|| schema::describe_name(name)),
                optional: settings.boolean("optional")?.unwrap_or(false),
            });
        }
        Ok(secrets)
    }
}
