//! `#KEY` of a JSON secret: one top-level key, for every backend that stores JSON text (AWS
//! Secrets Manager, and the env backend's variables holding JSON).

use crate::secret::SecretString;

/// A top-level key of a JSON object. Strings are taken as they are; numbers and booleans as
/// their JSON text (`5432`, `true`); objects and arrays as compact JSON; `null` is an error,
/// as no program wants the text "null" for a secret.
pub fn json_field(text: &SecretString, key: &str) -> Result<SecretString, String> {
    let Some(object) = json_object(text) else {
        return Err(format!(
            "#{key} selects a key of a JSON object, but the secret is not one"
        ));
    };
    match object.get(key) {
        Some(serde_json::Value::String(value)) => Ok(SecretString::from(value.as_str())),
        Some(serde_json::Value::Null) => Err(format!("key \"{key}\" is null")),
        Some(other) => Ok(SecretString::from(other.to_string())),
        None => {
            let names: Vec<&str> = object.keys().map(String::as_str).collect();
            Err(format!(
                "no key \"{key}\" in the JSON secret (its keys: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ))
        }
    }
}

fn json_object(text: &SecretString) -> Option<serde_json::Map<String, serde_json::Value>> {
    // The parse error is dropped unread: it could quote part of the value.
    match serde_json::from_slice(text.expose()) {
        Ok(serde_json::Value::Object(object)) => Some(object),
        _ => None,
    }
}

pub fn key_hint(text: &SecretString) -> String {
    if json_object(text).is_some() {
        "use one of the keys listed, or fix the key's name in the secret".into()
    } else {
        "remove #KEY to read the whole string, or store a JSON object".into()
    }
}
