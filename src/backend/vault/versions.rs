//! The watcher's cheap poll: `GET <mount>/metadata/<path>` answers KV v2's `current_version`
//! without the secret's data, one request per path however many keys are read from it.
//!
//! A pinned `?version=` never changes (no request). A path whose metadata cannot be read (a
//! policy that grants only `data/`, a KV v1 mount) is watched by reading it, which is what the
//! one-shot launch does anyway; the first time, a warning says which grant makes it cheaper.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, OnceLock};

use reqwest::Method;
use serde_json::Value;

use super::VaultBackend;
use super::http::HttpFailure;
use super::path::SecretPath;
use crate::backend::{Backend, FetchError, FetchErrorKind, Version, Versions};
use crate::reference::Reference;

/// Whether the metadata of a path could be read.
enum Answer {
    Current(u64),
    /// No metadata for this path: read its value instead.
    ReadInstead,
    Failed(FetchError),
}

pub async fn versions(backend: &VaultBackend, references: &[Reference]) -> Versions {
    let mut versions = Versions::new();
    let mut by_path: BTreeMap<SecretPath, Vec<&Reference>> = BTreeMap::new();
    for reference in references {
        match backend.target(reference) {
            Ok((secret, _)) => by_path.entry(secret).or_default().push(reference),
            Err(error) => {
                versions.insert(reference.clone(), Err(error));
            }
        }
    }
    let mut read_instead: Vec<Reference> = Vec::new();
    let token = match backend.token().await {
        Ok(token) => token,
        Err(error) => {
            for reference in by_path.values().flatten() {
                versions.insert((*reference).clone(), Err(error.clone()));
            }
            return versions;
        }
    };
    super::token_life::check(backend, &token).await;
    let kv1 = backend.settings.kv_version == Some(1);
    let answers = futures::future::join_all(by_path.iter().map(|(secret, references)| {
        let token = &token;
        async move {
            let answer = match secret.version {
                Some(pinned) => Answer::Current(pinned),
                None if kv1 => Answer::ReadInstead,
                None => current_version(backend, token, secret).await,
            };
            (secret, references, answer)
        }
    }))
    .await;
    for (secret, references, answer) in answers {
        for reference in references {
            match &answer {
                Answer::Current(version) => {
                    let version = Version::new(format!("kv2:{}:{version}", secret.logical()));
                    versions.insert((*reference).clone(), Ok(version));
                }
                Answer::ReadInstead => read_instead.push((*reference).clone()),
                Answer::Failed(error) => {
                    versions.insert((*reference).clone(), Err(error.clone()));
                }
            }
        }
    }
    if !read_instead.is_empty() {
        for (reference, answer) in backend.fetch(&read_instead).await {
            versions.insert(
                reference,
                answer.map(|fetched| Version::of_fetched(&fetched)),
            );
        }
    }
    versions
}

async fn current_version(
    backend: &VaultBackend,
    token: &crate::secret::SecretString,
    secret: &SecretPath,
) -> Answer {
    let api_path = format!("{}/metadata/{}", secret.mount, secret.path);
    let _permit = backend.permits.acquire().await;
    match backend
        .http
        .send(Method::GET, &api_path, &[], Some(token), None)
        .await
    {
        Ok(body) => match body
            .pointer("/data/current_version")
            .and_then(Value::as_u64)
        {
            Some(version) => Answer::Current(version),
            None => read_instead(&api_path, "it has no data.current_version"),
        },
        Err(HttpFailure::Status {
            status: status @ (403 | 404),
            ..
        }) => read_instead(&api_path, &format!("Vault answered {status}")),
        Err(failure) => Answer::Failed(
            FetchError::new(
                FetchErrorKind::Unavailable,
                format!(
                    "cannot read {api_path}: {}",
                    failure.reason(backend.http.address())
                ),
            )
            .with_hint("the running program is kept; the watcher tries again at the next poll"),
        ),
    }
}

/// Warns once per path per process: the poll goes on, at the cost of a value read.
fn read_instead(api_path: &str, why: &str) -> Answer {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let first = WARNED
        .get_or_init(Default::default)
        .lock()
        .map(|mut warned| warned.insert(api_path.to_string()))
        .unwrap_or(false);
    if first {
        tracing::warn!(
            "cannot read the KV metadata {api_path} ({why}); watching it by reading the secret at every poll. For metadata-only polls grant: path \"{api_path}\" {{ capabilities = [\"read\"] }}"
        );
    }
    Answer::ReadInstead
}
