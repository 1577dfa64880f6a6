//! Which answers are worth another attempt, how long to wait, bounded bodies, and error texts
//! that include their causes.

use std::time::Duration;

use reqwest::StatusCode;

use crate::bounded::RESPONSE_LIMIT;
use crate::random::duration_up_to;

const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

pub fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` in seconds, as Vault's rate-limit quotas, proxies in front of Vault and Key
/// Vault send it (OpenBao 2.x sends none), capped at a minute.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(60.0)))
}

/// Exponential backoff with full jitter: uniform in [0, min(cap, first · 2^attempt)].
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = FIRST_BACKOFF
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_BACKOFF);
    duration_up_to(ceiling)
}

pub fn is_tls(error: &reqwest::Error) -> bool {
    let text = chain(error).to_ascii_lowercase();
    [
        "certificate",
        "tls",
        "handshake",
        "unknownissuer",
        "invalid peer",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// An error and its sources, joined: reqwest's top-level message alone says little.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

/// Why an answer's body was not read.
pub enum BodyError {
    /// Larger than [`RESPONSE_LIMIT`] (announced or as it streamed in).
    TooLarge,
    /// The connection broke off while the body streamed in.
    Broken(reqwest::Error),
}

/// The body, chunk by chunk, refused as soon as it passes [`RESPONSE_LIMIT`] (or announces a
/// larger Content-Length): an endless or 2 GB answer costs 8 MiB at most, not the memory limit.
pub async fn read_body(response: &mut reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > RESPONSE_LIMIT as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if bytes.len() + chunk.len() > RESPONSE_LIMIT => {
                return Err(BodyError::TooLarge);
            }
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => return Ok(bytes),
            Err(error) => return Err(BodyError::Broken(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..40 {
            let ceiling = FIRST_BACKOFF
                .saturating_mul(1u32 << attempt.min(16))
                .min(MAX_BACKOFF);
            assert!(backoff(attempt) <= ceiling);
        }
        assert_eq!(
            FIRST_BACKOFF.saturating_mul(1u32 << 16).min(MAX_BACKOFF),
            MAX_BACKOFF
        );
    }

    fn headers(retry_after: Option<&str>) -> reqwest::header::HeaderMap {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(reqwest::header::RETRY_AFTER, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn retry_after_is_honoured_in_seconds_and_capped() {
        assert_eq!(
            retry_after(&headers(Some("2"))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&headers(Some("0.5"))),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            retry_after(&headers(Some("3600"))),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(&headers(Some("soon"))), None);
        assert_eq!(retry_after(&headers(None)), None);
    }

    #[test]
    fn only_throttling_and_server_errors_are_retried() {
        for code in [429, 500, 502, 503, 504] {
            assert!(is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [200, 204, 400, 403, 404, 405, 412] {
            assert!(!is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }
}
