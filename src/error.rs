//! The library's error: what went wrong, ready to show; `main` only decides how to exit.

use std::fmt;

use crate::exec::ExecError;
use crate::problem::Problem;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Config, env files, resolution or validation: nothing was started.
    #[error("{}", ProblemList(.0))]
    Problems(Vec<Problem>),
    #[error("{0}\n  hint: {hint}", hint = .0.hint)]
    Exec(#[from] ExecError),
}

impl Error {
    /// GNU `env`'s convention: 125 the launcher failed, 126 not executable, 127 not found.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Problems(_) => 125,
            Error::Exec(error) => error.code,
        }
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Error::Problems(vec![problem])
    }
}

impl From<Vec<Problem>> for Error {
    fn from(problems: Vec<Problem>) -> Self {
        Error::Problems(problems)
    }
}

struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems:", many.len())?;
                for problem in many {
                    let indented = problem.to_string().replace('\n', "\n    ");
                    write!(f, "\n  - {indented}")?;
                }
                Ok(())
            }
        }
    }
}
