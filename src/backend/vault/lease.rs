//! Renewing and revoking the leases of dynamic secrets: `PUT sys/leases/renew` asking for
//! the lease's full duration again, and `PUT sys/leases/revoke`. The lease id travels in the
//! request body only, never in a URL (proxies log those).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::VaultBackend;
use crate::backend::{FetchError, FetchErrorKind, Lease, LeaseStore, Renewed};
use crate::untrusted_text::escaped;

#[async_trait]
impl LeaseStore for VaultBackend {
    async fn renew(&self, lease: &Lease) -> Result<Renewed, FetchError> {
        let token = self.token().await?;
        let body = json!({ "lease_id": lease.id(), "increment": lease.duration.as_secs() });
        let answer = self
            .http
            .send(
                Method::PUT,
                "sys/leases/renew",
                &[],
                Some(&token),
                Some(&body),
            )
            .await
            .map_err(|failure| failed(self, lease, "renew", &failure))?;
        let ttl = answer
            .get("lease_duration")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        Ok(Renewed {
            ttl: Duration::from_secs(ttl),
        })
    }

    async fn revoke(&self, lease: &Lease) -> Result<(), FetchError> {
        let token = self.token().await?;
        let body = json!({ "lease_id": lease.id() });
        self.http
            .send(
                Method::PUT,
                "sys/leases/revoke",
                &[],
                Some(&token),
                Some(&body),
            )
            .await
            .map(|_| ())
            .map_err(|failure| failed(self, lease, "revoke", &failure))
    }
}

fn failed(
    backend: &VaultBackend,
    lease: &Lease,
    doing: &str,
    failure: &super::http::HttpFailure,
) -> FetchError {
    use super::http::HttpFailure;
    let (kind, hint) = match failure {
        HttpFailure::Status { status: 403, .. } => (
            FetchErrorKind::Denied,
            format!(
                "the token's policies must grant update: path \"sys/leases/{doing}\" {{ capabilities = [\"update\"] }}"
            ),
        ),
        HttpFailure::Status { status, .. } if *status < 500 && *status != 429 => (
            FetchErrorKind::Invalid,
            "the lease may have ended already (its max TTL, or its parent token revoked)"
                .to_string(),
        ),
        _ => (
            FetchErrorKind::Unavailable,
            failure
                .hint()
                .unwrap_or("check that Vault is up")
                .to_string(),
        ),
    };
    FetchError::new(
        kind,
        format!(
            "cannot {doing} the lease of dynamic secret {}: {}",
            lease.secret,
            escaped(&failure.reason(backend.http.address()))
        ),
    )
    .with_hint(hint)
}
