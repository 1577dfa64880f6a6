//! From a secret version to the bytes a reference asks for: the whole `SecretString`, one
//! top-level key of a JSON `SecretString`, or base64 text (the only way to a `SecretBinary`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::request::Selection;
use crate::backend::json_key::{json_field, key_hint};
use crate::backend::{FetchError, FetchErrorKind, Fetched, Metadata};
use crate::secret::SecretString;

/// What AWS holds in one version of a secret.
#[derive(Debug, Clone)]
pub enum Payload {
    Text(SecretString),
    Binary(SecretString),
    /// Neither field was set (a secret created without a value has no version to read).
    Empty,
}

/// One secret version, read once and shared by every reference to it.
#[derive(Debug, Clone)]
pub struct SecretVersion {
    pub payload: Payload,
    pub metadata: Metadata,
}

impl SecretVersion {
    /// The value for one reference. `location` names it in messages, which never hold a value
    /// (nor, for a missing key, the other keys' values: only their names).
    pub fn select(&self, selection: &Selection, location: &str) -> Result<Fetched, FetchError> {
        let invalid = |problem: String, hint: String| {
            FetchError::new(FetchErrorKind::Invalid, format!("{location}: {problem}"))
                .with_hint(hint)
        };
        let selected = match (&self.payload, &selection.key) {
            (Payload::Empty, _) => {
                return Err(FetchError::new(
                    FetchErrorKind::NotFound,
                    format!("{location}: the secret has no value"),
                )
                .with_hint(
                    "store one: cronos-secrets set NAME, or aws secretsmanager put-secret-value",
                ));
            }
            (Payload::Binary(_), _) if !selection.base64 => {
                return Err(invalid(
                    "the secret holds binary data (SecretBinary), which is not text".into(),
                    "add ?encoding=base64 to the reference to receive it as base64 text".into(),
                ));
            }
            (Payload::Binary(_), Some(_)) => {
                return Err(invalid(
                    "#KEY selects from a JSON SecretString, but the secret is binary".into(),
                    "remove #KEY and read the whole binary secret with ?encoding=base64".into(),
                ));
            }
            (Payload::Text(text) | Payload::Binary(text), None) => text.clone(),
            (Payload::Text(text), Some(key)) => {
                json_field(text, key).map_err(|problem| invalid(problem, key_hint(text)))?
            }
        };
        let value = if selection.base64 {
            SecretString::from(STANDARD.encode(selected.expose()))
        } else {
            selected
        };
        Ok(Fetched {
            value,
            metadata: self.metadata.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> SecretVersion {
        SecretVersion {
            payload: Payload::Text(SecretString::from(value)),
            metadata: Metadata::default(),
        }
    }

    fn select(version: &SecretVersion, key: Option<&str>, base64: bool) -> Result<String, String> {
        let selection = Selection {
            key: key.map(str::to_string),
            base64,
        };
        version
            .select(&selection, "aws-sm db")
            .map(|fetched| fetched.value.expose_str().unwrap().to_string())
            .map_err(|error| format!("{} / {}", error.message, error.hint.unwrap_or_default()))
    }

    #[test]
    fn whole_strings_and_json_keys() {
        let json = text(r#"{"user":"app","password":"planted-pw","port":5432,"tls":true}"#);
        assert_eq!(
            select(&json, Some("password"), false).unwrap(),
            "planted-pw"
        );
        assert_eq!(select(&json, Some("port"), false).unwrap(), "5432");
        assert_eq!(select(&json, Some("tls"), false).unwrap(), "true");
        assert!(select(&json, None, false).unwrap().starts_with('{'));
        assert_eq!(select(&text("plain"), None, false).unwrap(), "plain");
    }

    #[test]
    fn a_missing_key_lists_key_names_but_no_values() {
        let json = text(r#"{"user":"app","password":"planted-pw"}"#);
        let error = select(&json, Some("pass"), false).unwrap_err();
        assert!(error.contains("no key \"pass\""), "{error}");
        assert!(error.contains("(its keys: password, user)"), "{error}");
        assert!(
            !error.contains("planted-pw") && !error.contains("app\""),
            "{error}"
        );
        let not_json = select(&text("planted-plain"), Some("k"), false).unwrap_err();
        assert!(not_json.contains("not one"), "{not_json}");
        assert!(!not_json.contains("planted-plain"), "{not_json}");
        let null = select(&text(r#"{"k":null}"#), Some("k"), false).unwrap_err();
        assert!(null.contains("null"), "{null}");
    }

    #[test]
    fn binary_needs_base64() {
        let binary = SecretVersion {
            payload: Payload::Binary(SecretString::new(vec![0, 159, 146, 150])),
            metadata: Metadata::default(),
        };
        let error = select(&binary, None, false).unwrap_err();
        assert!(error.contains("?encoding=base64"), "{error}");
        assert_eq!(select(&binary, None, true).unwrap(), "AJ+Slg==");
        assert!(select(&binary, Some("k"), true).is_err());
        assert_eq!(select(&text("hi"), None, true).unwrap(), "aGk=");
    }
}
