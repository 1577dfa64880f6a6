//! The one place a secret's value is read from a backend, for every command: a launch, `get`,
//! the library, the watcher's re-resolution and `rotate` (its admin passwords and the current
//! values it replaces). Each value read is recorded in the audit log (names and versions, never
//! the value) before anyone may use it; `tests/architecture.rs` keeps `Backend::fetch` calls
//! out of every other module, so a new command cannot read around the audit.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use super::{Answer, ReadRecord};
use crate::backend::{Backend, Backends, FetchError, FetchErrorKind, Fetched, Source};
use crate::logging::{self, AUDIT_TARGET};
use crate::problem::Problem;
use crate::reference::Reference;

/// One backend's answers: each reference's value, or why it could not be read.
pub struct Reads {
    source: Source,
    answers: BTreeMap<Reference, Result<Fetched, FetchError>>,
}

impl Reads {
    /// `reference`'s answer; one the backend left out (or nobody asked for) fails.
    pub fn take(&mut self, reference: &Reference) -> Result<Fetched, FetchError> {
        self.answers.remove(reference).unwrap_or_else(|| {
            Err(FetchError::new(
                FetchErrorKind::Unavailable,
                format!("the {} backend gave no answer for {reference}", self.source),
            ))
        })
    }
}

/// Reads `references`, all served by `backend`, for `purpose` (what the values are read for,
/// named in each audit event as its `variable`: `rotation.database.admin_password`, a
/// secret's name). Bounded by the backend's own deadline. Fails only when the audit log cannot
/// be written, in which case no value may be used.
pub async fn read(
    backend: &dyn Backend,
    references: &[Reference],
    purpose: &str,
) -> Result<Reads, Problem> {
    let reads = fetch_from(backend, references).await;
    for (reference, fetched) in &reads.answers {
        if let Ok(fetched) = fetched {
            let record = ReadRecord {
                reference: reference.clone(),
                source: backend.source(),
                location: backend.location(reference),
                metadata: fetched.metadata.clone(),
                reused: false,
            };
            audit_event(purpose, &record);
        }
    }
    logging::check_audit_written()?;
    Ok(reads)
}

/// The one `secret read` event (never the value); `variable` is what it was read for.
pub(super) fn audit_event(variable: &str, read: &ReadRecord) {
    tracing::info!(
        target: AUDIT_TARGET,
        variable = %variable,
        reference = %read.reference,
        source = %read.source,
        location = %read.location,
        version = read.metadata.version.as_deref(),
        expires = read.metadata.expires.map(crate::backend::utc).as_deref(),
        "secret read"
    );
}

/// One backend's answers, one per reference given: a reference the backend left out fails.
async fn fetch_from(backend: &dyn Backend, references: &[Reference]) -> Reads {
    let mut fetched = Reads {
        source: backend.source(),
        answers: backend.fetch(references).await.into_iter().collect(),
    };
    let answers = references
        .iter()
        .map(|reference| (reference.clone(), fetched.take(reference)))
        .collect();
    Reads { answers, ..fetched }
}

/// Every group's references from its backend, all backends at once, within `deadline`. The
/// caller audits what it uses (a launch: per variable, after joining).
pub(super) async fn fetch_all(
    backends: &Backends,
    groups: BTreeMap<Source, Vec<Reference>>,
    timeout: Duration,
    deadline: Instant,
) -> BTreeMap<Reference, Answer> {
    let mut answers = BTreeMap::new();
    let mut pending: BTreeMap<Source, Vec<Reference>> = BTreeMap::new();
    let mut requests = FuturesUnordered::new();
    for (source, references) in groups {
        let Some(backend) = backends.get(source).cloned() else {
            continue;
        };
        pending.insert(source, references.clone());
        requests.push(async move {
            let fetched = fetch_from(backend.as_ref(), &references).await;
            (source, fetched)
        });
    }
    let collect = async {
        while let Some((source, fetched)) = requests.next().await {
            pending.remove(&source);
            for (reference, result) in fetched.answers {
                let reused = false;
                answers.insert(
                    reference,
                    Answer {
                        source,
                        result,
                        reused,
                    },
                );
            }
        }
    };
    // Backends retry inside the deadline; whatever has not answered by then fails as a whole.
    if tokio::time::timeout_at(deadline, collect).await.is_err() {
        let seconds = timeout.as_secs_f64();
        for (source, references) in pending {
            for reference in references {
                let error = FetchError::new(
                    FetchErrorKind::Unavailable,
                    format!("timed out after {seconds}s waiting for the {source} backend to read {reference}"),
                )
                .with_hint("check that the backend is reachable, or raise --timeout");
                answers.insert(
                    reference,
                    Answer {
                        source,
                        result: Err(error),
                        reused: false,
                    },
                );
            }
        }
    }
    answers
}
