//! Why a Vault request failed for good, in words: each names the address (without
//! credentials) and, where one helps, says what to do.

use url::Url;

use super::address::{display_address, display_origin};
use crate::backend::http::{Failure, MAX_HOPS};
use crate::bounded::{self, RESPONSE_LIMIT};

/// Why a request failed for good.
#[derive(Debug)]
pub enum HttpFailure {
    /// Vault answered with an error status; `errors` is Vault's own list (never secret values).
    Status { status: u16, errors: Vec<String> },
    /// An answer that is not the JSON Vault sends.
    Malformed { reason: String },
    /// No usable answer: unreachable until the deadline, TLS, a redirect not followed (another
    /// origin, or too many hops), or too large. A TLS reason names the address and the roots.
    Transport(Failure),
}

impl HttpFailure {
    /// What went wrong talking to Vault at `vault` (the configured address), for messages
    /// that add what was being done.
    pub fn reason(&self, vault: &Url) -> String {
        let address = display_address(vault);
        match self {
            HttpFailure::Status { status, errors } if errors.is_empty() => {
                format!("Vault answered {status}")
            }
            HttpFailure::Status { status, errors } => {
                format!("Vault answered {status}: {}", errors.join("; "))
            }
            HttpFailure::Malformed { reason } | HttpFailure::Transport(Failure::Tls { reason }) => {
                reason.clone()
            }
            HttpFailure::Transport(Failure::Unreachable { reason, attempts }) => format!(
                "cannot reach Vault at {address}: {reason} (gave up after {attempts} attempts at the deadline)"
            ),
            // `Http` reports a broken-off body as Malformed; worded alike if it ever is not.
            HttpFailure::Transport(Failure::BrokenOff { reason }) => {
                format!("cannot read Vault's answer: {reason}")
            }
            HttpFailure::Transport(Failure::TooLarge) => format!(
                "Vault's answer is larger than {}, the limit for one answer (a broken server, or something else answering at {address})",
                bounded::human_size(RESPONSE_LIMIT as u64)
            ),
            HttpFailure::Transport(Failure::Redirect { status, target }) => match target {
                Some(target) if target.origin() == vault.origin() => format!(
                    "Vault at {address} kept redirecting ({status}) within itself, more than {MAX_HOPS} times"
                ),
                _ => format!(
                    "Vault at {address} answered {status}, redirecting to {}, which was not followed: redirects are followed only to the same scheme, host and port, so that the token and request bodies go nowhere else",
                    target
                        .as_ref()
                        .map(display_origin)
                        .unwrap_or_else(|| "an unreadable Location".to_string())
                ),
            },
        }
    }

    /// The `hint:` for failures that are not about the request itself, if any.
    pub fn hint(&self) -> Option<&'static str> {
        let HttpFailure::Transport(failure) = self else {
            return None;
        };
        Some(match failure {
            Failure::Redirect { .. } => {
                "point VAULT_ADDR at the active node or at the cluster's load balancer (its api_addr), not at a standby or a proxy that redirects"
            }
            Failure::Unreachable { .. } | Failure::BrokenOff { .. } => {
                "check VAULT_ADDR and that Vault is up and unsealed, or raise --timeout"
            }
            Failure::Tls { .. } => {
                "set VAULT_CACERT to the PEM file of the CA that signed Vault's certificate"
            }
            Failure::TooLarge => "check that VAULT_ADDR points at Vault itself",
        })
    }
}
