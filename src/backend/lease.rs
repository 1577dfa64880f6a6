//! Leases of dynamic secrets (`vault-dynamic://`): what a read obtained and for how long, and
//! the two things a holder does with one, renew it and revoke it. The lease id lets anyone
//! with the right policy end the credentials early, so it is kept out of every message.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use super::FetchError;

/// One lease: the credentials of one dynamic read.
#[derive(Clone, PartialEq, Eq)]
pub struct Lease {
    /// The declared dynamic secret it was read for (`app-db`).
    pub secret: String,
    id: String,
    /// How long it lasts from when it was read or last renewed.
    pub duration: Duration,
    pub renewable: bool,
}

impl Lease {
    pub fn new(secret: &str, id: String, duration: Duration, renewable: bool) -> Lease {
        Lease {
            secret: secret.to_string(),
            id,
            duration,
            renewable,
        }
    }

    /// The server's lease id, for the renew and revoke requests only.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `1h (renewable)`, for `check`.
    pub fn describe(&self) -> String {
        let renewable = if self.renewable {
            "renewable"
        } else {
            "not renewable"
        };
        format!(
            "lease {}, {renewable}",
            crate::duration::format_duration(self.duration)
        )
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("secret", &self.secret)
            .field("duration", &self.duration)
            .field("renewable", &self.renewable)
            .finish_non_exhaustive()
    }
}

/// What a renewal granted: the time the credentials now have left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewed {
    pub ttl: Duration,
}

/// Renewing and revoking leases (Vault's `sys/leases/renew` and `sys/leases/revoke`).
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Asks for the lease's full duration again; the server may grant less (its max TTL).
    async fn renew(&self, lease: &Lease) -> Result<Renewed, FetchError>;
    /// Ends the lease now: the engine removes the credentials (drops the database user).
    async fn revoke(&self, lease: &Lease) -> Result<(), FetchError>;
}
