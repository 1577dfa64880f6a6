//! The native manager behind `cronos_secrets.SecretsManager`: one library `SecretsManager`
//! (safe to share between threads), an optional cache, and the conversions. The GIL is
//! released for every call that may wait on a backend.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use cronos_secrets::{SecretDetails, SecretString, SecretsManager};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::audit::Audited;
use crate::cache::Cache;
use crate::config_dict::{self, LABEL};
use crate::errors::{config_error, invalid_value, raise};

/// What `describe` and `set_secret` return: version, created and expiry (seconds since the
/// epoch, turned into datetimes by the package), never the value.
type Details = (Option<String>, Option<f64>, Option<f64>);

#[pyclass(frozen, module = "cronos_secrets._native")]
pub struct NativeManager {
    manager: SecretsManager,
    cache: Option<Cache>,
    audited: Audited,
}

#[pymethods]
impl NativeManager {
    /// A manager for the guide's dict of `secrets_manager:` keys.
    #[staticmethod]
    #[pyo3(signature = (config, timeout=None, cache_ttl=None, audit_log=None))]
    fn from_dict(
        config: &Bound<'_, PyDict>,
        timeout: Option<f64>,
        cache_ttl: Option<f64>,
        audit_log: Option<PathBuf>,
    ) -> PyResult<Self> {
        let text = config_dict::document_text(config)?;
        let manager = SecretsManager::from_config_text(LABEL, &text).map_err(raise)?;
        NativeManager::with(manager, timeout, cache_ttl, audit_log)
    }

    /// A manager for the YAML config at `path`, or the one the launcher would find (`None`).
    #[staticmethod]
    #[pyo3(signature = (path=None, timeout=None, cache_ttl=None, audit_log=None))]
    fn from_path(
        path: Option<PathBuf>,
        timeout: Option<f64>,
        cache_ttl: Option<f64>,
        audit_log: Option<PathBuf>,
    ) -> PyResult<Self> {
        let manager = SecretsManager::from_config_file(path.as_deref()).map_err(raise)?;
        NativeManager::with(manager, timeout, cache_ttl, audit_log)
    }

    /// The values of `names` (names or references), in order, read in one batch.
    #[pyo3(signature = (names, as_bytes=false))]
    fn get(&self, py: Python<'_>, names: Vec<String>, as_bytes: bool) -> PyResult<Vec<Py<PyAny>>> {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let values = self
            .call(py, || match &self.cache {
                Some(cache) => cache.get(&self.manager, &names),
                None => self
                    .manager
                    .read_secrets(&names)
                    .map(|reads| reads.into_iter().map(|read| read.value).collect()),
            })
            .map_err(raise)?;
        names
            .iter()
            .zip(values)
            .map(|(name, value)| to_python(py, name, &value, as_bytes))
            .collect()
    }

    /// Validates and stores a new version of `name`; `value` is str or bytes.
    fn set(&self, py: Python<'_>, name: String, value: &Bound<'_, PyAny>) -> PyResult<Details> {
        let value = from_python(&name, value)?;
        let details = self
            .call(py, || self.manager.write_secret(&name, &value))
            .map_err(raise)?;
        if let Some(cache) = &self.cache {
            cache.forget(&name);
        }
        Ok(details_tuple(&details))
    }

    /// The current version's details, never the value.
    fn describe(&self, py: Python<'_>, name: String) -> PyResult<Details> {
        let mut reads = self
            .call(py, || self.manager.read_secrets(&[name.as_str()]))
            .map_err(raise)?;
        Ok(details_tuple(&reads.remove(0).details))
    }

    #[getter]
    fn backend(&self) -> &'static str {
        self.manager.backend_name()
    }

    #[getter]
    fn timeout(&self) -> f64 {
        self.manager.timeout().as_secs_f64()
    }

    #[getter]
    fn cache_ttl(&self) -> Option<f64> {
        self.cache.as_ref().map(|cache| cache.ttl().as_secs_f64())
    }
}

impl NativeManager {
    /// One call of the library, with the GIL released and the manager's events going to its
    /// own audit log, if it has one.
    fn call<T: Send>(&self, py: Python<'_>, call: impl FnOnce() -> T + Send) -> T {
        py.detach(|| self.audited.run(call))
    }

    fn with(
        manager: SecretsManager,
        timeout: Option<f64>,
        cache_ttl: Option<f64>,
        audit_log: Option<PathBuf>,
    ) -> PyResult<Self> {
        let manager = match timeout {
            Some(seconds) => manager.with_timeout(seconds_setting("timeout", seconds)?),
            None => manager,
        };
        let cache = match cache_ttl {
            Some(seconds) => Some(Cache::new(seconds_setting("cache_ttl", seconds)?)),
            None => None,
        };
        // The keyword, else the config's `audit_log` (or CRONOS_SECRETS_AUDIT_LOG), as the
        // launcher takes --audit-log, else the config's.
        let audit_log = audit_log.or_else(|| manager.audit_log().map(PathBuf::from));
        let audited = Audited::new(audit_log.as_deref()).map_err(|problem| {
            let hint = problem
                .hint
                .as_deref()
                .unwrap_or("pass a writable file path");
            config_error(&problem.location, &problem.message, hint)
        })?;
        Ok(NativeManager {
            manager,
            cache,
            audited,
        })
    }
}

fn seconds_setting(name: &str, seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| {
            config_error(
                name,
                &format!("must be a positive number of seconds, not {seconds}"),
                &format!("pass e.g. {name}=30"),
            )
        })
}

fn to_python(
    py: Python<'_>,
    name: &str,
    value: &SecretString,
    as_bytes: bool,
) -> PyResult<Py<PyAny>> {
    if as_bytes {
        return Ok(PyBytes::new(py, value.expose()).into_any().unbind());
    }
    match value.expose_str() {
        Some(text) => Ok(PyString::new(py, text).into_any().unbind()),
        None => Err(invalid_value(
            name,
            "the value is not UTF-8 text",
            "read a binary secret with as_bytes=True",
        )),
    }
}

fn from_python(name: &str, value: &Bound<'_, PyAny>) -> PyResult<SecretString> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(SecretString::new(bytes.as_bytes()));
    }
    if value.cast::<PyString>().is_ok() {
        return Ok(SecretString::from(value.extract::<String>()?));
    }
    let type_name = value.get_type().name()?.to_string();
    Err(invalid_value(
        name,
        &format!("a new value must be str or bytes, not {type_name}"),
        "pass the value as text (or bytes for a binary secret)",
    ))
}

fn details_tuple(details: &SecretDetails) -> Details {
    let seconds = |time: SystemTime| {
        time.duration_since(SystemTime::UNIX_EPOCH)
            .map(|duration| duration.as_secs_f64())
            .ok()
    };
    (
        details.version.clone(),
        details.updated.and_then(seconds),
        details.expires.and_then(seconds),
    )
}
