//! The watcher's cheap poll: `DescribeSecret` answers which version id holds each staging label
//! (`VersionIdsToStages`) without the value, one call per secret however many references
//! share it. A version-id pin never changes and costs no call.

use std::collections::{BTreeMap, HashMap};

use super::AwsBackend;
use super::errors::{Action, CallFailure};
use super::request::{Request, SecretRead};
use crate::backend::{Backend, FetchError, FetchErrorKind, Version, Versions};
use crate::reference::Reference;

pub(super) const CURRENT_STAGE: &str = "AWSCURRENT";

pub async fn versions(backend: &AwsBackend, references: &[Reference]) -> Versions {
    per_secret(backend, references, version_of).await
}

/// Answers every reference with one call per secret (`call`), however many references share
/// it; a reference that names no secret gets its own error.
pub(super) async fn per_secret<T: Clone>(
    backend: &AwsBackend,
    references: &[Reference],
    call: impl AsyncFn(&AwsBackend, &SecretRead, &str) -> Result<T, FetchError>,
) -> HashMap<Reference, Result<T, FetchError>> {
    let mut answered = HashMap::new();
    let mut by_read: BTreeMap<SecretRead, Vec<&Reference>> = BTreeMap::new();
    for reference in references {
        match Request::of(reference, &backend.prefix) {
            Ok(request) => by_read.entry(request.read).or_default().push(reference),
            Err(error) => {
                answered.insert(reference.clone(), Err(error));
            }
        }
    }
    let call = &call;
    let answers = futures::future::join_all(by_read.iter().map(|(read, references)| async move {
        let location = backend.location(references[0]);
        (references, call(backend, read, &location).await)
    }))
    .await;
    for (references, answer) in answers {
        for reference in references {
            answered.insert((*reference).clone(), answer.clone());
        }
    }
    answered
}

async fn version_of(
    backend: &AwsBackend,
    read: &SecretRead,
    location: &str,
) -> Result<Version, FetchError> {
    if let Some(version_id) = &read.version_id {
        return Ok(Version::new(format!("aws:{}:{version_id}", read.id)));
    }
    let stage = read.version_stage.as_deref().unwrap_or(CURRENT_STAGE);
    backend
        .describe_stages(read, location)
        .await?
        .into_iter()
        .find(|(_, stages)| stages.iter().any(|label| label == stage))
        .map(|(version_id, _)| Version::new(format!("aws:{}:{version_id}", read.id)))
        .ok_or_else(|| {
            FetchError::new(
                FetchErrorKind::NotFound,
                format!("{location}: no version is labelled {stage}"),
            )
            .with_hint(
                "the running program is kept; label a version with the stage, or fix the reference",
            )
        })
}

impl AwsBackend {
    /// Version id → staging labels (`DescribeSecret`): what the watcher polls and what rotate
    /// reads the pending and previous versions from.
    pub(super) async fn describe_stages(
        &self,
        read: &SecretRead,
        location: &str,
    ) -> Result<HashMap<String, Vec<String>>, FetchError> {
        let connection = &self.connection;
        let described = connection
            .client
            .describe_secret()
            .secret_id(&read.id)
            .send()
            .await
            .map_err(|error| {
                CallFailure::from_sdk(error).describe(
                    read,
                    location,
                    Action::DescribeSecret,
                    &connection.service,
                )
            })?;
        Ok(described.version_ids_to_stages.unwrap_or_default())
    }
}
