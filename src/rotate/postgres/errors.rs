//! What a failed step says: the system, the user or statement, the SQLSTATE and the fix.
//! A login's server message is shown (it names the user); a statement's never is.

use super::super::external::StepError;
use super::wire::{ServerError, WireError};
use crate::problem::Problem;

/// What a step was doing when the server answered with an error: a login's message is shown
/// (it names the user, never a value); a statement's is not (it may quote the statement).
#[derive(Clone, Copy)]
pub enum Doing<'a> {
    Login(&'a str),
    Statement(&'a str),
}

/// A step's error from the client's: `system` is the step's `describe()`.
pub fn failed(system: &str, dbname: &str, doing: Doing<'_>, error: WireError) -> StepError {
    let problem = match (doing, error) {
        (Doing::Login(user), WireError::Server(error)) => Problem::new(
            system,
            format!(
                "{user} cannot log in to {dbname}: {} (SQLSTATE {})",
                error.message, error.sqlstate
            ),
        )
        .with_optional_hint(login_hint(&error.sqlstate)),
        (Doing::Statement(what), WireError::Server(error)) => {
            return statement_failed(system, what, &error);
        }
        (_, WireError::Io(message)) => Problem::new(system, message).with_hint(
            "check host and port in rotation.database, and that the server is running",
        ),
        (_, WireError::Tls(message)) => Problem::new(system, message).with_hint(
            "with sslmode verify-full, rotation.database.sslrootcert must hold the CA of the server's certificate and host must be a name in it",
        ),
        (_, WireError::Protocol(message)) => Problem::new(system, message),
        (_, WireError::Refused { reason, hint }) => Problem::new(system, reason).with_hint(hint),
    };
    StepError::Failed(problem.to_string())
}

fn login_hint(sqlstate: &str) -> Option<String> {
    Some(
        match sqlstate {
            "28P01" => "check the password (for the admin: rotation.database.admin_password)",
            "28000" => "check pg_hba.conf: it must let this user in from here, with scram-sha-256",
            "3D000" => "check rotation.database.dbname",
            "53300" => "the server has no free connection slot; retry later",
            "57P03" => "the server is starting up or shutting down; retry later",
            _ => return None,
        }
        .to_string(),
    )
}

/// A failed statement: its SQLSTATE and a fixed explanation, never the server's text (a
/// message about `ALTER ROLE` may quote it). Class 22 is the value refused (a password policy
/// such as passwordcheck): a new value may pass, the same one never will.
pub fn statement_failed(system: &str, what: &str, error: &ServerError) -> StepError {
    let code = error.sqlstate.as_str();
    let (explanation, hint) = match code {
        _ if code.starts_with("22") => (
            "the server refused the new value",
            "a password policy (passwordcheck, check_password_hook) refused it; a new value will be generated",
        ),
        "42501" => (
            "permission denied",
            "the admin user needs CREATEROLE (or superuser) and, for the set-up, membership in the roles it changes",
        ),
        "42704" => (
            "a role does not exist",
            "check rotation.database.role; with strategy alternating, run the set-up first",
        ),
        "0LP01" | "2BP01" | "55006" => (
            "the roles or objects are in a state this statement cannot change",
            "look at the server log around this time",
        ),
        _ => (
            "the statement failed",
            "look at the server log around this time",
        ),
    };
    let problem = Problem::new(system, format!("{what}: {explanation} (SQLSTATE {code})"))
        .with_hint(hint)
        .to_string();
    if code.starts_with("22") {
        StepError::Rejected(problem)
    } else {
        StepError::Failed(problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(sqlstate: &str) -> ServerError {
        ServerError {
            sqlstate: sqlstate.into(),
            message: "password is too short: planted-value".into(),
        }
    }

    #[test]
    fn a_refused_value_is_rejected_and_the_server_text_is_not_repeated() {
        let rejected = statement_failed(
            "postgresql app@db:5432/x",
            "setting",
            &server_error("22023"),
        );
        let StepError::Rejected(message) = rejected else {
            panic!("class 22 is the value refused");
        };
        assert!(message.contains("SQLSTATE 22023") && !message.contains("planted-value"));
        let failed = statement_failed(
            "postgresql app@db:5432/x",
            "setting",
            &server_error("42501"),
        );
        let StepError::Failed(message) = failed else {
            panic!("a permission is not the value's fault");
        };
        assert!(message.contains("permission denied") && !message.contains("planted-value"));
    }
}
