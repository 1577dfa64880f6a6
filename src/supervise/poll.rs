//! One poll: every reference's current version, from backends built for this poll alone (each
//! poll has its own deadline, `--timeout`, and credentials as fresh as the backend's chain
//! gives them; a Vault token obtained by login is revoked after the poll).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use tokio::time::Instant;

use crate::backend::{
    Backends, BuildContext, FetchError, FetchErrorKind, Source, Versions, deadline_after,
};
use crate::config::Config;
use crate::env_vars::Environment;
use crate::launch::{LaunchSettings, Prepared};
use crate::reference::Reference;
use crate::resolve::{self, PlaceholderValue};

/// Every reference's version or the reason it is not known now (an outage, a denial).
pub async fn versions(
    prepared: &Prepared,
    settings: &LaunchSettings,
    extras: &[PlaceholderValue],
) -> Versions {
    let groups = resolve::references_by_source(&prepared.plan, extras, &prepared.config);
    versions_by_source(
        groups,
        &prepared.config,
        &prepared.env,
        settings.timeout,
        settings.keep_launcher_env,
    )
    .await
}

/// The versions of references grouped by backend (the library's cache refreshes by these).
pub async fn versions_by_source(
    groups: BTreeMap<Source, Vec<Reference>>,
    config: &Config,
    env: &Environment,
    timeout: Duration,
    keep_launcher_env: bool,
) -> Versions {
    let sources: BTreeSet<Source> = groups.keys().copied().collect();
    let deadline = deadline_after(timeout);
    let context = BuildContext {
        config,
        env,
        deadline,
        keep_launcher_env,
    };
    let backends = match Backends::build(&sources, &context).await {
        Ok(backends) => backends,
        Err(problem) => {
            let error = FetchError::new(FetchErrorKind::Unavailable, problem.to_string());
            return groups
                .into_values()
                .flatten()
                .map(|reference| (reference, Err(error.clone())))
                .collect();
        }
    };
    let versions = versions_on(&backends, groups, deadline).await;
    backends.finish().await;
    versions
}

/// The versions of references grouped by backend, from `backends` (built for them), within
/// `deadline`.
pub async fn versions_on(
    backends: &Backends,
    groups: BTreeMap<Source, Vec<Reference>>,
    deadline: Instant,
) -> Versions {
    let mut versions = Versions::new();
    let polls = groups.into_iter().map(|(source, references)| {
        let backend = backends.get(source).cloned();
        async move {
            let answered = match backend {
                Some(backend) => tokio::time::timeout_at(deadline, backend.versions(&references))
                    .await
                    .ok(),
                None => None,
            };
            (source, references, answered)
        }
    });
    for (source, references, answered) in join_all(polls).await {
        let mut answered = answered.unwrap_or_default();
        for reference in references {
            let answer = answered.remove(&reference).unwrap_or_else(|| {
                Err(FetchError::new(
                    FetchErrorKind::Unavailable,
                    format!("the {source} backend gave no version for {reference} in time"),
                ))
            });
            versions.insert(reference, answer);
        }
    }
    versions
}
