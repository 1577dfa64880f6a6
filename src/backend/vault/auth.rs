//! Logging in to Vault with vaultrs (AppRole, Kubernetes, JWT) and revoking what we obtained.
//!
//! vaultrs runs on the backend's own HTTP client, so a login shares the launch's connection
//! pool, TLS settings and namespace.

use vaultrs::client::{VaultClient, VaultClientSettings};
use vaultrs::error::ClientError;

use super::http::{Http, backoff, chain};
use super::settings::{Auth, Resolved};
use crate::backend::{FetchError, FetchErrorKind};
use crate::secret::SecretString;

/// The token for this launch: the configured one, or one obtained by logging in.
pub async fn token(settings: &Resolved, http: &Http) -> Result<SecretString, FetchError> {
    let (mount, login): (&str, Login) = match &settings.auth {
        Auth::Token(token) => return Ok(token.clone()),
        Auth::AppRole {
            mount,
            role_id,
            secret_id,
        } => (
            mount,
            Login::AppRole {
                role_id: text(role_id, "role_id")?,
                secret_id: text(secret_id, "secret_id")?,
            },
        ),
        Auth::Kubernetes {
            mount,
            role,
            jwt_file,
        } => (
            mount,
            Login::Kubernetes {
                role: role.clone(),
                jwt: read_jwt(jwt_file)?,
            },
        ),
        Auth::Jwt {
            mount,
            role,
            jwt_file,
        } => (
            mount,
            Login::Jwt {
                role: role.clone(),
                jwt: read_jwt(jwt_file)?,
            },
        ),
    };
    let client = vaultrs_client(settings, http, "")?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = match &login {
            Login::AppRole { role_id, secret_id } => {
                vaultrs::auth::approle::login(&client, mount, role_id, secret_id).await
            }
            Login::Kubernetes { role, jwt } => {
                vaultrs::auth::kubernetes::login(&client, mount, role, jwt).await
            }
            Login::Jwt { role, jwt } => {
                vaultrs::auth::oidc::login(&client, mount, jwt, role.clone()).await
            }
        };
        let error = match result {
            Ok(auth) => {
                tracing::debug!(method = %settings.auth.describe(), "logged in to vault");
                return Ok(SecretString::from(auth.client_token));
            }
            Err(error) => error,
        };
        let wait = backoff(attempt);
        if !is_transient(&error) || wait >= http.remaining() {
            return Err(login_failed(settings, &error));
        }
        tokio::time::sleep(wait).await;
    }
}

/// Revokes a token obtained by login, so no live credential outlives the launch.
pub async fn revoke(
    settings: &Resolved,
    http: &Http,
    token: &SecretString,
) -> Result<(), FetchError> {
    let token = text(token, "token")?;
    let client = vaultrs_client(settings, http, &token)?;
    vaultrs::token::revoke_self(&client).await.map_err(|error| {
        FetchError::new(
            FetchErrorKind::Unavailable,
            format!(
                "could not revoke the Vault token obtained by login: {}",
                describe(&error)
            ),
        )
        .with_hint("the token expires with its TTL; check the auth method's token_ttl")
    })
}

enum Login {
    AppRole { role_id: String, secret_id: String },
    Kubernetes { role: String, jwt: String },
    Jwt { role: Option<String>, jwt: String },
}

fn vaultrs_client(
    settings: &Resolved,
    http: &Http,
    token: &str,
) -> Result<VaultClient, FetchError> {
    let address = settings.address.as_str().trim_end_matches('/');
    Ok(VaultClient {
        http: rustify::clients::reqwest::Client::new(address, http.client.clone()),
        middle: vaultrs::api::EndpointMiddleware {
            token: token.to_string(),
            version: "v1".to_string(),
            wrap: None,
            namespace: settings.namespace.clone(),
        },
        settings: VaultClientSettings {
            address: settings.address.clone(),
            ca_certs: Vec::new(),
            identity: None,
            timeout: None,
            token: token.to_string(),
            verify: !settings.skip_verify,
            version: 1,
            wrapping: false,
            namespace: settings.namespace.clone(),
            proxy: None,
        },
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

fn read_jwt(path: &std::path::Path) -> Result<String, FetchError> {
    let bytes = std::fs::read(path).map_err(|error| {
        FetchError::new(
            FetchErrorKind::Invalid,
            format!(
                "cannot read the JWT for Vault login at {}: {error}",
                path.display()
            ),
        )
        .with_hint(
            "mount the service-account token there, or set secrets_manager.vault_auth.jwt_file",
        )
    })?;
    let jwt = SecretString::new(bytes).trim_one_trailing_newline();
    text(&jwt, "JWT").map(|jwt| jwt.trim().to_string())
}

fn is_transient(error: &ClientError) -> bool {
    match error {
        ClientError::APIError { code, .. } => matches!(code, 429 | 500 | 502 | 503 | 504),
        ClientError::RestClientError { .. } => true,
        _ => false,
    }
}

fn describe(error: &ClientError) -> String {
    match error {
        ClientError::APIError { code, errors } if errors.is_empty() => {
            format!("Vault answered {code}")
        }
        ClientError::APIError { code, errors } => {
            format!("Vault answered {code}: {}", errors.join("; "))
        }
        other => chain(other),
    }
}

fn login_failed(settings: &Resolved, error: &ClientError) -> FetchError {
    let hint = match &settings.auth {
        Auth::AppRole { .. } => {
            "check VAULT_ROLE_ID / VAULT_SECRET_ID (a secret_id may be used up or expired) and the AppRole mount"
        }
        Auth::Kubernetes { .. } => {
            "check the role's bound_service_account_names/namespaces and the auth method's kubernetes_host"
        }
        Auth::Jwt { .. } => {
            "check the role's bound_audiences/claims and the JWT's expiry and signature key"
        }
        Auth::Token(_) => "check VAULT_TOKEN",
    };
    FetchError::new(
        FetchErrorKind::Denied,
        format!(
            "Vault authentication failed ({}) at {}: {}",
            settings.auth.describe(),
            settings.address,
            describe(error)
        ),
    )
    .with_hint(hint)
}
