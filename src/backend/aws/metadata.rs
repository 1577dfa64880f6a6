//! `rotate --status`'s dates without the values: `ListSecretVersionIds` answers each labelled
//! version's id, staging labels and creation date, one call per secret however many
//! references share it. (`DescribeSecret` has the labels but no version's date.)

use std::time::SystemTime;

use super::AwsBackend;
use super::errors::{Action, CallFailure};
use super::request::SecretRead;
use super::versions::{CURRENT_STAGE, per_secret};
use crate::backend::{Described, FetchError, FetchErrorKind, Metadata};
use crate::reference::Reference;

/// Pages followed at most (100 versions each; only labelled versions are listed).
const MAX_PAGES: usize = 20;

pub async fn metadata(backend: &AwsBackend, references: &[Reference]) -> Described {
    per_secret(backend, references, metadata_of).await
}

async fn metadata_of(
    backend: &AwsBackend,
    read: &SecretRead,
    location: &str,
) -> Result<Metadata, FetchError> {
    let stage = read.version_stage.as_deref().unwrap_or(CURRENT_STAGE);
    let connection = &backend.connection;
    let mut next_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = connection
            .client
            .list_secret_version_ids()
            .secret_id(&read.id)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|error| {
                CallFailure::from_sdk(error).describe(
                    read,
                    location,
                    Action::ListSecretVersionIds,
                    &connection.service,
                )
            })?;
        let found = page
            .versions()
            .iter()
            .find(|version| match &read.version_id {
                Some(pinned) => version.version_id() == Some(pinned.as_str()),
                None => version.version_stages().iter().any(|label| label == stage),
            });
        if let Some(version) = found {
            return Ok(Metadata {
                version: version.version_id().map(str::to_string),
                updated: version
                    .created_date()
                    .and_then(|date| SystemTime::try_from(*date).ok()),
                ..Metadata::default()
            });
        }
        next_token = page
            .next_token()
            .filter(|token| !token.is_empty())
            .map(str::to_string);
        if next_token.is_none() {
            break;
        }
    }
    Err(FetchError::new(
        FetchErrorKind::NotFound,
        format!("{location}: no version is labelled {stage}"),
    )
    .with_hint("label a version with the stage, or fix the reference"))
}
