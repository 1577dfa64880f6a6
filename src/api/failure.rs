//! Why a library call failed, by kind: bindings raise a matching exception (Python's
//! `NotFoundError`, `AccessDeniedError`…), Rust callers get the same message as an [`Error`].

use std::fmt;

use crate::backend::FetchErrorKind;
use crate::error::Error;
use crate::problem::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The secret (or the path, key, version) does not exist.
    NotFound,
    /// The backend refused the credentials or the policy forbids the call.
    AccessDenied,
    /// A value was refused: too short, weak, NUL, or not what the reference expects.
    InvalidValue,
    /// The backend could not be reached or answered in time.
    BackendUnavailable,
    /// The config, a reference or a setting is wrong, or the backend cannot do this.
    Config,
}

impl FailureKind {
    pub(crate) fn of_fetch(kind: FetchErrorKind) -> Self {
        match kind {
            FetchErrorKind::NotFound => FailureKind::NotFound,
            FetchErrorKind::Denied => FailureKind::AccessDenied,
            FetchErrorKind::Invalid => FailureKind::InvalidValue,
            FetchErrorKind::Unavailable => FailureKind::BackendUnavailable,
            FetchErrorKind::Unsupported => FailureKind::Config,
        }
    }
}

/// An error and its kind. The message (problems with their hints) never holds a value.
#[derive(Debug)]
pub struct Failure {
    pub kind: FailureKind,
    pub error: Error,
}

impl Failure {
    pub(crate) fn new(kind: FailureKind, error: impl Into<Error>) -> Self {
        Failure {
            kind,
            error: error.into(),
        }
    }

    /// The problems behind the error, for a binding to show one by one.
    pub fn problems(&self) -> &[Problem] {
        match &self.error {
            Error::Problems(problems) => problems,
            Error::Exec(_) => &[],
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Failure {}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        failure.error
    }
}
