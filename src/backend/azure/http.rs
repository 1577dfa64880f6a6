//! Requests to Key Vault and to the token endpoints: one connection pool per launch, TLS from
//! the built-in roots plus `SSL_CERT_FILE`, no redirects (a bearer token is never forwarded),
//! bodies capped at [`RESPONSE_LIMIT`], retries for connection errors, 429 (honouring
//! Retry-After) and 5xx with jittered backoff, all within the launch's deadline. Other answers
//! (401, 403, 404 …) go back to the caller at once: a typo costs milliseconds.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::backend::retry::{
    BodyError, backoff, chain, is_retryable, is_tls, read_body, retry_after,
};
use crate::backend::tls;
use crate::bounded::{RESPONSE_LIMIT, human_size};
use crate::env_vars::Environment;
use crate::problem::Problem;

pub struct Http {
    client: reqwest::Client,
    deadline: Instant,
    ca_file: Option<PathBuf>,
}

/// A complete answer (any status that is not retried).
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

// Bodies hold secret values and tokens.
impl Drop for Answer {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.body);
    }
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

/// Why a request got no usable answer.
#[derive(Debug)]
pub enum HttpFailure {
    /// No answer, or only 429/5xx, until the deadline (or the probe's limit).
    Unreachable {
        reason: String,
        attempts: u32,
    },
    /// TLS handshake or certificate problem: retrying cannot help.
    Tls {
        reason: String,
    },
    /// A 3xx: followed by nobody, because it would carry the token elsewhere.
    Redirect {
        status: u16,
        location: String,
    },
    TooLarge,
}

impl HttpFailure {
    /// What went wrong talking to `target` (a host), for messages.
    pub fn describe(&self, target: &str) -> String {
        match self {
            HttpFailure::Unreachable { reason, attempts } => format!(
                "no answer from {target}: {reason} (gave up after {attempts} attempt{})",
                if *attempts == 1 { "" } else { "s" }
            ),
            HttpFailure::Tls { reason } => format!("TLS failure talking to {target}: {reason}"),
            HttpFailure::Redirect { status, location } => format!(
                "{target} answered {status}, a redirect to {location}, which is not followed (a token is never sent to another host)"
            ),
            HttpFailure::TooLarge => format!(
                "{target} sent an answer larger than {}",
                human_size(RESPONSE_LIMIT as u64)
            ),
        }
    }

    pub fn hint(&self) -> &'static str {
        match self {
            HttpFailure::Unreachable { .. } => {
                "check the URL and the network path (DNS, firewall, proxy), or raise --timeout"
            }
            HttpFailure::Tls { .. } => {
                "a private CA (private endpoint, TLS-inspecting proxy) is trusted through SSL_CERT_FILE=/path/to/ca.pem"
            }
            HttpFailure::Redirect { .. } => {
                "use the vault's own URL (https://NAME.vault.azure.net), not an alias that redirects"
            }
            HttpFailure::TooLarge => "check that the URL points at Key Vault or Entra ID",
        }
    }
}

/// How many times to try.
#[derive(Clone, Copy)]
pub enum Patience {
    /// Until the launch's deadline.
    Deadline,
    /// The IMDS probe: an attempt gets at most this long, and no answer at all is final (off
    /// Azure, nothing listens at 169.254.169.254 and the launch must fail fast).
    Probe(Duration),
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
        let mut certificates: Vec<reqwest::Certificate> = tls::builtin_roots().collect();
        if let Some(ca_file) = &ca_file {
            certificates.extend(
                tls::read_bundle(
                    ca_file,
                    "SSL_CERT_FILE",
                    deadline,
                    "point SSL_CERT_FILE at a PEM file of the CA that signs the private endpoint's certificate",
                )
                .await?,
            );
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(max_idle)
            .user_agent(concat!("cronos-secrets/", env!("CARGO_PKG_VERSION")))
            .tls_certs_merge(certificates)
            .build()
            .map_err(|error| {
                Problem::new(
                    "azure_key_vault",
                    format!("cannot set up the HTTP client: {}", chain(&error)),
                )
            })?;
        Ok(Http {
            client,
            deadline,
            ca_file,
        })
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Sends the request `build` makes (again for each attempt) until an answer that is not
    /// retried, a failure, or the deadline.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        patience: Patience,
    ) -> Result<Answer, HttpFailure> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let limit = match patience {
                Patience::Deadline => self.remaining(),
                Patience::Probe(probe) => self.remaining().min(probe),
            };
            let request = build(&self.client).timeout(limit.max(Duration::from_millis(1)));
            // Without the URL: messages name the host, and a vault's challenge URL names the
            // first secret asked, whose name would otherwise appear in every secret's failure.
            let sent = request.send().await.map_err(reqwest::Error::without_url);
            let (reason, wait) = match sent {
                Ok(response) if response.status().is_redirection() => {
                    let location = response
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|value| value.to_str().ok())
                        .and_then(|text| url::Url::parse(text).ok())
                        .and_then(|url| url.host_str().map(str::to_string))
                        .unwrap_or_else(|| "another location".to_string());
                    return Err(HttpFailure::Redirect {
                        status: response.status().as_u16(),
                        location,
                    });
                }
                Ok(response) if is_retryable(response.status()) => {
                    let status = response.status().as_u16();
                    tracing::debug!(attempt, status, "Azure asked to retry");
                    // Clients told the same Retry-After instant spread over the next window.
                    let wait =
                        retry_after(response.headers()).unwrap_or_default() + backoff(attempt);
                    (format!("kept answering {status}"), wait)
                }
                Ok(response) => return read(response).await,
                Err(error) if is_tls(&error) => {
                    return Err(HttpFailure::Tls {
                        reason: self.tls_reason(&error),
                    });
                }
                Err(error) => {
                    let reason = if error.is_timeout() {
                        format!("no answer within {:.1}s", limit.as_secs_f64())
                    } else {
                        chain(&error)
                    };
                    if let Patience::Probe(_) = patience {
                        return Err(HttpFailure::Unreachable {
                            reason,
                            attempts: attempt,
                        });
                    }
                    tracing::debug!(attempt, reason = %reason, "Azure request failed; retrying");
                    (reason, backoff(attempt))
                }
            };
            if Instant::now() + wait >= self.deadline {
                return Err(HttpFailure::Unreachable {
                    reason,
                    attempts: attempt,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn tls_reason(&self, error: &reqwest::Error) -> String {
        let roots = match &self.ca_file {
            Some(file) => format!("the built-in CA roots and SSL_CERT_FILE {}", file.display()),
            None => "the built-in CA roots (no SSL_CERT_FILE)".to_string(),
        };
        format!("{} (trusting {roots})", chain(error))
    }
}

/// Reads the body, at most [`RESPONSE_LIMIT`] bytes, as it streams in.
async fn read(mut response: reqwest::Response) -> Result<Answer, HttpFailure> {
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let body = read_body(&mut response)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => HttpFailure::TooLarge,
            BodyError::Broken(error) => HttpFailure::Unreachable {
                reason: format!("the answer broke off: {}", chain(&error)),
                attempts: 1,
            },
        })?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}
