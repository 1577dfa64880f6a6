//! Requests to Vault through the shared client (`backend::http`): same-origin redirects only
//! (see `backend::http::redirect`), the CA roots of VAULT_CACERT or the built-in and
//! platform's, `X-Vault-Token` and `X-Vault-Namespace`, and answers parsed as Vault's JSON.
//! Logins, reads, writes and revocation all come through here.

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::address::{display_address, warn_if_plaintext};
pub use super::failure::HttpFailure;
use super::settings::EffectiveSettings;
use crate::backend::http::{Answer, Client, Failure, Patience, Redirects, Settings, chain};
use crate::problem::Problem;
use crate::secret::SecretString;
use crate::tls::{self, CaFile, Trust};

pub struct Http {
    client: Client,
    address: Url,
    namespace: Option<HeaderValue>,
    /// Which roots are trusted, for TLS failures.
    roots: String,
}

impl Http {
    /// The launch's client. VAULT_CACERT is read within `deadline` (a FIFO or a hung mount must
    /// not hold the launch).
    pub async fn new(settings: &EffectiveSettings, deadline: Instant) -> Result<Http, Problem> {
        warn_if_plaintext(&settings.address);
        let trust = match &settings.ca_file {
            Some(path) => Trust::Only(CaFile {
                path,
                setting: "VAULT_CACERT",
            }),
            // The platform's roots still count where there are any.
            None => Trust::Public { extra: None },
        };
        let tls = if settings.skip_verify {
            tracing::warn!(
                "VAULT_SKIP_VERIFY is set: Vault's TLS certificate is NOT verified; anyone on the network path can read these secrets"
            );
            Some(tls::unverified())
        } else if settings.address.scheme() == "http" {
            None
        } else {
            Some(tls::client_config(trust, deadline).await)
        };
        let tls = tls.transpose().map_err(|error| {
            let hint = error.hint().unwrap_or_else(|| {
                "point VAULT_CACERT at the PEM file of the CA that signed Vault's certificate (-----BEGIN CERTIFICATE-----)".into()
            });
            Problem::new("vault", error.to_string()).with_hint(hint)
        })?;
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
        let client = Client::new(
            Settings {
                server: "vault",
                redirects: Redirects::SameOrigin(settings.address.clone()),
                tls,
                max_idle: settings.max_concurrency,
            },
            deadline,
        )
        .map_err(|error| {
            Problem::new(
                "vault",
                format!("cannot set up the HTTP client: {}", chain(&error)),
            )
        })?;
        Ok(Http {
            client,
            address: settings.address.clone(),
            namespace,
            roots: match &settings.ca_file {
                Some(file) => format!("CA file {}", file.display()),
                None => "the built-in and system CA roots (no VAULT_CACERT)".to_string(),
            },
        })
    }

    pub fn deadline(&self) -> Instant {
        self.client.deadline()
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
        self.send_until(self.deadline(), method, path, query, token, body)
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
        let build = |client: &reqwest::Client| {
            let mut request = client.request(method.clone(), url.clone());
            if let Some(token) = &token {
                request = request.header("X-Vault-Token", token.clone());
            }
            if let Some(namespace) = &self.namespace {
                request = request.header("X-Vault-Namespace", namespace.clone());
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            request
        };
        match self.client.send(build, Patience::Until(deadline)).await {
            Ok(answer) => parse(&answer),
            Err(Failure::Tls { reason }) => Err(HttpFailure::Transport(Failure::Tls {
                reason: format!(
                    "TLS failure talking to {} using {}: {reason}",
                    display_address(&self.address),
                    self.roots
                ),
            })),
            Err(Failure::BrokenOff { reason }) => Err(HttpFailure::Malformed {
                reason: format!("cannot read Vault's answer: {reason}"),
            }),
            Err(failure) => Err(HttpFailure::Transport(failure)),
        }
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

fn parse(answer: &Answer) -> Result<Value, HttpFailure> {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let body: Value = if answer.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&answer.body).map_err(|_| HttpFailure::Malformed {
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
        status: answer.status,
        errors,
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
