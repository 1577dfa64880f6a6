//! AWS Secrets Manager: `secret://NAME` (as `<aws_prefix>/NAME`), `aws-sm://NAME-OR-ARN` and
//! bare ARNs, `#KEY` of JSON secrets, version pins, batched reads.

mod children;
mod client;
mod errors;
mod layout;
mod limit;
mod metadata;
mod read;
mod request;
mod rotation;
mod store;
mod value;
mod versions;

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;

use async_trait::async_trait;

use super::{
    Answers, Backend, BuildContext, Described, FetchError, FetchErrorKind, Metadata, Source,
    StoreOptions, Versions,
};
use crate::problem::Problem;
use crate::reference::Reference;
use crate::secret::SecretString;
use client::Connection;
use read::{BatchReader, ReadFailure};
use request::{Request, SecretRead};

pub use layout::AwsLayout;
use request::location;

pub struct AwsBackend {
    connection: Connection,
    prefix: String,
    /// A batch call was refused once: later fetches read secret by secret without asking again.
    batch_denied: AtomicBool,
}

impl AwsBackend {
    /// Resolves region and credentials (within the launch's deadline) and builds the client;
    /// called only for launches that have AWS references.
    pub async fn connect(context: &BuildContext<'_>) -> Result<AwsBackend, Problem> {
        let settings = &context.config.aws;
        Ok(AwsBackend {
            connection: client::connect(settings, context.deadline).await?,
            prefix: settings.prefix.clone(),
            batch_denied: AtomicBool::new(false),
        })
    }
}

#[async_trait]
impl Backend for AwsBackend {
    fn source(&self) -> Source {
        Source::AwsSecretsManager
    }

    fn usable_until(&self) -> Option<tokio::time::Instant> {
        self.connection.renew_at
    }

    fn location(&self, reference: &Reference) -> String {
        location(reference, &self.prefix)
    }

    async fn fetch(&self, references: &[Reference]) -> Answers {
        let mut answers = Answers::new();
        let mut requests = Vec::new();
        for reference in references {
            match Request::of(reference, &self.prefix) {
                Ok(request) => requests.push((reference, request)),
                Err(error) => {
                    answers.insert(reference.clone(), Err(error));
                }
            }
        }
        let reads: BTreeSet<SecretRead> = requests
            .iter()
            .map(|(_, request)| request.read.clone())
            .collect();
        tracing::debug!(
            references = references.len(),
            secret_versions = reads.len(),
            "reading from AWS Secrets Manager"
        );
        let Connection {
            client, service, ..
        } = &self.connection;
        let results = BatchReader::new(client, &self.batch_denied)
            .read_all(reads.into_iter().collect())
            .await;
        for (reference, request) in requests {
            let location = self.location(reference);
            let answer = match results.get(&request.read) {
                Some(Ok(version)) => version.select(&request.selection, &location),
                Some(Err(ReadFailure { failure, action })) => {
                    Err(failure.describe(&request.read, &location, *action, service))
                }
                None => Err(FetchError::new(
                    FetchErrorKind::Unavailable,
                    format!("{location}: was not read"),
                )),
            };
            answers.insert(reference.clone(), answer);
        }
        answers
    }

    async fn versions(&self, references: &[Reference]) -> Versions {
        versions::versions(self, references).await
    }

    async fn metadata(&self, references: &[Reference]) -> Described {
        metadata::metadata(self, references).await
    }

    async fn store(
        &self,
        reference: &Reference,
        value: &SecretString,
        options: StoreOptions,
    ) -> Result<Metadata, FetchError> {
        let request = Request::of(reference, &self.prefix)?;
        let location = self.location(reference);
        let store = store::Store {
            client: &self.connection.client,
            service: &self.connection.service,
            location: &location,
        };
        store.store(&request, value, options).await
    }

    fn rotation(&self) -> Option<&dyn super::RotationStore> {
        Some(self)
    }
}
