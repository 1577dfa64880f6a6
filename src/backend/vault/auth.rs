//! Logging in to Vault (AppRole, Kubernetes, JWT) and revoking what we obtained.
//!
//! A login is `POST auth/<mount>/login` with a small JSON body, answered with
//! `auth.client_token`; revocation is `POST auth/token/revoke-self`. Both go through the
//! backend's own [`Http`], so they share the launch's connection pool, TLS settings,
//! namespace, redirect rule, answer size limit, retries and deadline with the reads.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::address::display_address;
use super::auth_settings::{Auth, read_credential_file};
use super::http::{Http, HttpFailure};
use super::settings::EffectiveSettings;
use crate::backend::{FetchError, FetchErrorKind};
use crate::secret::SecretString;

/// Revocation runs after the reads; when the launch's deadline has passed by then, it still
/// gets this long before the launch goes on without it.
const REVOKE_FLOOR: Duration = Duration::from_secs(2);

/// A token, and how long it lives when it was obtained by login (its lease).
pub struct Login {
    pub token: SecretString,
    pub lease: Option<Duration>,
}

/// The token for this launch: the configured one, or one obtained by logging in.
pub async fn token(settings: &EffectiveSettings, http: &Http) -> Result<Login, FetchError> {
    let (mount, body) = match &settings.auth {
        Auth::Token(token) => {
            return Ok(Login {
                token: token.clone(),
                lease: None,
            });
        }
        Auth::AppRole {
            mount,
            role_id,
            secret_id,
        } => (
            mount,
            json!({ "role_id": text(role_id, "role_id")?, "secret_id": text(secret_id, "secret_id")? }),
        ),
        Auth::Kubernetes {
            mount,
            role,
            jwt_file,
        } => (
            mount,
            json!({ "role": role, "jwt": read_jwt(jwt_file, http.deadline()).await? }),
        ),
        Auth::Jwt {
            mount,
            role,
            jwt_file,
        } => {
            let mut body = json!({ "jwt": read_jwt(jwt_file, http.deadline()).await? });
            if let Some(role) = role {
                body["role"] = Value::String(role.clone());
            }
            (mount, body)
        }
    };
    let answer = http
        .send(
            Method::POST,
            &format!("auth/{mount}/login"),
            &[],
            None,
            Some(&body),
        )
        .await
        .map_err(|failure| login_failed(settings, http, &failure))?;
    match answer.pointer("/auth/client_token").and_then(Value::as_str) {
        Some(token) if !token.is_empty() => {
            tracing::debug!(method = %settings.auth.describe(), "logged in to vault");
            let lease = answer
                .pointer("/auth/lease_duration")
                .and_then(Value::as_u64)
                .filter(|seconds| *seconds > 0)
                .map(Duration::from_secs);
            Ok(Login {
                token: SecretString::from(token),
                lease,
            })
        }
        _ => Err(FetchError::new(
            FetchErrorKind::Invalid,
            format!(
                "Vault login ({}) answered without auth.client_token",
                settings.auth.describe()
            ),
        )
        .with_hint("check that VAULT_ADDR points at Vault and the auth mount is a login method")),
    }
}

/// Revokes a token obtained by login, so no live credential outlives the launch. Bounded by
/// the launch's deadline, or [`REVOKE_FLOOR`] from now if that has passed: a revocation
/// that never answers must not hold the launch.
pub async fn revoke(http: &Http, token: &SecretString) -> Result<(), FetchError> {
    let deadline = http.deadline().max(Instant::now() + REVOKE_FLOOR);
    http.send_until(
        deadline,
        Method::POST,
        "auth/token/revoke-self",
        &[],
        Some(token),
        None,
    )
    .await
    .map(|_| ())
    .map_err(|failure| {
        FetchError::new(
            FetchErrorKind::Unavailable,
            format!(
                "could not revoke the Vault token obtained by login: {}",
                failure.reason(http.address())
            ),
        )
        .with_hint("the token expires with its TTL; check the auth method's token_ttl")
    })
}

fn text(secret: &SecretString, what: &str) -> Result<String, FetchError> {
    secret.expose_str().map(str::to_string).ok_or_else(|| {
        FetchError::new(
            FetchErrorKind::Invalid,
            format!("the Vault {what} is not valid UTF-8"),
        )
    })
}

/// The service-account or workload JWT: a regular file, read before the deadline (a FIFO or a
/// hung CSI mount is an error, not a hang).
async fn read_jwt(path: &std::path::Path, deadline: Instant) -> Result<String, FetchError> {
    let jwt = read_credential_file(path, deadline)
        .await
        .map_err(|error| {
            FetchError::new(
                FetchErrorKind::Invalid,
                format!(
                    "cannot read the JWT for Vault login at {}: the file {error}",
                    path.display()
                ),
            )
            .with_hint(error.hint().unwrap_or_else(|| {
                "mount the service-account token there, or set secrets_manager.vault_auth.jwt_file"
                    .to_string()
            }))
        })?;
    text(&jwt, "JWT").map(|jwt| jwt.trim().to_string())
}

fn login_failed(settings: &EffectiveSettings, http: &Http, failure: &HttpFailure) -> FetchError {
    let hint = match (failure.hint(), &settings.auth) {
        (Some(hint), _) => hint,
        (None, Auth::AppRole { .. }) => {
            "check VAULT_ROLE_ID / VAULT_SECRET_ID (a secret_id may be used up or expired) and the AppRole mount"
        }
        (None, Auth::Kubernetes { .. }) => {
            "check the role's bound_service_account_names/namespaces and the auth method's kubernetes_host"
        }
        (None, Auth::Jwt { .. }) => {
            "check the role's bound_audiences/claims and the JWT's expiry and signature key"
        }
        (None, Auth::Token(_)) => "check VAULT_TOKEN",
    };
    let kind = match failure {
        HttpFailure::Status { .. } => FetchErrorKind::Denied,
        _ => FetchErrorKind::Unavailable,
    };
    // Unreachable, redirect and size failures name the address themselves.
    let at = match failure {
        HttpFailure::Status { .. } | HttpFailure::Malformed { .. } => {
            format!(" at {}", display_address(&settings.address))
        }
        _ => String::new(),
    };
    FetchError::new(
        kind,
        format!(
            "Vault authentication failed ({}){at}: {}",
            settings.auth.describe(),
            failure.reason(http.address())
        ),
    )
    .with_hint(hint)
}
