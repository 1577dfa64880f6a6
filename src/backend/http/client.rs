//! Requests to a secrets server: one connection pool per launch, TLS from `crate::tls`, one
//! redirect rule ([`Redirects`]), answers of at most [`RESPONSE_LIMIT`], and retries for
//! connection errors, 429 (honouring Retry-After) and 5xx with jittered backoff, all within
//! the launch's deadline. Other answers (400, 401, 403, 404 …) go back to the caller at once:
//! a typo costs milliseconds.
//!
//! [`RESPONSE_LIMIT`]: crate::bounded::RESPONSE_LIMIT

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::failure::{Failure, refused_redirect};
use super::redirect::{self, Redirects};
use super::retry::{BodyError, backoff, chain, is_retryable, is_tls, read_body, retry_after};
use crate::backend::call_deadline;

/// The least time left for one more attempt after a backoff.
const LAST_ATTEMPT: Duration = Duration::from_millis(250);

/// How a client is built.
pub struct Settings {
    /// Who answers, in debug logs ("vault asked to retry").
    pub server: &'static str,
    pub redirects: Redirects,
    /// The TLS set-up (`crate::tls`); `None` for a plain-HTTP address, which needs no roots.
    pub tls: Option<rustls::ClientConfig>,
    /// Idle connections kept per host: the launch's concurrency.
    pub max_idle: usize,
}

pub struct Client {
    client: reqwest::Client,
    server: &'static str,
    deadline: Instant,
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

/// How long to keep trying.
#[derive(Clone, Copy)]
pub enum Patience {
    /// Until the launch's deadline.
    Deadline,
    /// Until another deadline (token revocation after the launch's has passed).
    Until(Instant),
    /// A probe (Azure's IMDS): an attempt gets at most this long, and no answer at all is final
    /// (off Azure, nothing listens at 169.254.169.254 and the launch must fail fast).
    Probe(Duration),
}

impl Client {
    pub fn new(settings: Settings, deadline: Instant) -> Result<Client, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .pool_max_idle_per_host(settings.max_idle)
            .redirect(redirect::policy(settings.redirects))
            .referer(false)
            .user_agent(concat!("cronos-secrets/", env!("CARGO_PKG_VERSION")));
        builder = match settings.tls {
            Some(mut tls) => {
                // What reqwest offers itself without HTTP/2.
                tls.alpn_protocols = vec![b"http/1.1".to_vec()];
                builder.tls_backend_preconfigured(tls)
            }
            // Loading trust roots costs milliseconds; plain HTTP needs none.
            None => builder.tls_certs_only(Vec::new()),
        };
        Ok(Client {
            client: builder.build()?,
            server: settings.server,
            deadline,
        })
    }

    /// The deadline of the call being served (see `call_deadline`), else the launch's.
    pub fn deadline(&self) -> Instant {
        call_deadline::current(self.deadline)
    }

    /// Sends the request `build` makes (again for each attempt) until an answer that is not
    /// retried, a failure, or the end of `patience`.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        patience: Patience,
    ) -> Result<Answer, Failure> {
        let deadline = match patience {
            Patience::Until(deadline) => deadline,
            Patience::Deadline | Patience::Probe(_) => self.deadline(),
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let limit = match patience {
                Patience::Probe(probe) => remaining.min(probe),
                Patience::Deadline | Patience::Until(_) => remaining,
            };
            let request = build(&self.client).timeout(limit.max(Duration::from_millis(1)));
            // Errors drop the URL: it may hold the address's user and password, and the
            // backends' messages name the address themselves, redacted.
            let (reason, wait) = match request.send().await {
                Ok(response) if response.status().is_redirection() => {
                    return Err(refused_redirect(&response));
                }
                Ok(response) if is_retryable(response.status()) => {
                    let status = response.status().as_u16();
                    tracing::debug!(attempt, status, "{} asked to retry", self.server);
                    // Clients told the same Retry-After instant spread over the next window.
                    let wait =
                        retry_after(response.headers()).unwrap_or_default() + backoff(attempt);
                    (format!("kept answering {status}"), wait)
                }
                Ok(response) => return read(response).await,
                Err(error) if is_tls(&error) => {
                    return Err(Failure::Tls {
                        reason: chain(&error.without_url()),
                    });
                }
                Err(error) => {
                    let reason = if error.is_timeout() {
                        format!("no answer within {:.1}s", limit.as_secs_f64())
                    } else {
                        chain(&error.without_url())
                    };
                    if let Patience::Probe(_) = patience {
                        return Err(Failure::Unreachable {
                            reason,
                            attempts: attempt,
                        });
                    }
                    tracing::debug!(attempt, reason = %reason, "{} request failed; retrying", self.server);
                    (reason, backoff(attempt))
                }
            };
            // Another attempt needs time to answer: one begun in the deadline's last moments
            // would be cut off by the launch's own timeout, which says "timed out" where this
            // says why (refused, kept answering 503).
            if Instant::now() + wait + LAST_ATTEMPT >= deadline {
                return Err(Failure::Unreachable {
                    reason,
                    attempts: attempt,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// Reads the body, at most [`RESPONSE_LIMIT`](crate::bounded::RESPONSE_LIMIT) bytes, as it
/// streams in.
async fn read(mut response: reqwest::Response) -> Result<Answer, Failure> {
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let body = read_body(&mut response)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => Failure::TooLarge,
            BodyError::Broken(error) => Failure::BrokenOff {
                reason: chain(&error.without_url()),
            },
        })?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}
