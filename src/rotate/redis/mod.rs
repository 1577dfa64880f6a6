//! `rotate --redis`: the *probe*, *set* and *test* steps for a Redis 6+ ACL user, over a small
//! RESP2 client of our own (the steps need six commands; no Redis crate is in the tree, and
//! the static binary has a size budget).
//!
//! Redis keeps several passwords per ACL user, so *set* leaves both the current and the
//! pending password valid: programs still holding the current one keep logging in until they
//! restart with the new one, and the next rotation drops it. `ACL SETUSER` carries only the
//! passwords' SHA-256 (`#<hex>`), so MONITOR, the slow log and the saved ACL file never hold
//! them, whatever a Redis version redacts; `AUTH` must carry a password, and Redis 6+ redacts
//! its arguments itself.

mod connection;
pub(crate) mod resp;
#[cfg(test)]
mod resp_differential;

use std::fmt::Display;
use std::sync::Arc;

use async_trait::async_trait;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::external::{Accepted, Candidates, Credential, ExternalSystem, StepError};
use crate::config::RedisSettings;
use crate::secret::SecretString;
use crate::tls::{RootsError, Trust};
use crate::untrusted_text::escaped;
use connection::{Connection, ConnectionError, Endpoint};
use resp::{Reply, error_code};

/// `redis cronos@redis:6379`, for plans, audit events and messages.
pub fn describe(settings: &RedisSettings) -> String {
    let RedisSettings {
        user, host, port, ..
    } = settings;
    format!("redis {user}@{host}:{port}")
}

pub struct Redis {
    settings: RedisSettings,
    admin_password: SecretString,
    deadline: Instant,
    /// Built on the first TLS connection and shared by the next ones (it reads `tls_ca`).
    tls: OnceCell<Arc<ClientConfig>>,
}

enum Login {
    Accepted,
    Refused,
}

impl Redis {
    pub fn new(settings: RedisSettings, admin_password: SecretString, deadline: Instant) -> Redis {
        if let Some(warning) = plaintext_warning(&settings) {
            tracing::warn!("{warning}");
        }
        Redis {
            settings,
            admin_password,
            deadline,
            tls: OnceCell::new(),
        }
    }

    fn failed(&self, what: impl Display, hint: impl Display) -> StepError {
        StepError::Failed(format!("{}: {what}\n  hint: {hint}", self.describe()))
    }

    async fn connect(&self) -> Result<Connection, StepError> {
        let settings = &self.settings;
        let tls = if settings.tls {
            let config = self
                .tls
                .get_or_try_init(|| async {
                    let trust = Trust::file_or_built_in(
                        settings.tls_ca.as_deref(),
                        "rotation.redis.tls_ca",
                    );
                    let config = crate::tls::client_config(trust, self.deadline).await?;
                    Ok::<_, RootsError>(Arc::new(config))
                })
                .await
                .map_err(|error| {
                    self.failed(
                        error,
                        "name a readable PEM file of the CA that signed the server's certificate",
                    )
                })?;
            let name = settings
                .tls_server_name
                .as_deref()
                .unwrap_or(&settings.host);
            let name = ServerName::try_from(name.to_string()).map_err(|_| {
                self.failed(
                    format_args!("{name:?} is not a DNS name or an IP address"),
                    "set rotation.redis.tls_server_name to the name in the server's certificate",
                )
            })?;
            Some((Arc::clone(config), name))
        } else {
            None
        };
        let endpoint = Endpoint {
            host: &settings.host,
            port: settings.port,
            tls,
        };
        Connection::open(endpoint, self.deadline)
            .await
            .map_err(|error| self.connection_failed(error))
    }

    fn connection_failed(&self, error: ConnectionError) -> StepError {
        let hint = match error {
            ConnectionError::Connect(_) => {
                "check rotation.redis.host and port, and that Redis listens there"
            }
            ConnectionError::Handshake(_) => {
                "check rotation.redis.tls_ca (the CA that signed the server's certificate) and tls_server_name"
            }
            ConnectionError::TimedOut => "check the network path to Redis, or raise --timeout",
            ConnectionError::Protocol(_) | ConnectionError::Io(_) | ConnectionError::Closed
                if !self.settings.tls =>
            {
                "check that host and port name a Redis server (a TLS port needs rotation.redis.tls: true)"
            }
            _ => "check that host and port name a Redis server, then run rotate --resume",
        };
        self.failed(error, hint)
    }

    async fn call(&self, connection: &mut Connection, args: &[&[u8]]) -> Result<Reply, StepError> {
        connection
            .call(args)
            .await
            .map_err(|error| self.connection_failed(error))
    }

    /// `AUTH user password`, the ACL form (Redis 6+).
    async fn login(
        &self,
        connection: &mut Connection,
        user: &str,
        password: &SecretString,
    ) -> Result<Login, StepError> {
        match self
            .call(connection, &[b"AUTH", user.as_bytes(), password.expose()])
            .await?
        {
            Reply::Status(_) => Ok(Login::Accepted),
            Reply::Error(text) if error_code(&text) == "WRONGPASS" => Ok(Login::Refused),
            // The text is not shown: it is the server's, about a command holding a password.
            Reply::Error(text) => Err(self.failed(
                format_args!("AUTH as {user} failed ({})", error_code(&text)),
                "rotate --redis needs Redis 6 or later (ACL users: AUTH user password)",
            )),
            other => Err(self.unexpected("AUTH", &other)),
        }
    }

    fn unexpected(&self, command: &str, reply: &Reply) -> StepError {
        self.failed(
            format_args!("unexpected {reply:?} to {command}"),
            "check that host and port name a Redis 6+ server",
        )
    }

    /// An error reply to an admin command whose arguments hold no value: its text is shown.
    fn admin_refused(&self, command: &str, text: &str) -> StepError {
        let admin = &self.settings.admin_user;
        if error_code(text) == "NOPERM" {
            return self.failed(
                format_args!("the admin user {admin} may not run {command} (NOPERM)"),
                format_args!("grant it the ACL commands: ACL SETUSER {admin} +acl +config|rewrite"),
            );
        }
        self.failed(
            format_args!("{command} failed: {}", escaped(text)),
            "see the Redis server's log, then run rotate --resume",
        )
    }

    async fn admin_connection(&self) -> Result<Connection, StepError> {
        let mut connection = self.connect().await?;
        let admin = &self.settings.admin_user;
        match self.login(&mut connection, admin, &self.admin_password).await? {
            Login::Accepted => Ok(connection),
            Login::Refused => Err(self.failed(
                format_args!("the admin user {admin} was refused (WRONGPASS)"),
                "check rotation.redis.admin_user and the password its admin_password reference holds",
            )),
        }
    }

    /// `ACL GETUSER`: a missing user is a setup error, not something to create silently with
    /// permissions we would have to guess.
    async fn require_user(&self, connection: &mut Connection) -> Result<(), StepError> {
        let user = &self.settings.user;
        match self
            .call(connection, &[b"ACL", b"GETUSER", user.as_bytes()])
            .await?
        {
            Reply::Array(Some(_)) => Ok(()),
            Reply::Array(None) | Reply::Bulk(None) => Err(self.failed(
                format_args!("the ACL user {user} does not exist"),
                format_args!(
                    "create it with the password the store holds now: ACL SETUSER {user} on >PASSWORD ~* +@all (then ACL SAVE), or name the right one in rotation.redis.user"
                ),
            )),
            Reply::Error(text) => Err(self.admin_refused("ACL GETUSER", &text)),
            other => Err(self.unexpected("ACL GETUSER", &other)),
        }
    }

    /// `ACL SETUSER user resetpass #sha(current) #sha(pending)`: the older password goes.
    async fn set_passwords(
        &self,
        connection: &mut Connection,
        pending: &SecretString,
        current: &SecretString,
    ) -> Result<(), StepError> {
        let user = &self.settings.user;
        let current = password_hash_rule(current);
        let pending = password_hash_rule(pending);
        let args: [&[u8]; 6] = [
            b"ACL",
            b"SETUSER",
            user.as_bytes(),
            b"resetpass",
            &current,
            &pending,
        ];
        match self.call(connection, &args).await? {
            Reply::Status(_) => Ok(()),
            // The server's text echoes the rule it refused (a hash): only the code is shown.
            Reply::Error(text) if text.starts_with("ERR Error in ACL SETUSER modifier") => {
                Err(StepError::Rejected(format!(
                    "{}: Redis refused the new password of {user} (ACL SETUSER: {})",
                    self.describe(),
                    error_code(&text)
                )))
            }
            Reply::Error(text) if error_code(&text) == "NOPERM" => {
                Err(self.admin_refused("ACL SETUSER", &text))
            }
            Reply::Error(text) => Err(self.failed(
                format_args!("ACL SETUSER {user} failed ({})", error_code(&text)),
                "see the Redis server's log, then run rotate --resume",
            )),
            other => Err(self.unexpected("ACL SETUSER", &other)),
        }
    }

    /// Writes the ACL where the server reads it at start: its ACL file, else its config file.
    async fn persist(&self, connection: &mut Connection) -> Result<(), StepError> {
        match self.call(connection, &[b"ACL", b"SAVE"]).await? {
            Reply::Status(_) => return Ok(()),
            Reply::Error(text) if text.contains("not configured to use an ACL file") => {}
            Reply::Error(text) => return Err(self.admin_refused("ACL SAVE", &text)),
            other => return Err(self.unexpected("ACL SAVE", &other)),
        }
        match self.call(connection, &[b"CONFIG", b"REWRITE"]).await? {
            Reply::Status(_) => Ok(()),
            reply => {
                let why = match &reply {
                    Reply::Error(text) => escaped(text),
                    other => format!("{other:?}"),
                };
                tracing::warn!(
                    system = %self.describe(),
                    "the new password of {} is set in memory only, lost when Redis restarts: it has no ACL file and CONFIG REWRITE failed ({why}); give it an aclfile, or set the user in its config by hand",
                    self.settings.user
                );
                Ok(())
            }
        }
    }
}

/// `AUTH` carries the passwords themselves: without TLS, to another machine, anyone on the path
/// reads them (not refused: a sidecar or a service mesh may encrypt the hop).
fn plaintext_warning(settings: &RedisSettings) -> Option<String> {
    (!settings.tls && !crate::loopback::is_loopback_host(&settings.host)).then(|| {
        format!(
            "rotation.redis.tls is false and {} is not this machine: AUTH sends the passwords of {} and {} in clear text across the network; set tls: true (and tls_ca)",
            settings.host, settings.admin_user, settings.user
        )
    })
}

#[async_trait]
impl ExternalSystem for Redis {
    fn describe(&self) -> String {
        describe(&self.settings)
    }

    fn users(&self) -> Vec<String> {
        vec![self.settings.user.clone()]
    }

    /// One connection, one `AUTH` per candidate: Redis allows logging in again.
    async fn probe(&self, candidates: &Candidates<'_>) -> Result<Accepted, StepError> {
        let mut connection = self.connect().await?;
        let user = &self.settings.user;
        let tries = [
            (Accepted::Pending, Some(candidates.pending)),
            (Accepted::Current, Some(candidates.current)),
            (Accepted::Previous, candidates.previous),
        ];
        for (which, credential) in tries {
            let Some(credential) = credential else {
                continue;
            };
            if let Login::Accepted = self
                .login(&mut connection, user, &credential.password)
                .await?
            {
                return Ok(which);
            }
        }
        Ok(Accepted::None)
    }

    /// Logs in as the admin: the user's own login may not run `ACL`.
    async fn set(&self, pending: &Credential, current: &Credential) -> Result<(), StepError> {
        let mut connection = self.admin_connection().await?;
        self.require_user(&mut connection).await?;
        self.set_passwords(&mut connection, &pending.password, &current.password)
            .await?;
        self.persist(&mut connection).await
    }

    async fn test(&self, pending: &Credential) -> Result<(), StepError> {
        let mut connection = self.connect().await?;
        let user = &self.settings.user;
        if let Login::Refused = self.login(&mut connection, user, &pending.password).await? {
            return Err(self.failed(
                format_args!("the new password of {user} was refused over a fresh connection"),
                "check that nothing else changed the user's ACL, then run rotate --resume",
            ));
        }
        match self.call(&mut connection, &[b"PING"]).await? {
            Reply::Status(text) if text == "PONG" => Ok(()),
            Reply::Error(text) => Err(self.failed(
                format_args!("PING as {user} failed: {}", escaped(&text)),
                format_args!("allow {user} to run PING (ACL SETUSER {user} +ping)"),
            )),
            other => Err(self.unexpected("PING", &other)),
        }
    }
}

/// `#` and the lowercase hex SHA-256 of the password, as `ACL SETUSER` takes a hashed one.
fn password_hash_rule(password: &SecretString) -> Zeroizing<Vec<u8>> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(password.expose());
    let mut rule = Zeroizing::new(Vec::with_capacity(65));
    rule.push(b'#');
    for byte in digest {
        rule.push(HEX[usize::from(byte >> 4)]);
        rule.push(HEX[usize::from(byte & 0x0f)]);
    }
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(host: &str, tls: bool) -> RedisSettings {
        RedisSettings {
            host: host.into(),
            port: 6379,
            admin_user: "default".into(),
            admin_password: crate::reference::Reference::parse(
                "env://REDIS_ADMIN",
                std::path::Path::new("."),
            )
            .expect("a reference"),
            user: "cronos".into(),
            tls,
            tls_ca: None,
            tls_server_name: None,
        }
    }

    #[test]
    fn auth_in_clear_text_to_another_machine_is_warned() {
        let warning = plaintext_warning(&settings("redis.internal", false));
        assert!(
            warning.is_some_and(|warning| warning.contains(
                "redis.internal is not this machine: AUTH sends the passwords of default and cronos in clear text"
            ))
        );
        assert!(plaintext_warning(&settings("redis.internal", true)).is_none());
        assert!(plaintext_warning(&settings("127.0.0.1", false)).is_none());
        assert!(plaintext_warning(&settings("localhost", false)).is_none());
    }

    #[test]
    fn hash_rule_is_redis_s_form() {
        let rule = password_hash_rule(&SecretString::new("foobar"));
        assert_eq!(
            rule.as_slice(),
            b"#c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"
        );
    }
}
