//! The KV secrets engine, v1 and v2: paths, reads, writes, and what Vault's answers mean.

use std::time::{Duration, SystemTime};

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::http::{Http, HttpFailure};
use super::path::SecretPath;
use crate::backend::http::Failure;
use crate::backend::{FetchError, FetchErrorKind, Metadata};
use crate::secret::SecretString;
use crate::untrusted_text::escaped;

/// What one read returned: every key of the secret, and its version metadata.
pub struct SecretData {
    pub keys: Map<String, Value>,
    pub metadata: Metadata,
}

/// What the server says a mount is: the one check that lets a path be read raw (KV v1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    /// A KV secrets engine, of this version.
    Kv(u8),
    /// Another engine (`transit`, `totp`, a plugin): its paths are not secrets to hand on.
    Other(String),
}

/// The mount `mount` is, from `sys/internal/ui/mounts/MOUNT` (one request per mount per
/// launch), or why the lookup failed (a token without access, an old server). The answer
/// must name `mount` itself: a lookup answers for the mount *containing* a path.
pub async fn mount_kind(
    http: &Http,
    token: &SecretString,
    mount: &str,
) -> Result<MountKind, String> {
    let body = match http
        .send(
            Method::GET,
            &format!("sys/internal/ui/mounts/{mount}"),
            &[],
            Some(token),
            None,
        )
        .await
    {
        Ok(body) => body,
        Err(failure) => return Err(escaped(&failure.reason(http.address()))),
    };
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
    match text("/data/path") {
        None => return Err("the answer names no mount".to_string()),
        Some(path) if path.trim_end_matches('/') != mount => {
            return Ok(MountKind::Other("not a mount by that name".to_string()));
        }
        Some(_) => {}
    }
    Ok(match text("/data/type") {
        // A kv mount without a version option is KV v1.
        Some("kv") => MountKind::Kv(match text("/data/options/version") {
            Some("2") => 2,
            _ => 1,
        }),
        Some(kind) => MountKind::Other(format!("a \"{}\" engine", escaped(kind))),
        None => MountKind::Other("of no stated type".to_string()),
    })
}

/// A reference into a mount the server did not report as KV: refused, whatever was asked.
pub fn not_kv(secret: &SecretPath, what: &str) -> FetchError {
    FetchError::new(
        FetchErrorKind::Invalid,
        format!(
            "{}: mount \"{}\" is {what}, not a KV secrets engine; only KV mounts are read",
            secret.logical(),
            secret.mount
        ),
    )
    .with_hint(format!(
        "point the reference at a KV mount (bao secrets list shows each mount's type); \"{}\" is never read raw",
        secret.mount
    ))
}

/// A KV v1 read needs the mount confirmed as KV, and the lookup could not say.
pub fn unconfirmed(secret: &SecretPath, why: &str) -> FetchError {
    FetchError::new(
        FetchErrorKind::Denied,
        format!(
            "{}: cannot confirm that mount \"{}\" is a KV secrets engine (looking up sys/internal/ui/mounts/{}: {why}), so it is not read as KV v1",
            secret.logical(),
            secret.mount,
            secret.mount
        ),
    )
    .with_hint(format!(
        "the token needs a capability on some path of the mount (e.g. path \"{}/*\" {{ capabilities = [\"read\"] }}); check the mount exists with: bao secrets list",
        secret.mount
    ))
}

pub async fn read(
    http: &Http,
    token: &SecretString,
    secret: &SecretPath,
    kv_version: u8,
    auth: &str,
) -> Result<SecretData, FetchError> {
    // A number, sent as the only query parameter: nothing else of a reference reaches the query.
    let version = match (kv_version, secret.version) {
        (2, Some(version)) => Some(version.to_string()),
        _ => None,
    };
    let query: Vec<(&str, &str)> = version
        .as_deref()
        .map(|version| ("version", version))
        .into_iter()
        .collect();
    let body = http
        .send(
            Method::GET,
            &secret.api_path(kv_version),
            &query,
            Some(token),
            None,
        )
        .await
        .map_err(|failure| explain(failure, http, secret, kv_version, "reading", auth))?;
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let (keys, metadata) = match kv_version {
        1 => (data, Metadata::default()),
        _ => {
            let keys = data.get("data").cloned().unwrap_or(Value::Null);
            let metadata = Metadata {
                previous_kept: keys.get(PREVIOUS_FIELD).is_some(),
                ..version_metadata(data.get("metadata").unwrap_or(&Value::Null))
            };
            (keys, metadata)
        }
    };
    match keys {
        Value::Object(keys) => Ok(SecretData { keys, metadata }),
        // KV v2 answers a deleted (not destroyed) version with data: null.
        _ => Err(FetchError::new(
            FetchErrorKind::NotFound,
            format!(
                "{} has no data (the version was deleted or destroyed)",
                secret.api_path(kv_version)
            ),
        )
        .with_hint(format!(
            "restore it with: bao kv undelete -mount={} {}",
            secret.mount, secret.path
        ))),
    }
}

/// The field beside `value` where `rotate` keeps the value it replaced (KV v2): read with
/// the secret, so its presence is the current read's [`Metadata::previous_kept`].
pub(super) const PREVIOUS_FIELD: &str = "previous";

/// Sets one key, keeping the secret's other keys; KV v2 writes check-and-set against the
/// version just read, so a concurrent writer is not silently overwritten.
pub async fn write(
    http: &Http,
    token: &SecretString,
    secret: &SecretPath,
    kv_version: u8,
    key: &str,
    value: &SecretString,
    auth: &str,
) -> Result<Metadata, FetchError> {
    let text = value.expose_str().ok_or_else(|| {
        FetchError::new(
            FetchErrorKind::Invalid,
            "Vault KV values must be valid UTF-8 text",
        )
    })?;
    let (mut keys, current_version) = match read(http, token, secret, kv_version, auth).await {
        Ok(current) => (current.keys, current.metadata.version),
        Err(error) if error.kind == FetchErrorKind::NotFound => (Map::new(), None),
        Err(error) => return Err(error),
    };
    keys.insert(key.to_string(), Value::String(text.to_string()));
    let body = match kv_version {
        1 => Value::Object(keys),
        _ => {
            let cas: u64 = current_version.and_then(|v| v.parse().ok()).unwrap_or(0);
            json!({ "data": keys, "options": { "cas": cas } })
        }
    };
    let answer = http
        .send(
            Method::POST,
            &secret.api_path(kv_version),
            &[],
            Some(token),
            Some(&body),
        )
        .await
        .map_err(|failure| explain(failure, http, secret, kv_version, "writing", auth))?;
    Ok(version_metadata(answer.get("data").unwrap_or(&Value::Null)))
}

/// A KV v2 version's number and creation time, as reads (`data.metadata`) and writes (`data`)
/// both report them.
pub(super) fn version_metadata(object: &Value) -> Metadata {
    Metadata {
        version: object
            .get("version")
            .and_then(Value::as_u64)
            .map(|v| v.to_string()),
        updated: object
            .get("created_time")
            .and_then(Value::as_str)
            .and_then(parse_rfc3339),
        expires: None,
        previous_kept: false,
        previous_version: None,
        lease: None,
    }
}

/// A key of the secret as the program will see it: strings as they are, other JSON as JSON text.
pub fn key_value(
    data: &SecretData,
    key: &str,
    secret: &SecretPath,
    kv_version: u8,
) -> Result<SecretString, FetchError> {
    match data.keys.get(key) {
        Some(Value::String(text)) => Ok(SecretString::from(text.as_str())),
        Some(other) => Ok(SecretString::from(other.to_string())),
        None => {
            let names: Vec<&str> = data.keys.keys().map(String::as_str).collect();
            let has = if names.is_empty() {
                "no keys".to_string()
            } else {
                format!("keys: {}", names.join(", "))
            };
            Err(FetchError::new(
                FetchErrorKind::NotFound,
                format!(
                    "{} has no key \"{key}\" ({has})",
                    secret.api_path(kv_version)
                ),
            )
            .with_hint("choose the key with #KEY, e.g. secret://NAME#password"))
        }
    }
}

/// Turns a failed request into the message a user needs: what, where, and what to do.
pub(super) fn explain(
    failure: HttpFailure,
    http: &Http,
    secret: &SecretPath,
    kv_version: u8,
    doing: &str,
    auth: &str,
) -> FetchError {
    let api_path = secret.api_path(kv_version);
    match failure {
        HttpFailure::Status { status: 403, .. } => {
            let capability = match doing {
                "reading" => "read",
                // Deleting a pending slot deletes its metadata (every version).
                "deleting" => "delete",
                _ => "create\" and \"update",
            };
            FetchError::new(
                FetchErrorKind::Denied,
                format!(
                    "permission denied {doing} {api_path} (auth: {auth}): the token's policies must grant \"{capability}\" on that path"
                ),
            )
            .with_hint(format!("add to the policy: path \"{api_path}\" {{ capabilities = [\"{capability}\"] }}"))
        }
        HttpFailure::Status { status: 404, .. } => {
            let what = match secret.version {
                Some(version) => format!("version {version} of {api_path}"),
                None => api_path.clone(),
            };
            FetchError::new(FetchErrorKind::NotFound, format!("not found: {what}")).with_hint(
                format!(
                    "store it with: bao kv put -mount={} {} value=… (or vault kv put)",
                    secret.mount, secret.path
                ),
            )
        }
        HttpFailure::Status { status, errors } => {
            let detail = if errors.is_empty() {
                String::new()
            } else {
                format!(": {}", errors.join("; "))
            };
            let kind = if status == 429 || status >= 500 {
                FetchErrorKind::Unavailable
            } else {
                FetchErrorKind::Invalid
            };
            FetchError::new(
                kind,
                format!("Vault answered {status} {doing} {api_path}{detail}"),
            )
        }
        HttpFailure::Malformed { reason } => FetchError::new(
            FetchErrorKind::Invalid,
            format!("{reason} ({doing} {api_path})"),
        ),
        other => {
            let kind = match other {
                HttpFailure::Transport(Failure::Redirect { .. } | Failure::TooLarge) => {
                    FetchErrorKind::Invalid
                }
                _ => FetchErrorKind::Unavailable,
            };
            let error = FetchError::new(
                kind,
                format!("{} ({doing} {api_path})", other.reason(http.address())),
            );
            match other.hint() {
                Some(hint) => error.with_hint(hint),
                None => error,
            }
        }
    }
}

/// Parses Vault's `2024-05-01T12:34:56.123456789Z` timestamps.
pub(super) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-').map(|part| part.parse::<i64>().ok());
    let (year, month, day) = (
        date_parts.next()??,
        date_parts.next()??,
        date_parts.next()??,
    );
    let time = time.strip_suffix('Z')?;
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock_parts = clock.splitn(3, ':').map(|part| part.parse::<i64>().ok());
    let (hour, minute, second) = (
        clock_parts.next()??,
        clock_parts.next()??,
        clock_parts.next()??,
    );
    let nanos: u32 = format!("{fraction:0<9}").get(..9)?.parse().ok()?;
    // Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    let seconds = u64::try_from(seconds).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(seconds, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vault_timestamps() {
        let parsed = parse_rfc3339("2024-05-01T12:34:56.5Z").unwrap();
        let seconds = parsed.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(seconds.as_secs(), 1_714_566_896);
        assert_eq!(seconds.subsec_millis(), 500);
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:00Z"),
            Some(SystemTime::UNIX_EPOCH)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn api_paths_by_kv_version() {
        let secret = SecretPath {
            mount: "secret".into(),
            path: "cronos-ai/production/jwt_secret".into(),
            version: None,
        };
        assert_eq!(
            secret.api_path(2),
            "secret/data/cronos-ai/production/jwt_secret"
        );
        assert_eq!(secret.api_path(1), "secret/cronos-ai/production/jwt_secret");
    }
}
