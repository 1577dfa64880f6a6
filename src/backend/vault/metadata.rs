//! `rotate --status`'s dates without the values: `GET <mount>/metadata/<path>` answers KV v2's
//! `current_version` and each version's `created_time`, one request per path however many
//! keys are read from it. KV v1 keeps neither, so it costs no request and reports none.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::Value;

use super::VaultBackend;
use super::http::HttpFailure;
use super::kv::{explain, parse_rfc3339};
use super::path::SecretPath;
use crate::backend::{Described, FetchError, FetchErrorKind, Metadata};
use crate::reference::Reference;

pub async fn metadata(backend: &VaultBackend, references: &[Reference]) -> Described {
    let mut described = Described::new();
    let mut by_path: BTreeMap<SecretPath, Vec<&Reference>> = BTreeMap::new();
    for reference in references {
        match backend.target(reference) {
            Ok((secret, _)) => by_path.entry(secret).or_default().push(reference),
            Err(error) => {
                described.insert(reference.clone(), Err(error));
            }
        }
    }
    let token = match backend.token().await {
        Ok(token) => token,
        Err(error) => {
            for reference in by_path.values().flatten() {
                described.insert((*reference).clone(), Err(error.clone()));
            }
            return described;
        }
    };
    let answers = futures::future::join_all(by_path.iter().map(|(secret, references)| {
        let token = &token;
        async move { (references, of_path(backend, token, secret).await) }
    }))
    .await;
    for (references, answer) in answers {
        for reference in references {
            described.insert((*reference).clone(), answer.clone());
        }
    }
    described
}

async fn of_path(
    backend: &VaultBackend,
    token: &crate::secret::SecretString,
    secret: &SecretPath,
) -> Result<Metadata, FetchError> {
    if backend.write_version(token, secret).await? == 1 {
        return Ok(Metadata::default());
    }
    let api_path = format!("{}/metadata/{}", secret.mount, secret.path);
    let auth = backend.settings.auth.describe();
    let body = {
        let _permit = backend.permits.acquire().await;
        backend
            .http
            .send(Method::GET, &api_path, &[], Some(token), None)
            .await
    };
    let body = match body {
        Ok(body) => body,
        // Metadata is a path of its own in a policy: a grant of `data/` alone does not cover it.
        Err(HttpFailure::Status { status: 403, .. }) => {
            return Err(FetchError::new(
                FetchErrorKind::Denied,
                format!(
                    "permission denied reading {api_path} (auth: {auth}): rotate reads the versions' dates there, not the values"
                ),
            )
            .with_hint(format!(
                "add to the policy: path \"{api_path}\" {{ capabilities = [\"read\"] }}"
            )));
        }
        Err(failure) => return Err(explain(failure, &backend.http, secret, 2, "reading", &auth)),
    };
    let data = body.get("data").unwrap_or(&Value::Null);
    let version = secret.version.or_else(|| {
        data.get("current_version")
            .and_then(Value::as_u64)
            .filter(|version| *version > 0)
    });
    let Some(version) = version else {
        return Err(FetchError::new(
            FetchErrorKind::Invalid,
            format!("{api_path}: the metadata names no current version"),
        ));
    };
    let created = data
        .pointer(&format!("/versions/{version}/created_time"))
        .and_then(Value::as_str);
    Ok(Metadata {
        version: Some(version.to_string()),
        updated: created.and_then(parse_rfc3339),
        ..Metadata::default()
    })
}
