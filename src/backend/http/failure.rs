//! Why a request got no usable answer, whichever server was asked. Each backend words it for
//! its users (Vault's `HttpFailure`, Key Vault's), naming the address and what to do.

use url::Url;

/// Why a request got no usable answer.
#[derive(Debug)]
pub enum Failure {
    /// No answer (connection refused, reset, timed out …), or only 429/5xx, until the deadline
    /// or the probe's limit.
    Unreachable { reason: String, attempts: u32 },
    /// TLS handshake or certificate problem: retrying cannot help. `reason` is the error chain
    /// without the request's URL (it may hold the address's user and password).
    Tls { reason: String },
    /// A 3xx the redirect rule did not follow; `target` is where it pointed (None when the
    /// Location could not be read). Show it as an origin or host only: a path or query could
    /// hold anything.
    Redirect { status: u16, target: Option<Url> },
    /// An answer larger than [`RESPONSE_LIMIT`](crate::bounded::RESPONSE_LIMIT): refused
    /// before it is buffered.
    TooLarge,
    /// The connection broke off while the body streamed in.
    BrokenOff { reason: String },
}

/// A 30x the redirect rule stopped at, and where it pointed.
pub fn refused_redirect(response: &reqwest::Response) -> Failure {
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .and_then(|location| response.url().join(location).ok());
    Failure::Redirect {
        status: response.status().as_u16(),
        target,
    }
}
