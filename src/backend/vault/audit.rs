//! The server's audit devices (`GET sys/audit`), for `doctor`'s audit-logging row. Reading
//! them needs `read` and `sudo` on `sys/audit`, which a launch's token seldom has: a 403 is
//! reported as denied, so that the row can say what would prove it instead of guessing.

use reqwest::Method;
use serde_json::Value;

use super::http::{Http, HttpFailure};
use crate::backend::{FetchError, FetchErrorKind};
use crate::secret::SecretString;
use crate::untrusted_text::escaped;

/// Each enabled device as `path (type)`, e.g. `file/ (file)`; empty when none is enabled.
pub async fn devices(http: &Http, token: &SecretString) -> Result<Vec<String>, FetchError> {
    let body = http
        .send(Method::GET, "sys/audit", &[], Some(token), None)
        .await
        .map_err(|failure| {
            let kind = match failure {
                HttpFailure::Status {
                    status: 401 | 403, ..
                } => FetchErrorKind::Denied,
                HttpFailure::Status { .. } | HttpFailure::Malformed { .. } => {
                    FetchErrorKind::Invalid
                }
                HttpFailure::Transport(_) => FetchErrorKind::Unavailable,
            };
            let error = FetchError::new(
                kind,
                format!(
                    "listing the audit devices (sys/audit): {}",
                    escaped(&failure.reason(http.address()))
                ),
            );
            match failure.hint() {
                Some(hint) => error.with_hint(hint),
                None => error,
            }
        })?;
    // Vault puts the devices under `data` and, for older clients, at the top level as well.
    let listed = body
        .get("data")
        .and_then(Value::as_object)
        .or_else(|| body.as_object())
        .into_iter()
        .flatten()
        .filter_map(|(path, device)| {
            let kind = device.get("type")?.as_str()?;
            Some(format!("{} ({})", escaped(path), escaped(kind)))
        })
        .collect();
    Ok(listed)
}
