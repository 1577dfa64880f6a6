//! PostgreSQL as the *set*, *test* and *probe* steps of `rotate --database`, over a small
//! client of our own (wire protocol 3.0, SCRAM-SHA-256, TLS through rustls): tokio-postgres
//! would add megabytes to a binary copied into every pod, for four kinds of statement.
//!
//! Every connection is fresh and lives for one step, all of it before the rotation's deadline.

mod channel_binding;
mod connect;
mod errors;
pub(crate) mod replay; // `pub(crate)`: the fuzz target's way in
mod saslprep;
mod scram;
#[cfg(test)]
mod scram_differential;
mod session;
mod setup;
mod sql;
mod tls;
mod wire;

use async_trait::async_trait;
use tokio::time::Instant;

use super::external::{Accepted, Candidates, Credential, ExternalSystem, StepError};
use crate::config::{DatabaseSettings, Strategy};
use crate::problem::Problem;
use crate::secret::SecretString;
use connect::Target;
use errors::Doing;
use session::Session;
use wire::WireError;

pub use setup::setup_sql;

/// `postgresql cronos_user@db:5432/cronos_ai`, for plans, audit events and messages.
pub fn describe(settings: &DatabaseSettings) -> String {
    format!(
        "postgresql {}@{}:{}/{}",
        settings.role, settings.host, settings.port, settings.dbname
    )
}

pub struct Postgres {
    settings: DatabaseSettings,
    admin_password: SecretString,
    deadline: Instant,
}

impl Postgres {
    pub fn new(
        settings: DatabaseSettings,
        admin_password: SecretString,
        deadline: Instant,
    ) -> Postgres {
        if let Some(warning) = tls::unverified_warning(&settings) {
            tracing::warn!("{warning}");
        }
        Postgres {
            settings,
            admin_password,
            deadline,
        }
    }

    /// The role a credential logs in as: one the config names, never one a pending slot
    /// names on its own (an `ALTER ROLE` of the admin would hand its login to whoever wrote
    /// the slot).
    fn role_of<'a>(&'a self, credential: &'a Credential) -> Result<&'a str, StepError> {
        let Some(username) = credential.username.as_deref() else {
            return Ok(&self.settings.role);
        };
        if self.users().iter().any(|user| user == username) {
            return Ok(username);
        }
        Err(StepError::Failed(
            Problem::new(
                self.describe(),
                format!(
                    "refusing the login role {}: the config names only {}",
                    crate::untrusted_text::escaped(username),
                    self.users().join(" and ")
                ),
            )
            .with_hint("the role comes from rotation.database (role, alternate_role); inspect the pending slot, then rotate --abort")
            .to_string(),
        ))
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
        errors::failed(&self.describe(), &self.settings.dbname, doing, error)
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
}

#[async_trait]
impl ExternalSystem for Postgres {
    fn describe(&self) -> String {
        describe(&self.settings)
    }

    fn users(&self) -> Vec<String> {
        let mut users = vec![self.settings.role.clone()];
        if self.settings.strategy == Strategy::Alternating {
            users.push(self.settings.alternate_role.clone());
        }
        users
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
                let user = self.role_of(credential)?;
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
            let role = self.role_of(pending)?;
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
            let user = self.role_of(pending)?;
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
