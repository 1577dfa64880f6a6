//! Typed access to one mapping of the config: strings with `${VAR}` expanded from the process
//! environment, booleans, numbers, lists, the backend name and the Vault settings.

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use super::document::Document;
use super::{
    AzureSettings, BackendKind, ConfigError, VAULT_AUTH_KEYS, VaultAuthSettings, VaultSettings,
};
use crate::duration::{BareUnit, parse_duration};
use crate::env_vars::Environment;
use crate::expand::{self, ExpandError, Found, Lookup, Piece};
use crate::placeholder::{self, Syntax};
use crate::secret::SecretString;
use crate::suggest::nearest;

/// Typed access to one mapping of the config, with errors that name the key.
pub(super) struct TypedMapping<'a> {
    pub(super) document: &'a Document<'a>,
    pub(super) map: &'a Mapping,
    pub(super) path: &'a [&'a str],
}

impl TypedMapping<'_> {
    pub(super) fn error(&self, key: &str, message: &str, hint: Option<String>) -> ConfigError {
        let mut path = self.path.to_vec();
        path.push(key);
        self.document.error(&path, message, hint)
    }

    pub(super) fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
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
        let mut lookup = ProcessEnvLookup(self.document.env);
        let pieces = expand::expand(&segments, &mut lookup).map_err(|error| {
            let hint = error.hint();
            self.error(key, &error.to_string(), hint)
        })?;
        let text = expand::text_only(&pieces).unwrap_or_default();
        String::from_utf8(text.expose().to_vec())
            .map_err(|_| self.error(key, "the expanded value is not valid UTF-8", None))
    }

    pub(super) fn secret(&self, key: &str) -> Result<Option<SecretString>, ConfigError> {
        Ok(self
            .string(key)?
            .filter(|text| !text.is_empty())
            .map(SecretString::from))
    }

    pub(super) fn path(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        Ok(self
            .string(key)?
            .filter(|text| !text.is_empty())
            .map(|text| PathBuf::from(shellexpand::tilde(&text).as_ref())))
    }

    pub(super) fn boolean(&self, key: &str) -> Result<Option<bool>, ConfigError> {
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

    pub(super) fn integer(&self, key: &str) -> Result<Option<u64>, ConfigError> {
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

    pub(super) fn string_list(&self, key: &str) -> Result<Vec<String>, ConfigError> {
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

    pub(super) fn backend(&self) -> Result<BackendKind, ConfigError> {
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
                // Not echoed: a token pasted into the wrong setting would land in the logs.
                self.error(
                    "backend",
                    "unknown backend (the value is not shown, in case it is a credential pasted into the wrong setting)",
                    Some(hint),
                )
            })
    }

    pub(super) fn vault(&self) -> Result<VaultSettings, ConfigError> {
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
                self.document.check_keys(map, &path, VAULT_AUTH_KEYS)?;
                let auth = TypedMapping {
                    document: self.document,
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

impl TypedMapping<'_> {
    pub(super) fn azure(&self) -> Result<AzureSettings, ConfigError> {
        let auth = match self.string("azure_auth")? {
            None => None,
            Some(text) => {
                let normalized = text.trim().to_ascii_lowercase().replace('-', "_");
                const FLOWS: [&str; 5] = [
                    "auto",
                    "client_secret",
                    "workload_identity",
                    "managed_identity",
                    "cli",
                ];
                if !FLOWS.contains(&normalized.as_str()) {
                    let hint = match nearest(&normalized, &FLOWS) {
                        Some(candidate) => format!("did you mean \"{candidate}\"?"),
                        None => format!("valid values: {}", FLOWS.join(", ")),
                    };
                    return Err(self.error(
                        "azure_auth",
                        "unknown Azure credential flow (the value is not shown, in case it is a credential pasted into the wrong setting)",
                        Some(hint),
                    ));
                }
                Some(normalized)
            }
        };
        let max_concurrency = match self.integer("azure_max_concurrency")? {
            None => 16,
            Some(0) => {
                return Err(self.error("azure_max_concurrency", "expected at least 1", None));
            }
            Some(count) => count as usize,
        };
        let imds_timeout = match self.string("azure_imds_timeout")? {
            None => std::time::Duration::from_secs(2),
            Some(text) => parse_duration(&text, BareUnit::Seconds)
                .ok()
                .filter(|duration| !duration.is_zero() && duration.as_secs() <= 300)
                .ok_or_else(|| {
                    self.error(
                        "azure_imds_timeout",
                        "expected a duration from 1ms to 5m, like 500ms or 2s",
                        None,
                    )
                })?,
        };
        Ok(AzureSettings {
            vault_url: self
                .string("azure_vault_url")?
                .filter(|text| !text.is_empty()),
            auth,
            max_concurrency,
            verify_challenge_resource: self
                .boolean("azure_verify_challenge_resource")?
                .unwrap_or(true),
            imds_timeout,
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
