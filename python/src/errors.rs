//! The exception hierarchy: `SecretsError` and one subclass per [`FailureKind`]. The message is
//! the launcher's (location, problem, `hint:` line), which never holds a value.

use cronos_secrets::{Failure, FailureKind};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    cronos_secrets,
    SecretsError,
    PyException,
    "Any cronos-secrets failure; the message names the secret, the problem and a hint, never a value."
);
create_exception!(
    cronos_secrets,
    SecretNotFoundError,
    SecretsError,
    "The secret (its path, key or version) does not exist."
);
create_exception!(
    cronos_secrets,
    AccessDeniedError,
    SecretsError,
    "The backend refused the credentials, or its policy forbids the call."
);
create_exception!(
    cronos_secrets,
    InvalidValueError,
    SecretsError,
    "A value was refused (too short, weak, a NUL byte, not text), or is not what was expected."
);
create_exception!(
    cronos_secrets,
    BackendUnavailableError,
    SecretsError,
    "The backend could not be reached or did not answer within the timeout."
);
create_exception!(
    cronos_secrets,
    ConfigError,
    SecretsError,
    "The configuration, a reference or a setting is wrong, or the backend cannot do this."
);

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("SecretsError", py.get_type::<SecretsError>())?;
    module.add("SecretNotFoundError", py.get_type::<SecretNotFoundError>())?;
    module.add("AccessDeniedError", py.get_type::<AccessDeniedError>())?;
    module.add("InvalidValueError", py.get_type::<InvalidValueError>())?;
    module.add(
        "BackendUnavailableError",
        py.get_type::<BackendUnavailableError>(),
    )?;
    module.add("ConfigError", py.get_type::<ConfigError>())?;
    Ok(())
}

/// The exception for a library failure, with its message.
pub fn raise(failure: Failure) -> PyErr {
    let message = failure.to_string();
    match failure.kind {
        FailureKind::NotFound => SecretNotFoundError::new_err(message),
        FailureKind::AccessDenied => AccessDeniedError::new_err(message),
        FailureKind::InvalidValue => InvalidValueError::new_err(message),
        FailureKind::BackendUnavailable => BackendUnavailableError::new_err(message),
        FailureKind::Config => ConfigError::new_err(message),
    }
}

/// A refusal of the binding's own (a value that is not text, a bad argument).
pub fn invalid_value(location: &str, message: &str, hint: &str) -> PyErr {
    InvalidValueError::new_err(format!("{location}: {message}\n  hint: {hint}"))
}

pub fn config_error(location: &str, message: &str, hint: &str) -> PyErr {
    ConfigError::new_err(format!("{location}: {message}\n  hint: {hint}"))
}
