//! Dynamic secrets (`vault-dynamic://NAME#FIELD`): one `GET` of the endpoint the config
//! declares for NAME (`database/creds/cronos-app`) per launch, however many fields and
//! variables use it, so a user name and its password always come from the same lease.
//! References name only a declaration: an undeclared name is refused here as in the plan.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use reqwest::Method;
use serde_json::Value;

use super::http::{Http, HttpFailure};
use super::path;
use crate::backend::{Answers, FetchError, FetchErrorKind, Fetched, Lease, Metadata, Version};
use crate::config::DynamicSecret;
use crate::reference::{Reference, Scheme};
use crate::secret::SecretString;
use crate::untrusted_text::escaped;

pub fn is_dynamic(reference: &Reference) -> bool {
    reference.scheme == Scheme::VaultDynamic
}

/// `database/creds/cronos-app#password`, from the config alone; the reference itself when
/// it names no declaration.
pub fn location(reference: &Reference, declared: &[DynamicSecret]) -> String {
    match find(reference, declared) {
        Ok(secret) => format!(
            "{}#{}",
            secret.path,
            reference.key.as_deref().unwrap_or_default()
        ),
        Err(_) => reference.to_string(),
    }
}

/// The watcher's poll never reads a dynamic secret (each read makes new credentials): its
/// version stays the same, and the lease keeper decides when new credentials are due.
pub fn unchanging_version() -> Version {
    Version::new("dynamic-lease")
}

/// The endpoint the config declares for a dynamic reference, as policies name it.
pub fn declared_path(
    reference: &Reference,
    declared: &[DynamicSecret],
) -> Result<String, FetchError> {
    find(reference, declared).map(|secret| secret.path.clone())
}

fn find<'a>(
    reference: &Reference,
    declared: &'a [DynamicSecret],
) -> Result<&'a DynamicSecret, FetchError> {
    declared
        .iter()
        .find(|secret| secret.name == reference.target)
        .ok_or_else(|| {
            FetchError::new(
                FetchErrorKind::Invalid,
                format!(
                    "{reference}: the config declares no dynamic secret \"{}\"; only declared dynamic secrets are read",
                    reference.target
                ),
            )
            .with_hint(format!(
                "declare it under dynamic: in the config ({}: {{ path: database/creds/ROLE }})",
                reference.target
            ))
        })
}

/// Reads each declared secret the references name once, and answers every reference from
/// its secret's one lease.
pub async fn fetch(
    http: &Http,
    token: &SecretString,
    references: &[&Reference],
    declared: &[DynamicSecret],
    auth: &str,
) -> Answers {
    let mut answers = Answers::new();
    let mut wanted: BTreeMap<&str, (&DynamicSecret, Vec<&Reference>)> = BTreeMap::new();
    for reference in references {
        match find(reference, declared) {
            Ok(secret) => wanted
                .entry(secret.name.as_str())
                .or_insert_with(|| (secret, Vec::new()))
                .1
                .push(reference),
            Err(error) => {
                answers.insert((*reference).clone(), Err(error));
            }
        }
    }
    let reads =
        futures::future::join_all(wanted.into_values().map(|(secret, references)| async move {
            (secret, references, read(http, token, secret, auth).await)
        }))
        .await;
    for (secret, references, result) in reads {
        for reference in references {
            let answer = match &result {
                Ok((data, lease)) => field(data, lease, secret, reference),
                Err(error) => Err(error.clone()),
            };
            answers.insert(reference.clone(), answer);
        }
    }
    answers
}

type Data = serde_json::Map<String, Value>;

/// `GET /v1/{path}`: the credentials and their lease.
async fn read(
    http: &Http,
    token: &SecretString,
    secret: &DynamicSecret,
    auth: &str,
) -> Result<(Data, Lease), FetchError> {
    if let Some(why) = path::problem(&secret.path) {
        return Err(FetchError::new(
            FetchErrorKind::Invalid,
            format!("dynamic secret {}: the Vault path has {why}", secret.name),
        ));
    }
    let body = http
        .send(Method::GET, &secret.path, &[], Some(token), None)
        .await
        .map_err(|failure| explain(&failure, http, secret, auth))?;
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
    let (Some(id), Some(Value::Object(data))) = (text("/lease_id"), body.get("data")) else {
        return Err(FetchError::new(
            FetchErrorKind::Invalid,
            format!(
                "dynamic secret {}: {} answered without a lease and data, so it is not a dynamic secrets endpoint",
                secret.name, secret.path
            ),
        )
        .with_hint("point dynamic.NAME.path at an engine's credentials endpoint, e.g. database/creds/ROLE"));
    };
    let lease = Lease::new(
        &secret.name,
        id.to_string(),
        Duration::from_secs(
            body.get("lease_duration")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        ),
        body.get("renewable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    );
    Ok((data.clone(), lease))
}

fn field(
    data: &Data,
    lease: &Lease,
    secret: &DynamicSecret,
    reference: &Reference,
) -> Result<Fetched, FetchError> {
    let name = reference.key.as_deref().unwrap_or_default();
    let value = match data.get(name) {
        Some(Value::String(text)) => SecretString::from(text.as_str()),
        Some(other) => SecretString::from(other.to_string()),
        None => {
            let fields: Vec<String> = data.keys().map(|key| escaped(key)).collect();
            return Err(FetchError::new(
                FetchErrorKind::NotFound,
                format!(
                    "{reference}: the lease of {} has no field \"{name}\" (fields: {})",
                    secret.path,
                    fields.join(", ")
                ),
            )
            .with_hint("use one of those fields, and list it in dynamic.NAME.fields"));
        }
    };
    let expires = (!lease.duration.is_zero()).then(|| SystemTime::now() + lease.duration);
    Ok(Fetched {
        value,
        metadata: Metadata {
            expires,
            lease: Some(lease.clone()),
            ..Metadata::default()
        },
    })
}

fn explain(failure: &HttpFailure, http: &Http, secret: &DynamicSecret, auth: &str) -> FetchError {
    let reason = escaped(&failure.reason(http.address()));
    let what = format!("dynamic secret {} ({})", secret.name, secret.path);
    let (kind, hint) = match failure {
        HttpFailure::Status { status: 403, .. } => (
            FetchErrorKind::Denied,
            format!(
                "the token's policies (auth: {auth}) must grant read: path \"{}\" {{ capabilities = [\"read\"] }}",
                secret.path
            ),
        ),
        HttpFailure::Status { status: 400 | 404, .. } => (
            FetchErrorKind::NotFound,
            "check that the engine and its role exist: bao secrets list; bao list database/roles".to_string(),
        ),
        HttpFailure::Status { status, .. } if *status < 500 && *status != 429 => (
            FetchErrorKind::Invalid,
            "check the engine's configuration (bao read database/config/NAME)".to_string(),
        ),
        _ => (
            FetchErrorKind::Unavailable,
            failure
                .hint()
                .unwrap_or("check that Vault and the database behind the engine are up, or raise --timeout")
                .to_string(),
        ),
    };
    FetchError::new(kind, format!("{what}: {reason}")).with_hint(hint)
}
