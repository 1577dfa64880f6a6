//! Answers of at most `bounded::RESPONSE_LIMIT`. The SDK buffers whole response bodies before
//! parsing them, so a broken endpoint (or whatever answers at `AWS_ENDPOINT_URL`) sending an
//! endless or 2 GB body would otherwise take that much memory. The HTTP client is wrapped:
//! a larger Content-Length is refused before the body is read, and the body itself stops one
//! chunk past the limit.

use std::fmt;

use aws_sdk_secretsmanager::config::SharedHttpClient;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::body::SdkBody;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::bounded::{RESPONSE_LIMIT, human_size};

/// The error an oversized answer becomes; `errors` finds it in the SDK's error chain.
#[derive(Debug)]
pub struct AnswerTooLarge;

impl fmt::Display for AnswerTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the answer is larger than {}, the limit for one answer",
            human_size(RESPONSE_LIMIT as u64)
        )
    }
}

impl std::error::Error for AnswerTooLarge {}

/// `inner` with every answer limited to [`RESPONSE_LIMIT`].
pub fn limited(inner: SharedHttpClient) -> SharedHttpClient {
    LimitedClient { inner }.into_shared()
}

#[derive(Debug)]
struct LimitedClient {
    inner: SharedHttpClient,
}

impl HttpClient for LimitedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        LimitedConnector {
            inner: self.inner.http_connector(settings, components),
        }
        .into_shared()
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let answer = self.inner.call(request);
        HttpConnectorFuture::new(async move { limit(answer.await?) })
    }
}

fn limit(response: HttpResponse) -> Result<HttpResponse, ConnectorError> {
    let announced = response
        .headers()
        .get("content-length")
        .and_then(|length| length.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > RESPONSE_LIMIT as u64) {
        // Dropping the response closes the connection before the body is read.
        return Err(ConnectorError::user(Box::new(AnswerTooLarge)));
    }
    Ok(response.map(|body| {
        SdkBody::from_body_1_x(Limited::new(body, RESPONSE_LIMIT).map_err(|error| {
            if error.is::<LengthLimitError>() {
                Box::new(AnswerTooLarge) as Box<dyn std::error::Error + Send + Sync>
            } else {
                error
            }
        }))
    }))
}

/// Whether `error`, or an error it wraps, is an oversized answer.
pub fn is_too_large(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<AnswerTooLarge>() {
            return true;
        }
        current = error.source();
    }
    false
}
