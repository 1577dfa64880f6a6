//! A token given to a watcher or to the library's manager (`VAULT_TOKEN`, `vault_token`) lives
//! as long as they do: at the first poll (the manager: its first reuse of the backend), and
//! again before a third of its remaining time has passed (every 10 minutes at most), it is
//! looked up, its time to expiry logged, and renewed (`renew-self`) once half its TTL is gone.
//! Tokens obtained by login need none of this: each poll logs in afresh and revokes after, and
//! the manager logs in again once two thirds of the lease are gone (`usable_until`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::VaultBackend;
use super::auth_settings::Auth;
use crate::secret::SecretString;

const LONGEST_BETWEEN_CHECKS: Duration = Duration::from_secs(600);

/// When each token is next checked, by its SHA-256 (never the token itself): a watcher builds
/// its backend afresh at every poll, and one process may hold managers with different tokens.
static NEXT_CHECKS: Mutex<BTreeMap<[u8; 32], std::time::Instant>> = Mutex::new(BTreeMap::new());

pub async fn check(backend: &VaultBackend, token: &SecretString) {
    if !matches!(backend.settings.auth, Auth::Token(_)) {
        return;
    }
    let key: [u8; 32] = Sha256::digest(token.expose()).into();
    let now = std::time::Instant::now();
    {
        let Ok(mut next) = NEXT_CHECKS.lock() else {
            return;
        };
        if next.get(&key).is_some_and(|next| now < *next) {
            return;
        }
        next.insert(key, now + LONGEST_BETWEEN_CHECKS);
    }
    let Some(ttl) = lookup(backend, token).await else {
        return;
    };
    let next = match ttl {
        Lifetime::Forever => {
            tracing::debug!("the Vault token has no expiry");
            LONGEST_BETWEEN_CHECKS
        }
        Lifetime::Expires {
            ttl,
            creation_ttl,
            renewable,
        } => {
            let mut left = ttl;
            tracing::info!(
                expires_in_s = ttl.as_secs(),
                renewable,
                "Vault token lifetime"
            );
            if renewable && ttl < creation_ttl / 2 {
                left = renew(backend, token).await.unwrap_or(ttl);
            } else if !renewable && ttl < Duration::from_secs(3600) {
                tracing::warn!(
                    expires_in_s = ttl.as_secs(),
                    "the Vault token cannot be renewed and expires soon: polls will then fail (the program is kept); give the watcher a login method (AppRole, Kubernetes, JWT), which logs in afresh at every poll"
                );
            }
            (left / 3).clamp(Duration::from_secs(1), LONGEST_BETWEEN_CHECKS)
        }
    };
    if let Ok(mut next_check) = NEXT_CHECKS.lock() {
        next_check.insert(key, now + next);
    }
}

enum Lifetime {
    Forever,
    Expires {
        ttl: Duration,
        creation_ttl: Duration,
        renewable: bool,
    },
}

async fn lookup(backend: &VaultBackend, token: &SecretString) -> Option<Lifetime> {
    let body = backend
        .http
        .send_until(
            deadline(backend),
            Method::GET,
            "auth/token/lookup-self",
            &[],
            Some(token),
            None,
        )
        .await
        .map_err(|failure| {
            tracing::debug!(
                "cannot look the Vault token up: {}",
                failure.reason(backend.http.address())
            )
        })
        .ok()?;
    let seconds = |pointer: &str| body.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    let ttl = seconds("/data/ttl");
    if ttl == 0 {
        return Some(Lifetime::Forever);
    }
    Some(Lifetime::Expires {
        ttl: Duration::from_secs(ttl),
        creation_ttl: Duration::from_secs(seconds("/data/creation_ttl").max(ttl)),
        renewable: body
            .pointer("/data/renewable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// The new time to expiry, or `None` (logged) when renewal failed.
async fn renew(backend: &VaultBackend, token: &SecretString) -> Option<Duration> {
    match backend
        .http
        .send_until(
            deadline(backend),
            Method::POST,
            "auth/token/renew-self",
            &[],
            Some(token),
            None,
        )
        .await
    {
        Ok(body) => {
            let ttl = body
                .pointer("/auth/lease_duration")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            tracing::info!(expires_in_s = ttl, "renewed the Vault token");
            Some(Duration::from_secs(ttl))
        }
        Err(failure) => {
            tracing::warn!(
                "cannot renew the Vault token: {}; polls fail once it expires (the program is kept)",
                failure.reason(backend.http.address())
            );
            None
        }
    }
}

/// Within the poll's deadline, and never long: the check is not worth holding a poll for.
fn deadline(backend: &VaultBackend) -> Instant {
    backend
        .http
        .deadline()
        .min(Instant::now() + Duration::from_secs(5))
}
