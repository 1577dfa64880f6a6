//! PostgreSQL as the *set*, *test* and *probe* steps of `rotate --database`, over a small
//! client of our own (wire protocol 3.0, SCRAM-SHA-256, TLS through rustls): tokio-postgres
//! would add megabytes to a binary copied into every pod, for four kinds of statement.
//!
//! Every connection is fresh and lives for one step, all of it before the rotation's deadline.

#![allow(dead_code)] // until `rotate --database` builds it (the lead's wiring, src/rotate/systems.rs)

mod connect;
mod scram;
mod session;
mod sql;
mod tls;
mod wire;

use async_trait::async_trait;
use tokio::time::Instant;

use super::external::{Accepted, Candidates, Credential, ExternalSystem, StepError};
use crate::config::DatabaseSettings;
use crate::problem::Problem;
use crate::secret::SecretString;
use connect::Target;
use session::Session;
use wire::{ServerError, WireError};

pub struct Postgres {
    settings: DatabaseSettings,
    admin_password: SecretString,
    deadline: Instant,
}

/// What a step was doing when the server answered with an error: a login's message is shown
/// (it names the user, never a value); a statement's is not (it may quote the statement).
#[derive(Clone, Copy)]
enum Doing<'a> {
    Login(&'a str),
    Statement(&'a str),
}

impl Postgres {
    pub fn new(
        settings: DatabaseSettings,
        admin_password: SecretString,
        deadline: Instant,
    ) -> Postgres {
        Postgres {
            settings,
            admin_password,
            deadline,
        }
    }

    fn role_of<'a>(&'a self, credential: &'a Credential) -> &'a str {
        credential
            .username
            .as_deref()
            .unwrap_or(&self.settings.role)
    }

    /// Runs `work` before the deadline.
    async fn within<T>(
        &self,
        work: impl Future<Output = Result<T, StepError>>,
    ) -> Result<T, StepError> {
        tokio::time::timeout_at(self.deadline, work)
            .await
            .unwrap_or_else(|_| {
                Err(StepError::Failed(
                    Problem::new(self.describe(), "no answer before the deadline")
                        .with_hint("check that the server is reachable, or raise --timeout")
                        .to_string(),
                ))
            })
    }

    async fn target(&self) -> Result<Target, StepError> {
        Target::new(&self.settings, self.deadline)
            .await
            .map_err(|message| {
                StepError::Failed(
                    Problem::new(self.describe(), message)
                        .with_hint("rotation.database.sslrootcert names the CA bundle (PEM) of the server's certificate")
                        .to_string(),
                )
            })
    }

    fn failed(&self, doing: Doing<'_>, error: WireError) -> StepError {
        let problem = match (doing, error) {
            (Doing::Login(user), WireError::Server(error)) => Problem::new(
                self.describe(),
                format!(
                    "{user} cannot log in to {}: {} (SQLSTATE {})",
                    self.settings.dbname, error.message, error.sqlstate
                ),
            )
            .with_optional_hint(login_hint(&error.sqlstate)),
            (Doing::Statement(what), WireError::Server(error)) => {
                return statement_failed(&self.describe(), what, &error);
            }
            (_, WireError::Io(message)) => Problem::new(self.describe(), message).with_hint(
                "check host and port in rotation.database, and that the server is running",
            ),
            (_, WireError::Tls(message)) => Problem::new(self.describe(), message).with_hint(
                "with sslmode verify-full, rotation.database.sslrootcert must hold the CA of the server's certificate and host must be a name in it",
            ),
            (_, WireError::Protocol(message)) => Problem::new(self.describe(), message),
        };
        StepError::Failed(problem.to_string())
    }

    async fn login(
        &self,
        target: &Target,
        user: &str,
        password: &SecretString,
    ) -> Result<Session, WireError> {
        Session::login(target, user, password, &self.settings.dbname).await
    }

    /// Logs in as `user` to check `password`: a server that lets anyone in (trust, peer)
    /// would make any password look right.
    async fn login_checked(
        &self,
        target: &Target,
        user: &str,
        password: &SecretString,
    ) -> Result<Session, WireError> {
        let session = self.login(target, user, password).await?;
        if !session.password_checked {
            session.close().await;
            return Err(WireError::Protocol(format!(
                "the server lets {user} in without checking a password (trust or peer in pg_hba.conf), so a rotated password cannot be tested; use scram-sha-256 for {user}"
            )));
        }
        Ok(session)
    }

    async fn admin(&self, target: &Target) -> Result<Session, StepError> {
        let user = &self.settings.admin_user;
        self.login(target, user, &self.admin_password)
            .await
            .map_err(|error| self.failed(Doing::Login(user), error))
    }

    /// The alternating strategy's roles: the group, both login roles in it, each session
    /// acting as the group. Safe to run again; one line per statement run, never a value.
    pub async fn setup(&self) -> Result<Vec<String>, StepError> {
        self.within(async {
            let target = self.target().await?;
            let mut admin = self.admin(&target).await?;
            let existing: Vec<String> = admin
                .query(&sql::existing_roles(&self.settings))
                .await
                .map_err(|error| self.failed(Doing::Statement("reading pg_roles"), error))?
                .into_iter()
                .filter_map(|row| row.into_iter().next().flatten())
                .collect();
            let mut done = Vec::new();
            for statement in sql::setup_statements(&self.settings) {
                if let Some(role) = &statement.creates
                    && existing.contains(role)
                {
                    done.push(format!("role {role} exists (left as it is)"));
                    continue;
                }
                admin
                    .query(&statement.sql)
                    .await
                    .map_err(|error| self.failed(Doing::Statement(&statement.done), error))?;
                done.push(statement.done);
            }
            admin.close().await;
            Ok(done)
        })
        .await
    }
}

/// The set-up as SQL text, for `--dry-run` and the docs (`CREATE ROLE`s are skipped for roles
/// that exist).
pub fn setup_sql(settings: &DatabaseSettings) -> Vec<String> {
    sql::setup_statements(settings)
        .into_iter()
        .map(|statement| match statement.creates {
            Some(_) => format!("{};  -- unless the role exists", statement.sql),
            None => format!("{};", statement.sql),
        })
        .collect()
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
fn statement_failed(system: &str, what: &str, error: &ServerError) -> StepError {
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

#[async_trait]
impl ExternalSystem for Postgres {
    fn describe(&self) -> String {
        let settings = &self.settings;
        format!(
            "postgresql {}@{}:{}/{}",
            settings.role, settings.host, settings.port, settings.dbname
        )
    }

    async fn probe(&self, candidates: &Candidates<'_>) -> Result<Accepted, StepError> {
        self.within(async {
            let target = self.target().await?;
            let ordered = [
                (Some(candidates.pending), Accepted::Pending),
                (Some(candidates.current), Accepted::Current),
                (candidates.previous, Accepted::Previous),
            ];
            for (credential, accepted) in ordered {
                let Some(credential) = credential else {
                    continue;
                };
                let user = self.role_of(credential);
                match self
                    .login_checked(&target, user, &credential.password)
                    .await
                {
                    Ok(session) => {
                        session.close().await;
                        return Ok(accepted);
                    }
                    // Refused: not this one. The message names the user, never a value.
                    Err(WireError::Server(error))
                        if error.sqlstate == "28P01" || error.sqlstate == "28000" =>
                    {
                        tracing::debug!(
                            system = %self.describe(),
                            candidate = ?accepted,
                            sqlstate = %error.sqlstate,
                            message = %error.message,
                            "login refused"
                        );
                    }
                    Err(error) => return Err(self.failed(Doing::Login(user), error)),
                }
            }
            Ok(Accepted::None)
        })
        .await
    }

    async fn set(&self, pending: &Credential, _current: &Credential) -> Result<(), StepError> {
        self.within(async {
            let role = self.role_of(pending);
            let verifier = scram::verifier(&pending.password).map_err(|message| {
                StepError::Failed(Problem::new(self.describe(), message).to_string())
            })?;
            let statement = sql::set_verifier(role, &verifier).ok_or_else(|| {
                StepError::Failed(
                    Problem::new(
                        self.describe(),
                        "internal error: a malformed SCRAM verifier",
                    )
                    .to_string(),
                )
            })?;
            let target = self.target().await?;
            let mut admin = self.admin(&target).await?;
            let what = format!("setting the password of {role}");
            admin
                .query(&statement)
                .await
                .map_err(|error| self.failed(Doing::Statement(&what), error))?;
            admin.close().await;
            Ok(())
        })
        .await
    }

    async fn test(&self, pending: &Credential) -> Result<(), StepError> {
        self.within(async {
            let target = self.target().await?;
            let user = self.role_of(pending);
            let mut session = self
                .login_checked(&target, user, &pending.password)
                .await
                .map_err(|error| self.failed(Doing::Login(user), error))?;
            let rows = session
                .query("SELECT 1")
                .await
                .map_err(|error| self.failed(Doing::Statement("SELECT 1"), error))?;
            session.close().await;
            if rows != [vec![Some("1".to_string())]] {
                return Err(StepError::Failed(
                    Problem::new(
                        self.describe(),
                        format!("{user} logged in, but SELECT 1 did not answer 1"),
                    )
                    .to_string(),
                ));
            }
            Ok(())
        })
        .await
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

    #[test]
    fn setup_sql_quotes_every_name() {
        let settings = crate::config::DatabaseSettings {
            host: "localhost".into(),
            port: 5432,
            dbname: "my db".into(),
            admin_user: "postgres".into(),
            admin_password: crate::reference::Reference::parse(
                "env://ADMIN",
                std::path::Path::new("."),
            )
            .expect("a reference"),
            role: "app".into(),
            strategy: crate::config::Strategy::Alternating,
            alternate_role: "app_b".into(),
            group_role: "App\"Group".into(),
            sslmode: crate::config::SslMode::Prefer,
            sslrootcert: None,
        };
        assert_eq!(
            setup_sql(&settings),
            [
                "CREATE ROLE \"App\"\"Group\" NOLOGIN;  -- unless the role exists",
                "CREATE ROLE \"app\" LOGIN;  -- unless the role exists",
                "CREATE ROLE \"app_b\" LOGIN;  -- unless the role exists",
                "GRANT \"App\"\"Group\" TO \"app\", \"app_b\";",
                "ALTER ROLE \"app\" SET role = 'App\"Group';",
                "ALTER ROLE \"app_b\" SET role = 'App\"Group';",
                "REASSIGN OWNED BY \"app\", \"app_b\" TO \"App\"\"Group\";",
                "GRANT CONNECT ON DATABASE \"my db\" TO \"App\"\"Group\";",
            ]
        );
    }
}
