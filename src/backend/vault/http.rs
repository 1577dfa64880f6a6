//! Requests to Vault: one connection pool per launch, retries with exponential backoff and full
//! jitter for connection errors, 429 and 5xx (honouring Retry-After), all within the launch's
//! deadline. 400, 403 and 404 are answers, not failures to retry: a typo costs milliseconds.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::settings::Resolved;
pub use crate::backend::retry::{backoff, chain};
use crate::backend::retry::{is_retryable, is_tls, retry_after};
use crate::problem::Problem;
use crate::secret::SecretString;

pub struct Http {
    pub client: reqwest::Client,
    pub address: Url,
    namespace: Option<String>,
    ca_file: Option<PathBuf>,
    deadline: Instant,
}

/// Why a request failed for good.
#[derive(Debug)]
pub enum Failure {
    /// Vault answered with an error status; `errors` is Vault's own list (never secret values).
    Status { status: u16, errors: Vec<String> },
    /// No answer: connection refused, reset, timed out … after retrying until the deadline.
    Unreachable { reason: String, attempts: u32 },
    /// TLS handshake or certificate problem: retrying cannot help.
    Tls { reason: String },
    /// An answer that is not the JSON Vault sends.
    Malformed { reason: String },
}

impl Http {
    pub fn new(settings: &Resolved, deadline: Instant) -> Result<Http, Problem> {
        let mut builder = reqwest::Client::builder()
            .pool_max_idle_per_host(settings.max_concurrency)
            .user_agent(concat!("cronos-secrets/", env!("CARGO_PKG_VERSION")));
        if settings.address.scheme() == "http" {
            // Loading trust roots costs milliseconds; plain HTTP needs none.
            builder = builder.tls_certs_only(Vec::new());
        } else if let Some(ca_file) = &settings.ca_file {
            let pem = std::fs::read(ca_file).map_err(|error| {
                Problem::new(
                    ca_file.display().to_string(),
                    format!("cannot read VAULT_CACERT: {error}"),
                )
                .with_hint(
                    "point VAULT_CACERT at the PEM file of the CA that signed Vault's certificate",
                )
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
                Problem::new(
                    ca_file.display().to_string(),
                    format!("not a PEM certificate bundle: {error}"),
                )
                .with_hint("VAULT_CACERT must be a PEM file (-----BEGIN CERTIFICATE-----)")
            })?;
            builder = builder.tls_certs_only(certificates);
        } else {
            // Built-in roots, so a FROM scratch image reaches Vault without a CA bundle; the
            // platform's roots still count where there are any.
            let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .filter_map(|der| reqwest::Certificate::from_der(der).ok());
            builder = builder.tls_certs_merge(roots);
        }
        if settings.skip_verify {
            tracing::warn!(
                "VAULT_SKIP_VERIFY is set: Vault's TLS certificate is NOT verified; anyone on the network path can read these secrets"
            );
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder.build().map_err(|error| {
            Problem::new(
                "vault",
                format!("cannot set up the HTTP client: {}", chain(&error)),
            )
        })?;
        Ok(Http {
            client,
            address: settings.address.clone(),
            namespace: settings.namespace.clone(),
            ca_file: settings.ca_file.clone(),
            deadline,
        })
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Sends `method /v1/{path}` until it succeeds, fails for good, or the deadline comes.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let url = format!(
            "{}/v1/{}",
            self.address.as_str().trim_end_matches('/'),
            path
        );
        let mut attempt = 0u32;
        let mut last_reason;
        loop {
            attempt += 1;
            let mut request = self
                .client
                .request(method.clone(), &url)
                .timeout(self.remaining().max(Duration::from_millis(1)));
            if let Some(token) = token {
                let mut header =
                    reqwest::header::HeaderValue::from_bytes(token.expose()).map_err(|_| {
                        Failure::Malformed {
                            reason:
                                "the Vault token contains characters not allowed in an HTTP header"
                                    .into(),
                        }
                    })?;
                header.set_sensitive(true);
                request = request.header("X-Vault-Token", header);
            }
            if let Some(namespace) = &self.namespace {
                request = request.header("X-Vault-Namespace", namespace);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let wait = match request.send().await {
                Ok(response) if is_retryable(response.status()) => {
                    last_reason = format!("Vault kept answering {}", response.status());
                    tracing::debug!(
                        attempt,
                        status = response.status().as_u16(),
                        "vault asked to retry"
                    );
                    // Clients told the same Retry-After instant spread over the next window.
                    retry_after(response.headers()).unwrap_or_default() + backoff(attempt)
                }
                Ok(response) => return parse(response.status(), response).await,
                Err(error) if is_tls(&error) => {
                    return Err(Failure::Tls {
                        reason: self.tls_reason(&error),
                    });
                }
                Err(error) => {
                    last_reason = chain(&error);
                    tracing::debug!(attempt, reason = %last_reason, "vault request failed; retrying");
                    backoff(attempt)
                }
            };
            if Instant::now() + wait >= self.deadline {
                return Err(Failure::Unreachable {
                    reason: last_reason,
                    attempts: attempt,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn tls_reason(&self, error: &reqwest::Error) -> String {
        let ca = match &self.ca_file {
            Some(file) => format!("CA file {}", file.display()),
            None => "the built-in and system CA roots (no VAULT_CACERT)".to_string(),
        };
        format!(
            "TLS failure talking to {} using {ca}: {}",
            self.address,
            chain(error)
        )
    }
}

async fn parse(status: StatusCode, response: reqwest::Response) -> Result<Value, Failure> {
    let bytes = response.bytes().await.map_err(|error| Failure::Malformed {
        reason: format!("cannot read Vault's answer: {}", chain(&error)),
    })?;
    let body: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(|_| Failure::Malformed {
            reason: format!("Vault answered {status} with a body that is not JSON"),
        })?
    };
    if status.is_success() {
        return Ok(body);
    }
    let errors = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Err(Failure::Status {
        status: status.as_u16(),
        errors,
    })
}
