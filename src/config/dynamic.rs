//! `dynamic:`: the Vault dynamic secrets a launch may read, each a name, the path of the
//! engine's credentials endpoint (`database/creds/cronos-app`) and the fields one lease holds.
//! A `vault-dynamic://NAME#FIELD` reference names one of these; only declared paths are read,
//! since a read creates something (a database user) and a reference must not choose what.

use serde_yaml_ng::{Mapping, Value};

use super::ConfigError;
use super::document::Document;
use super::typed_mapping::TypedMapping;
use crate::reference::{is_declaration_name, vault_system_mount};

pub(crate) const DYNAMIC: &str = "dynamic";
const KEYS: &[&str] = &["path", "fields", "description"];
/// What the database secrets engine hands out, the usual case.
const DEFAULT_FIELDS: [&str; 2] = ["username", "password"];

/// One declared dynamic secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicSecret {
    pub name: String,
    /// The engine's endpoint, read with `GET /v1/{path}` (`database/creds/cronos-app`).
    pub path: String,
    /// The fields of the lease's `data` a reference may take (`username`, `password`).
    pub fields: Vec<String>,
}

pub(super) fn read(
    document: &Document<'_>,
    value: &Value,
) -> Result<Vec<DynamicSecret>, ConfigError> {
    let map = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(map) => map,
        _ => {
            return Err(document.error(
                &[DYNAMIC],
                "expected a mapping of dynamic secret names",
                Some("write each as NAME: { path: database/creds/ROLE, fields: [username, password] }".into()),
            ));
        }
    };
    let mut secrets = Vec::new();
    for (name, entry) in map {
        let Some(name) = name.as_str() else {
            return Err(document.error(&[DYNAMIC], "names must be strings", None));
        };
        let path = [DYNAMIC, name];
        if !is_declaration_name(name) {
            return Err(document.error(
                &path,
                &format!("\"{name}\" is not a usable name"),
                Some(
                    "use letters, digits, _ and - (it is written in vault-dynamic://NAME#FIELD)"
                        .into(),
                ),
            ));
        }
        let empty = Mapping::new();
        let entry = match entry {
            Value::Null => &empty,
            Value::Mapping(entry) => entry,
            _ => return Err(document.error(&path, "expected a mapping (path, fields)", None)),
        };
        document.check_keys(entry, &path, KEYS)?;
        let settings = TypedMapping {
            document,
            map: entry,
            path: &path,
        };
        let Some(vault_path) = settings.string("path")? else {
            return Err(document.error(
                &path,
                "no path: which Vault endpoint makes these credentials",
                Some("add path: database/creds/ROLE (the database engine's mount and role)".into()),
            ));
        };
        let vault_path = vault_path.trim_matches('/').to_string();
        if let Some(problem) = path_problem(&vault_path) {
            return Err(settings.error(
                "path",
                &format!("the Vault path {problem}"),
                Some("write the engine's endpoint, e.g. database/creds/cronos-app".into()),
            ));
        }
        let mut fields = settings.string_list("fields")?;
        if fields.is_empty() {
            fields = DEFAULT_FIELDS.map(String::from).to_vec();
        }
        if let Some(bad) = fields.iter().find(|field| !is_declaration_name(field)) {
            return Err(settings.error(
                "fields",
                &format!("\"{bad}\" is not a field name"),
                Some("list the fields of the lease's data, e.g. [username, password]".into()),
            ));
        }
        secrets.push(DynamicSecret {
            name: name.to_string(),
            path: vault_path,
            fields,
        });
    }
    Ok(secrets)
}

/// Why a declared path cannot be an engine's endpoint: Vault's own `sys/`, `auth/` and
/// `identity/` (a token, a policy), or segments that are empty or walk upwards.
fn path_problem(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() < 2 {
        return Some("needs a mount and an endpoint (database/creds/ROLE)");
    }
    if segments
        .iter()
        .any(|segment| segment.is_empty() || *segment == "." || *segment == "..")
    {
        return Some("has an empty, \".\" or \"..\" segment");
    }
    if segments.iter().any(|segment| {
        !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    }) {
        return Some("holds characters other than letters, digits, _, - and .");
    }
    if vault_system_mount(segments[0]).is_some() {
        return Some("is Vault's own API, not a secrets engine's endpoint");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_engine_endpoint_is_a_path() {
        assert_eq!(path_problem("database/creds/cronos-app"), None);
        for bad in [
            "database",
            "sys/leases/lookup",
            "auth/token/create",
            "token/create",
            "SYS/leases/lookup",
            "a//b",
            "a/../b",
            "a/b?x=1",
        ] {
            assert!(path_problem(bad).is_some(), "{bad}");
        }
    }
}
