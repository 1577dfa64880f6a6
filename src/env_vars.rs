//! Every environment variable the launcher itself reads, declared once, and the snapshot of
//! the process environment that the rest of the code reads instead of `std::env`.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};

/// Path of the config file.
pub const CONFIG: &str = "CRONOS_SECRETS_CONFIG";
/// `CRONOS_SECRETS_<KEY>` overrides `secrets_manager.<key>` of the config.
pub const CONFIG_OVERRIDE_PREFIX: &str = "CRONOS_SECRETS_";
/// Crash tests only: `sigkill-after:STEP` makes `rotate` kill itself after STEP.
pub const ROTATE_FAULT: &str = "CRONOS_SECRETS_ROTATE_FAULT";
/// Variables with the override prefix that are settings of the tool, not config keys.
pub const TOOL_SETTINGS: &[&str] = &[CONFIG, ROTATE_FAULT];
/// Selects `.env.<env>` and `config/cronos_ai.<env>.yaml`; default `production`.
pub const APP_ENV: &str = "CRONOS_AI_ENV";
/// Log filter, as for every `tracing` program.
pub const RUST_LOG: &str = "RUST_LOG";

/// The launcher's own credentials: never passed to the program unless `--keep-launcher-env`.
pub const LAUNCHER_CREDENTIALS: &[&str] = &[
    "VAULT_TOKEN",
    "VAULT_ROLE_ID",
    "VAULT_SECRET_ID",
    "AZURE_CLIENT_SECRET",
];

/// Whether `name` is a launcher credential or setting that the program must not inherit.
pub fn is_launcher_variable(name: &OsStr) -> bool {
    let name = name.as_encoded_bytes();
    LAUNCHER_CREDENTIALS
        .iter()
        .any(|credential| credential.as_bytes() == name)
        || name.starts_with(CONFIG_OVERRIDE_PREFIX.as_bytes())
}

/// A snapshot of the process environment, in the order the OS gave it.
#[derive(Clone, Default)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
    index: BTreeMap<OsString, usize>,
}

// Values may be secrets: Debug lists names only.
impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.vars.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Environment {
    pub fn capture() -> Self {
        Self::from_vars(std::env::vars_os())
    }

    pub fn from_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        let mut environment = Environment::default();
        for (name, value) in vars {
            match environment.index.get(&name) {
                Some(&position) => environment.vars[position].1 = value,
                None => {
                    environment
                        .index
                        .insert(name.clone(), environment.vars.len());
                    environment.vars.push((name, value));
                }
            }
        }
        environment
    }

    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.index
            .get(OsStr::new(name))
            .map(|&position| self.vars[position].1.as_os_str())
    }

    /// The value if it is set and valid UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(OsStr::to_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(name, value)| (name.as_os_str(), value.as_os_str()))
    }

    /// Variables whose UTF-8 name starts with `prefix`, with UTF-8 values.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.iter()
            .filter_map(|(name, value)| Some((name.to_str()?, value.to_str()?)))
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }
}

/// `CRONOS_AI_ENV`, default `production`.
pub fn app_env(env: &Environment) -> String {
    env.get_str(APP_ENV)
        .filter(|value| !value.is_empty())
        .unwrap_or("production")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launcher_variables_are_credentials_and_our_settings() {
        assert!(is_launcher_variable(OsStr::new("VAULT_TOKEN")));
        assert!(is_launcher_variable(OsStr::new("CRONOS_SECRETS_BACKEND")));
        assert!(!is_launcher_variable(OsStr::new("VAULT_ADDR")));
        assert!(!is_launcher_variable(OsStr::new("CRONOS_AI_DB_PASSWORD")));
    }

    #[test]
    fn debug_shows_names_not_values() {
        let env = Environment::from_vars([("A".into(), "planted-value".into())]);
        assert_eq!(format!("{env:?}"), "[\"A\"]");
    }
}
