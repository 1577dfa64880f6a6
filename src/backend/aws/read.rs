//! Reading a launch's secret versions in as few calls as the API allows: current versions with
//! `BatchGetSecretValue` (20 ids a call, calls concurrent), version pins and lone secrets with
//! `GetSecretValue`, and per-secret `GetSecretValue` when the role may not batch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::primitives::{Blob, DateTime};
use aws_sdk_secretsmanager::types::SecretValueEntry;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::Semaphore;

use super::errors::{Action, CallFailure};
use super::request::{SecretRead, batch_sizes};
use super::value::{Payload, SecretVersion};
use crate::backend::Metadata;
use crate::secret::SecretString;

/// `BatchGetSecretValue` takes at most 20 secret ids.
pub const BATCH_LIMIT: usize = 20;
/// Calls in flight at once, against Secrets Manager's per-account request rate.
const MAX_IN_FLIGHT: usize = 8;
/// The staging labels `rotate` puts on a current version whose replaced value it kept
/// (AWSPREVIOUS): both read calls return the labels of the version they answer, so a launch
/// learns whether there is a previous value to read without asking for it. Two, used in turn:
/// a rotation marks its pending version with the one the current version does not hold, so
/// the current version keeps its own until the promote (a label is on one version at a time).
pub const PREVIOUS_KEPT: [&str; 2] = ["CRONOS_PREVIOUS_KEPT", "CRONOS_PREVIOUS_KEPT_2"];

/// Why one secret version could not be read, and by which call.
#[derive(Debug, Clone)]
pub struct ReadFailure {
    pub failure: CallFailure,
    pub action: Action,
}

pub type ReadResults = HashMap<SecretRead, Result<SecretVersion, ReadFailure>>;

pub struct BatchReader<'a> {
    client: &'a Client,
    /// Set once a batch call was refused, so later fetches go straight to GetSecretValue.
    batch_denied: &'a AtomicBool,
    in_flight: Semaphore,
}

impl<'a> BatchReader<'a> {
    pub fn new(client: &'a Client, batch_denied: &'a AtomicBool) -> Self {
        BatchReader {
            client,
            batch_denied,
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
        }
    }

    /// Reads every version once; the answer has one entry per read given.
    pub async fn read_all(&self, reads: Vec<SecretRead>) -> ReadResults {
        let (pinned, current): (Vec<_>, Vec<_>) =
            reads.into_iter().partition(SecretRead::is_pinned);
        let mut singles = pinned;
        let mut batches = Vec::new();
        // One secret costs one call either way, and GetSecretValue needs no batch permission.
        if current.len() == 1 || self.batch_denied.load(Ordering::Relaxed) {
            singles.extend(current);
        } else {
            let mut rest = current.into_iter();
            for size in batch_sizes(rest.len(), BATCH_LIMIT) {
                batches.push(rest.by_ref().take(size).collect::<Vec<_>>());
            }
        }
        let batched = gather(batches.into_iter().map(|batch| self.read_batch(batch)));
        let alone = gather(singles.into_iter().map(|read| self.read_one_alone(read)));
        let (mut results, alone) = futures::future::join(batched, alone).await;
        results.extend(alone);
        results
    }

    async fn read_one_alone(&self, read: SecretRead) -> ReadResults {
        let result = self.read_one(&read).await;
        ReadResults::from([(read, result)])
    }

    /// One `BatchGetSecretValue` (more if the service pages), or per-secret reads if refused.
    async fn read_batch(&self, reads: Vec<SecretRead>) -> ReadResults {
        match self.batch_get(&reads).await {
            Ok(results) => results,
            Err(failure) if failure.is_access_denied() => {
                if !self.batch_denied.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "the launcher's AWS role may not call secretsmanager:BatchGetSecretValue, \
                         so each secret is read with its own GetSecretValue call; grant it on \"*\" \
                         to read up to 20 secrets per call (examples/aws/iam-read-policy.json)"
                    );
                }
                gather(reads.into_iter().map(|read| self.read_one_alone(read))).await
            }
            // One bad id can make AWS refuse the whole call: ask per secret, so each gets its
            // own answer (and the others their values).
            Err(failure) if failure.is_invalid_request() => {
                gather(reads.into_iter().map(|read| self.read_one_alone(read))).await
            }
            Err(failure) => reads
                .into_iter()
                .map(|read| {
                    let failure = ReadFailure {
                        failure: failure.clone(),
                        action: Action::BatchGetSecretValue,
                    };
                    (read, Err(failure))
                })
                .collect(),
        }
    }

    async fn batch_get(&self, reads: &[SecretRead]) -> Result<ReadResults, CallFailure> {
        let ids: Vec<String> = reads.iter().map(|read| read.id.clone()).collect();
        let mut entries = Vec::new();
        let mut errors = HashMap::new();
        let mut next_token = None;
        // Twenty ids fit one page; follow NextToken should the service split them anyway.
        for _page in 0..=ids.len() {
            let _permit = self.in_flight.acquire().await.expect("never closed");
            let output = self
                .client
                .batch_get_secret_value()
                .set_secret_id_list(Some(ids.clone()))
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(CallFailure::from_sdk)?;
            entries.extend(
                output
                    .secret_values
                    .unwrap_or_default()
                    .into_iter()
                    .map(Answered::from),
            );
            for error in output.errors.unwrap_or_default() {
                if let Some(id) = error.secret_id.clone() {
                    let failure = CallFailure::service(error.error_code(), error.message());
                    errors.insert(id, failure);
                }
            }
            next_token = output.next_token;
            if next_token.is_none() {
                break;
            }
        }
        Ok(reads
            .iter()
            .map(|read| {
                let answered = entries.iter().find(|entry| entry.answers(&read.id));
                let result = match answered {
                    Some(entry) => Ok(entry.version.clone()),
                    None => Err(ReadFailure {
                        failure: errors.remove(&read.id).unwrap_or_else(|| {
                            CallFailure::service(
                                Some("NoAnswer"),
                                Some("the batch answer has neither a value nor an error for it"),
                            )
                        }),
                        action: Action::BatchGetSecretValue,
                    }),
                };
                (read.clone(), result)
            })
            .collect())
    }

    async fn read_one(&self, read: &SecretRead) -> Result<SecretVersion, ReadFailure> {
        let _permit = self.in_flight.acquire().await.expect("never closed");
        self.client
            .get_secret_value()
            .secret_id(&read.id)
            .set_version_id(read.version_id.clone())
            .set_version_stage(read.version_stage.clone())
            .send()
            .await
            .map(version_of_output)
            .map_err(|error| ReadFailure {
                failure: CallFailure::from_sdk(error),
                action: Action::GetSecretValue,
            })
    }
}

/// Runs calls concurrently (each waits for an in-flight permit) and merges their answers.
async fn gather<F: Future<Output = ReadResults>>(calls: impl Iterator<Item = F>) -> ReadResults {
    let mut calls: FuturesUnordered<F> = calls.collect();
    let mut results = ReadResults::new();
    while let Some(answered) = calls.next().await {
        results.extend(answered);
    }
    results
}

/// A secret version in a batch answer, with the name and ARN that identify it.
struct Answered {
    name: Option<String>,
    arn: Option<String>,
    version: SecretVersion,
}

impl Answered {
    /// Whether this answers `id`: the secret's name, full ARN, or partial ARN (without the
    /// random suffix). One answer may serve several ids (a name and an ARN of one secret).
    fn answers(&self, id: &str) -> bool {
        self.name.as_deref() == Some(id)
            || self
                .arn
                .as_deref()
                .is_some_and(|arn| arn == id || (id.starts_with("arn:") && arn.starts_with(id)))
    }
}

impl From<SecretValueEntry> for Answered {
    fn from(entry: SecretValueEntry) -> Self {
        Answered {
            name: entry.name,
            arn: entry.arn,
            version: version(
                entry.secret_string,
                entry.secret_binary,
                entry.version_id,
                entry.created_date,
                entry.version_stages.unwrap_or_default(),
            ),
        }
    }
}

fn version_of_output(output: GetSecretValueOutput) -> SecretVersion {
    version(
        output.secret_string,
        output.secret_binary,
        output.version_id,
        output.created_date,
        output.version_stages.unwrap_or_default(),
    )
}

/// The version's creation date is when its value was set: the age of the value, which is what
/// rotation cares about (and no extra DescribeSecret call is needed for it).
fn version(
    string: Option<String>,
    binary: Option<Blob>,
    version_id: Option<String>,
    created: Option<DateTime>,
    stages: Vec<String>,
) -> SecretVersion {
    let payload = match (string, binary) {
        (Some(text), _) => Payload::Text(SecretString::from(text)),
        (None, Some(bytes)) => Payload::Binary(SecretString::new(bytes.into_inner())),
        (None, None) => Payload::Empty,
    };
    SecretVersion {
        payload,
        metadata: Metadata {
            version: version_id,
            updated: created.and_then(|date| SystemTime::try_from(date).ok()),
            expires: None,
            previous_kept: stages
                .iter()
                .any(|stage| PREVIOUS_KEPT.contains(&stage.as_str())),
            previous_version: None,
            lease: None,
        },
    }
}
