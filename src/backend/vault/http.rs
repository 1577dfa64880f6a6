//! Requests to Vault: one connection pool per launch, retries with exponential backoff and full
//! jitter for connection errors, 429 and 5xx (honouring Retry-After), all within the launch's
//! deadline. 400, 403 and 404 are answers, not failures to retry: a typo costs milliseconds.
//! Logins, reads, writes and revocation all come through here: same-origin redirects only
//! (see `redirect`), answers of at most `bounded::RESPONSE_LIMIT`, one deadline.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::address::{display_address, warn_if_plaintext};
pub use super::failure::HttpFailure;
use super::failure::refused_redirect;
use super::redirect;
use super::settings::EffectiveSettings;
use crate::backend::retry::{self, BodyError, is_retryable, is_tls, retry_after};
pub use crate::backend::retry::{backoff, chain};
use crate::backend::tls;
use crate::problem::Problem;
use crate::secret::SecretString;

pub struct Http {
    client: reqwest::Client,
    address: Url,
    namespace: Option<HeaderValue>,
    ca_file: Option<PathBuf>,
    deadline: Instant,
}

impl Http {
    /// The launch's client. VAULT_CACERT is read within `deadline` (a FIFO or a hung mount must
    /// not hold the launch).
    pub async fn new(settings: &EffectiveSettings, deadline: Instant) -> Result<Http, Problem> {
        warn_if_plaintext(&settings.address);
        let mut builder = reqwest::Client::builder()
            .pool_max_idle_per_host(settings.max_concurrency)
            .redirect(redirect::policy(settings.address.clone()))
            .referer(false)
            .user_agent(concat!("cronos-secrets/", env!("CARGO_PKG_VERSION")));
        if settings.address.scheme() == "http" {
            // Loading trust roots costs milliseconds; plain HTTP needs none.
            builder = builder.tls_certs_only(Vec::new());
        } else if let Some(ca_file) = &settings.ca_file {
            let certificates = tls::read_bundle(
                ca_file,
                "VAULT_CACERT",
                deadline,
                "point VAULT_CACERT at the PEM file of the CA that signed Vault's certificate",
            )
            .await?;
            builder = builder.tls_certs_only(certificates);
        } else {
            // The platform's roots still count where there are any.
            builder = builder.tls_certs_merge(tls::builtin_roots());
        }
        if settings.skip_verify {
            tracing::warn!(
                "VAULT_SKIP_VERIFY is set: Vault's TLS certificate is NOT verified; anyone on the network path can read these secrets"
            );
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        // A value no header can hold is a permanent error: said now, not retried to the deadline.
        let namespace = match &settings.namespace {
            None => None,
            Some(namespace) => Some(HeaderValue::from_str(namespace).map_err(|_| {
                Problem::new(
                    "vault namespace",
                    "the Vault namespace holds characters an HTTP header cannot carry (a newline or another control character?)",
                )
                .with_hint("check VAULT_NAMESPACE or secrets_manager.vault_namespace (e.g. admin/team-a)")
            })?),
        };
        let client = builder.build().map_err(|error| {
            Problem::new(
                "vault",
                format!("cannot set up the HTTP client: {}", chain(&error)),
            )
        })?;
        Ok(Http {
            client,
            address: settings.address.clone(),
            namespace,
            ca_file: settings.ca_file.clone(),
            deadline,
        })
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The configured address; show it with `display_address`.
    pub fn address(&self) -> &Url {
        &self.address
    }

    /// Sends `method /v1/{path}?{query}` until it succeeds, fails for good, or the deadline comes.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        token: Option<&SecretString>,
        body: Option<&Value>,
    ) -> Result<Value, HttpFailure> {
        self.send_until(self.deadline, method, path, query, token, body)
            .await
    }

    /// [`Http::send`] with another deadline (token revocation after the launch's has passed).
    pub async fn send_until(
        &self,
        deadline: Instant,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        token: Option<&SecretString>,
        body: Option<&Value>,
    ) -> Result<Value, HttpFailure> {
        let url = api_url(&self.address, path, query);
        let token = match token {
            None => None,
            Some(token) => {
                let mut header = HeaderValue::from_bytes(token.expose()).map_err(|_| {
                    HttpFailure::Malformed {
                        reason: "the Vault token contains characters not allowed in an HTTP header"
                            .into(),
                    }
                })?;
                header.set_sensitive(true);
                Some(header)
            }
        };
        let mut attempt = 0u32;
        let mut last_reason;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let mut request = self
                .client
                .request(method.clone(), url.clone())
                .timeout(remaining.max(Duration::from_millis(1)));
            if let Some(token) = &token {
                request = request.header("X-Vault-Token", token.clone());
            }
            if let Some(namespace) = &self.namespace {
                request = request.header("X-Vault-Namespace", namespace.clone());
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
                Ok(response) if response.status().is_redirection() => {
                    return Err(refused_redirect(&response));
                }
                Ok(response) => return parse(response.status(), response).await,
                // The URL may hold the address's user and password: the messages name the
                // address themselves, redacted.
                Err(error) if is_tls(&error) => {
                    return Err(HttpFailure::Tls {
                        reason: self.tls_reason(&error.without_url()),
                    });
                }
                Err(error) => {
                    last_reason = chain(&error.without_url());
                    tracing::debug!(attempt, reason = %last_reason, "vault request failed; retrying");
                    backoff(attempt)
                }
            };
            if Instant::now() + wait >= deadline {
                return Err(HttpFailure::Unreachable {
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
            display_address(&self.address),
            chain(error)
        )
    }
}

/// `{address}/v1/{path}`, each segment of `path` percent-encoded on its own (callers have
/// refused `..` and the like), and `query` encoded as pairs: nothing in a reference can add a
/// path segment or a query parameter. The address's user and password stay (a basic-auth proxy).
fn api_url(address: &Url, path: &str, query: &[(&str, &str)]) -> Url {
    let mut url = address.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push("v1").extend(path.split('/'));
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    url
}

async fn parse(status: StatusCode, response: reqwest::Response) -> Result<Value, HttpFailure> {
    let bytes = read_body(response).await?;
    let body: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(|_| HttpFailure::Malformed {
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
    Err(HttpFailure::Status {
        status: status.as_u16(),
        errors,
    })
}

/// The body within [`RESPONSE_LIMIT`](crate::bounded::RESPONSE_LIMIT), in Vault's words.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, HttpFailure> {
    retry::read_body(&mut response)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => HttpFailure::TooLarge,
            BodyError::Broken(error) => HttpFailure::Malformed {
                reason: format!(
                    "cannot read Vault's answer: {}",
                    chain(&error.without_url())
                ),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_cannot_add_segments_or_query_parameters() {
        let address = Url::parse("https://user:pw@vault.example.com:8200/prefix/?x=1").unwrap();
        let url = api_url(&address, "secret/data/a b?list=true#k", &[("version", "3")]);
        assert_eq!(
            url.as_str(),
            "https://user:pw@vault.example.com:8200/prefix/v1/secret/data/a%20b%3Flist=true%23k?version=3"
        );
        assert_eq!(url.query_pairs().count(), 1);
        let plain = Url::parse("http://127.0.0.1:8200").unwrap();
        assert_eq!(
            api_url(&plain, "sys/internal/ui/mounts/secret", &[]).as_str(),
            "http://127.0.0.1:8200/v1/sys/internal/ui/mounts/secret"
        );
    }
}
