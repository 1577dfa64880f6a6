//! Why a Vault request failed for good, in words: each names the address (without
//! credentials) and, where one helps, says what to do.

use url::Url;

use super::address::{display_address, display_origin};
use super::redirect;
use crate::bounded::{self, RESPONSE_LIMIT};

/// Why a request failed for good.
#[derive(Debug)]
pub enum HttpFailure {
    /// Vault answered with an error status; `errors` is Vault's own list (never secret values).
    Status { status: u16, errors: Vec<String> },
    /// No answer: connection refused, reset, timed out … after retrying until the deadline.
    Unreachable { reason: String, attempts: u32 },
    /// TLS handshake or certificate problem: retrying cannot help.
    Tls { reason: String },
    /// An answer that is not the JSON Vault sends.
    Malformed { reason: String },
    /// An answer larger than [`RESPONSE_LIMIT`]: refused before it is buffered.
    TooLarge,
    /// A redirect the client did not follow (another origin, or too many hops); `target` is
    /// the origin it pointed to (`http://127.0.0.2:8200`), without path or credentials.
    Redirect { status: u16, target: String },
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
            HttpFailure::Unreachable { reason, attempts } => format!(
                "cannot reach Vault at {address}: {reason} (gave up after {attempts} attempts at the deadline)"
            ),
            HttpFailure::Tls { reason } | HttpFailure::Malformed { reason } => reason.clone(),
            HttpFailure::TooLarge => format!(
                "Vault's answer is larger than {}, the limit for one answer (a broken server, or something else answering at {address})",
                bounded::human_size(RESPONSE_LIMIT as u64)
            ),
            HttpFailure::Redirect { status, target } if *target == display_origin(vault) => {
                format!(
                    "Vault at {address} kept redirecting ({status}) within itself, more than {} times",
                    redirect::MAX_HOPS
                )
            }
            HttpFailure::Redirect { status, target } => format!(
                "Vault at {address} answered {status}, redirecting to {target}, which was not followed: redirects are followed only to the same scheme, host and port, so that the token and request bodies go nowhere else"
            ),
        }
    }

    /// The `hint:` for failures that are not about the request itself, if any.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            HttpFailure::Redirect { .. } => Some(
                "point VAULT_ADDR at the active node or at the cluster's load balancer (its api_addr), not at a standby or a proxy that redirects",
            ),
            HttpFailure::Unreachable { .. } => {
                Some("check VAULT_ADDR and that Vault is up and unsealed, or raise --timeout")
            }
            HttpFailure::Tls { .. } => {
                Some("set VAULT_CACERT to the PEM file of the CA that signed Vault's certificate")
            }
            HttpFailure::TooLarge => Some("check that VAULT_ADDR points at Vault itself"),
            HttpFailure::Status { .. } | HttpFailure::Malformed { .. } => None,
        }
    }
}

/// A 30x the redirect policy stopped at: where it pointed, as an origin only (a path or query
/// could hold anything).
pub fn refused_redirect(response: &reqwest::Response) -> HttpFailure {
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .and_then(|location| response.url().join(location).ok())
        .map(|target| display_origin(&target))
        .unwrap_or_else(|| "an unreadable Location".to_string());
    HttpFailure::Redirect {
        status: response.status().as_u16(),
        target,
    }
}
