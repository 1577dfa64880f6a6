//! Key Vault's use of the shared client (`backend::http`): TLS from the built-in roots, the
//! platform's and `SSL_CERT_FILE`, no redirects (a bearer token is never forwarded), and its
//! failures in Azure's words.

use std::path::PathBuf;

use tokio::time::Instant;

pub use crate::backend::http::{Answer, Patience};
use crate::backend::http::{Client, Failure, Redirects, Settings, chain};
use crate::bounded::{RESPONSE_LIMIT, human_size};
use crate::env_vars::Environment;
use crate::problem::Problem;
use crate::tls::{self, CaFile, Trust};

const LOCATION: &str = "azure_key_vault";

pub struct Http {
    client: Client,
    ca_file: Option<PathBuf>,
}

/// Why a request got no usable answer, with the roots trusted (for TLS failures).
#[derive(Debug)]
pub struct HttpFailure {
    failure: Failure,
    roots: String,
}

impl HttpFailure {
    /// What went wrong talking to `target` (a host), for messages.
    pub fn describe(&self, target: &str) -> String {
        match &self.failure {
            Failure::Unreachable { reason, attempts } => unreachable(target, reason, *attempts),
            Failure::BrokenOff { reason } => {
                unreachable(target, &format!("the answer broke off: {reason}"), 1)
            }
            Failure::Tls { reason } => format!(
                "TLS failure talking to {target}: {reason} (trusting {})",
                self.roots
            ),
            Failure::Redirect { status, target: to } => format!(
                "{target} answered {status}, a redirect to {}, which is not followed (a token is never sent to another host)",
                to.as_ref()
                    .and_then(|url| url.host_str())
                    .unwrap_or("another location")
            ),
            Failure::TooLarge => format!(
                "{target} sent an answer larger than {}",
                human_size(RESPONSE_LIMIT as u64)
            ),
        }
    }

    pub fn hint(&self) -> &'static str {
        match self.failure {
            Failure::Unreachable { .. } | Failure::BrokenOff { .. } => {
                "check the URL and the network path (DNS, firewall, proxy), or raise --timeout"
            }
            Failure::Tls { .. } => {
                "a private CA (private endpoint, TLS-inspecting proxy) is trusted through SSL_CERT_FILE=/path/to/ca.pem"
            }
            Failure::Redirect { .. } => {
                "use the vault's own URL (https://NAME.vault.azure.net), not an alias that redirects"
            }
            Failure::TooLarge => "check that the URL points at Key Vault or Entra ID",
        }
    }
}

fn unreachable(target: &str, reason: &str, attempts: u32) -> String {
    format!(
        "no answer from {target}: {reason} (gave up after {attempts} attempt{})",
        if attempts == 1 { "" } else { "s" }
    )
}

impl Http {
    /// The launch's client. It trusts the platform's roots, the built-in ones and
    /// `SSL_CERT_FILE` together: a private endpoint's CA must not cost the public token
    /// endpoint its trust. The file is read within `deadline`.
    pub async fn new(
        env: &Environment,
        deadline: Instant,
        max_idle: usize,
    ) -> Result<Http, Problem> {
        let ca_file = env
            .get_str("SSL_CERT_FILE")
            .filter(|text| !text.is_empty())
            .map(PathBuf::from);
        let extra = ca_file.as_deref().map(|path| CaFile {
            path,
            setting: "SSL_CERT_FILE",
        });
        let tls = tls::client_config(Trust::Public { extra }, deadline)
            .await
            .map_err(|error| {
                let hint = error.hint().unwrap_or_else(|| {
                    "point SSL_CERT_FILE at a PEM file of the CA that signs the private endpoint's certificate (-----BEGIN CERTIFICATE-----)".into()
                });
                Problem::new(LOCATION, error.to_string()).with_hint(hint)
            })?;
        let settings = Settings {
            server: "Azure",
            redirects: Redirects::None,
            tls: Some(tls),
            max_idle,
        };
        let client = Client::new(settings, deadline).map_err(|error| {
            Problem::new(
                LOCATION,
                format!("cannot set up the HTTP client: {}", chain(&error)),
            )
        })?;
        Ok(Http { client, ca_file })
    }

    pub fn deadline(&self) -> Instant {
        self.client.deadline()
    }

    /// Sends the request `build` makes (again for each attempt) until an answer that is not
    /// retried, a failure, or the deadline.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        patience: Patience,
    ) -> Result<Answer, HttpFailure> {
        self.client
            .send(build, patience)
            .await
            .map_err(|failure| HttpFailure {
                failure,
                roots: match &self.ca_file {
                    Some(file) => {
                        format!("the built-in CA roots and SSL_CERT_FILE {}", file.display())
                    }
                    None => "the built-in CA roots (no SSL_CERT_FILE)".to_string(),
                },
            })
    }
}
