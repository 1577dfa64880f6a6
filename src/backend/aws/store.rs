//! `set`: a new current version with `PutSecretValue`; with `--create`, `CreateSecret` when the
//! secret does not exist yet.

use aws_sdk_secretsmanager::Client;

use super::errors::{Action, CallFailure, Service};
use super::request::Request;
use crate::backend::{FetchError, FetchErrorKind, Metadata, StoreOptions};
use crate::secret::SecretString;

pub struct Store<'a> {
    pub client: &'a Client,
    pub service: &'a Service,
    /// `aws-sm cronos-ai/database_password`, for messages.
    pub location: &'a str,
}

impl Store<'_> {
    pub async fn store(
        &self,
        request: &Request,
        value: &SecretString,
        options: StoreOptions,
    ) -> Result<Metadata, FetchError> {
        let text = self.writable(request, value)?;
        let id = &request.read.id;
        let put = self
            .client
            .put_secret_value()
            .secret_id(id)
            .secret_string(text)
            .send()
            .await;
        let failure = match put {
            Ok(output) => return Ok(written(output.version_id)),
            Err(error) => CallFailure::from_sdk(error),
        };
        if !failure.is_not_found() {
            return Err(failure.describe(
                &request.read,
                self.location,
                Action::PutSecretValue,
                self.service,
            ));
        }
        if !options.create {
            return Err(FetchError::new(
                FetchErrorKind::NotFound,
                format!(
                    "{}: secret {id} does not exist in {}",
                    self.location, self.service.region
                ),
            )
            .with_hint("pass --create to create it, or check aws_region and aws_prefix"));
        }
        if id.starts_with("arn:") {
            return Err(FetchError::new(
                FetchErrorKind::Invalid,
                format!(
                    "{}: no secret has this ARN, and a secret is created by name",
                    self.location
                ),
            )
            .with_hint("create it by name: cronos-secrets set --create aws-sm://NAME"));
        }
        self.client
            .create_secret()
            .name(id)
            .secret_string(text)
            .send()
            .await
            .map(|output| written(output.version_id))
            .map_err(|error| {
                CallFailure::from_sdk(error).describe(
                    &request.read,
                    self.location,
                    Action::CreateSecret,
                    self.service,
                )
            })
    }

    /// `set` writes a whole text secret as its new current version.
    fn writable<'v>(
        &self,
        request: &Request,
        value: &'v SecretString,
    ) -> Result<&'v str, FetchError> {
        let invalid = |problem: &str, hint: &str| {
            Err(FetchError::new(
                FetchErrorKind::Invalid,
                format!("{}: {problem}", self.location),
            )
            .with_hint(hint.to_string()))
        };
        if request.selection.key.is_some() {
            return invalid(
                "set writes a whole secret, not one #KEY of it",
                "pipe the whole JSON object to set, with the reference's #KEY removed",
            );
        }
        if request.read.is_pinned() || request.selection.base64 {
            return invalid(
                "set writes a new current version, which takes no ?version_id, ?version_stage or ?encoding",
                "remove the query parameters from the reference",
            );
        }
        match value.expose_str() {
            Some(text) => Ok(text),
            None => invalid(
                "the value is not UTF-8 text, which a SecretString must be",
                "base64-encode binary data before storing it",
            ),
        }
    }
}

fn written(version_id: Option<String>) -> Metadata {
    Metadata {
        version: version_id,
        ..Metadata::default()
    }
}
