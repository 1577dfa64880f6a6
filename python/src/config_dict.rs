//! `get_secrets_manager({...})`: the guide's dict of `secrets_manager:` keys, turned into the
//! YAML document the library reads (so the launcher's checks, defaults, "did you mean" and
//! `CRONOS_SECRETS_*` overrides apply to it as to the file).

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_yaml_ng::{Mapping, Value};

use crate::errors::config_error;

/// How messages name a setting given as a dict.
pub const LABEL: &str = "get_secrets_manager(config)";

/// The YAML text of the document: the dict is the `secrets_manager:` mapping, unless it holds
/// the whole document (a `secrets_manager` key, beside `secrets:` and `rotation:`).
pub fn document_text(config: &Bound<'_, PyDict>) -> PyResult<String> {
    let mapping = match to_yaml(config.as_any(), "")? {
        Value::Mapping(mapping) => mapping,
        _ => unreachable!("a dict converts to a mapping"),
    };
    let document = if mapping.contains_key("secrets_manager") {
        mapping
    } else {
        let mut root = Mapping::new();
        root.insert(Value::from("secrets_manager"), Value::Mapping(mapping));
        root
    };
    serde_yaml_ng::to_string(&Value::Mapping(document))
        .map_err(|error| config_error(LABEL, &error.to_string(), "pass a dict of plain values"))
}

/// One Python value as YAML; `path` (`vault_auth.role`) names it in errors. A value's text is
/// never shown: `vault_token` is a secret.
fn to_yaml(value: &Bound<'_, PyAny>, path: &str) -> PyResult<Value> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's True is an int too.
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if value.cast::<PyInt>().is_ok() {
        return Ok(Value::from(value.extract::<i64>()?));
    }
    if value.cast::<PyFloat>().is_ok() {
        return Ok(Value::from(value.extract::<f64>()?));
    }
    if value.cast::<PyString>().is_ok() {
        return Ok(Value::String(value.extract::<String>()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut mapping = Mapping::new();
        for (key, item) in dict.iter() {
            let Ok(key) = key.extract::<String>() else {
                return Err(config_error(
                    &format!("{LABEL}: {path}"),
                    "keys must be strings",
                    "write the keys as in the YAML file: {'backend': 'vault', ...}",
                ));
            };
            let inner = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            mapping.insert(Value::String(key), to_yaml(&item, &inner)?);
        }
        return Ok(Value::Mapping(mapping));
    }
    if value.cast::<PyList>().is_ok() || value.cast::<PyTuple>().is_ok() {
        let items: PyResult<Vec<Value>> = value
            .try_iter()?
            .map(|item| to_yaml(&item?, path))
            .collect();
        return Ok(Value::Sequence(items?));
    }
    let type_name = value.get_type().name()?.to_string();
    Err(config_error(
        &format!("{LABEL}: {path}"),
        &format!("a {type_name} cannot be a setting"),
        "use str, int, float, bool, None, dict or list values, as the YAML file would",
    ))
}
