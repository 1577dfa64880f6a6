//! What a key's name says about its value: a declared secret (the required-secrets table or
//! the config's `secrets:`), a password, another secret, or nothing secret.

use std::collections::HashMap;

use regex::Regex;

use super::category::Category;
use crate::schema::RequiredSecret;

/// A secret the project declares, under one of its names.
#[derive(Debug, Clone)]
pub struct DeclaredSecret {
    pub variable: String,
    pub description: String,
    pub min_length: usize,
    pub category: Category,
}

/// Every name of every declared secret: the variable, its aliases and the backend name
/// (`database_password`, also spelt `database-password` as Kubernetes keys are).
#[derive(Debug, Clone)]
pub struct Declared {
    by_name: HashMap<String, DeclaredSecret>,
    /// Lines holding none of these words cannot hold a key that matters: skipping them is
    /// what makes large trees fast (the assignment patterns need captures, which are slow).
    key_words: Regex,
}

impl Default for Declared {
    fn default() -> Declared {
        Declared::new(&[])
    }
}

impl Declared {
    pub fn new(secrets: &[RequiredSecret]) -> Declared {
        let mut by_name = HashMap::new();
        for secret in secrets {
            let declared = DeclaredSecret {
                variable: secret.env.clone(),
                description: secret.description.clone(),
                min_length: secret.min_length,
                category: Category::of_name(&secret.env),
            };
            for name in secret.variables().chain([secret.name.as_str()]) {
                by_name.insert(normalize(name), declared.clone());
            }
        }
        let mut words: Vec<String> = ["pass", "pwd", "secret", "token", "key", "auth", "cred"]
            .iter()
            .map(|word| word.to_string())
            .collect();
        for name in by_name.keys() {
            // Declared names match in any case and with `-` for `_`.
            words.push(regex::escape(name).replace('_', "[-_]"));
        }
        let key_words =
            Regex::new(&format!("(?i-u){}", words.join("|"))).expect("key words compile");
        Declared { by_name, key_words }
    }

    pub fn key_words(&self) -> &Regex {
        &self.key_words
    }

    pub fn get(&self, key: &str) -> Option<&DeclaredSecret> {
        self.by_name.get(&normalize(last_segment(key)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Password,
    AwsSecretKey,
    Secret(Category),
    Other,
}

/// `self.db_password` → `db_password`; `spring.datasource.password` → `password`.
fn last_segment(key: &str) -> &str {
    let key = key.trim_matches(|c: char| c == '-' || c == '"' || c == '\'');
    key.rsplit('.').next().unwrap_or(key)
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

/// Suffixes that make a secret-sounding key hold something else: where the secret is, how
/// long it must be, which variable holds it (`DB_PASSWORD_FILE`, `jwt_secret_env`).
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "_file",
    "_path",
    "_env",
    "_var",
    "_variable",
    "_name",
    "_names",
    "_id",
    "_length",
    "_len",
    "_min",
    "_max",
    "_ttl",
    "_timeout",
    "_header",
    "_type",
    "_field",
    "_policy",
    "_version",
    "_rotation",
    "_days",
    "_enabled",
    "_required",
    "_prefix",
    "_suffix",
    "_mount",
    "_count",
    "_size",
    "_expiry",
    "_expires",
    "_expires_in",
    "_algorithm",
    "_encryption",
    "_alg",
    "_hash",
    "_format",
    "_encoding",
    "_source",
    "_ref",
    "_reference",
    "_location",
    "_dir",
    "_regex",
    "_pattern",
    "_rule",
    "_mode",
    "_provider",
    "_backend",
    "_store",
    "_kind",
    "_label",
    "_description",
    "_hint",
    "_placeholder",
    "_url",
    "_endpoint",
    "_arn",
    "_key_id",
    "_chars",
    "_strength",
];

/// Prefixes with the same effect: bounds, negations, and Helm's `existingSecret…` settings,
/// which name a Secret object or one of its keys (`existingSecretPasswordKey: password`).
const NOT_SECRET_PREFIXES: &[&str] = &["min_", "max_", "no_", "existing_"];

const PASSWORD_WORDS: &[&str] = &["password", "passwd", "pwd", "pass", "passphrase"];

/// Whole words of a key that name a secret, and the category each implies.
pub fn classify_key(key: &str) -> KeyKind {
    let name = camel_to_snake(last_segment(key));
    if NOT_SECRET_SUFFIXES
        .iter()
        .any(|suffix| name.ends_with(suffix))
        || NOT_SECRET_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
    {
        return KeyKind::Other;
    }
    let words: Vec<&str> = name.split(['_', '-']).filter(|w| !w.is_empty()).collect();
    let has = |word: &str| words.contains(&word);
    if (has("aws") && has("secret")) || name.contains("secret_access_key") {
        return KeyKind::AwsSecretKey;
    }
    // `PASSWORD_KEY`, `userPasswordKey`: the name of the field that holds a password.
    if words.len() > 1
        && words.last() == Some(&"key")
        && PASSWORD_WORDS.contains(&words[words.len() - 2])
    {
        return KeyKind::Other;
    }
    // `PGPASSWORD`, `ROOTPASSWORD`: a password word run into a prefix, as env names are.
    if PASSWORD_WORDS.iter().any(|word| has(word))
        || words
            .iter()
            .any(|word| word.ends_with("password") || word.ends_with("passwd"))
    {
        return KeyKind::Password;
    }
    let secret_word = has("secret")
        || has("token")
        || has("apikey")
        || has("credential")
        || has("credentials")
        || has("auth")
        || has("authtoken")
        || (words.len() > 1 && words.last() == Some(&"key"));
    if secret_word {
        // The whole key: `jwt.secret` is a JWT secret.
        KeyKind::Secret(Category::of_name(&camel_to_snake(key)))
    } else {
        KeyKind::Other
    }
}

/// `dbPassword` → `db_password`, `_authToken` → `_auth_token`.
fn camel_to_snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut previous_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::cronos_ai_defaults;

    #[test]
    fn declared_names_match_any_spelling() {
        let declared = Declared::new(&cronos_ai_defaults());
        for key in [
            "CRONOS_AI_DB_PASSWORD",
            "DATABASE_PASSWORD",
            "database_password",
            "database-password",
            "self.jwt_secret",
            "JWT_SECRET",
        ] {
            assert!(declared.get(key).is_some(), "{key}");
        }
        assert!(declared.get("DB_PASSWORD").is_none());
        assert_eq!(declared.get("jwt_secret").unwrap().min_length, 32);
    }

    #[test]
    fn keys_are_classified_by_whole_words() {
        assert_eq!(classify_key("DB_PASSWORD"), KeyKind::Password);
        assert_eq!(classify_key("dbPassword"), KeyKind::Password);
        assert_eq!(classify_key("DB_PASSWORD_FILE"), KeyKind::Other);
        assert_eq!(classify_key("password_min_length"), KeyKind::Other);
        assert_eq!(classify_key("AWS_SECRET_ACCESS_KEY"), KeyKind::AwsSecretKey);
        assert_eq!(
            classify_key("_authToken"),
            KeyKind::Secret(Category::ApiKeyOrToken)
        );
        assert_eq!(
            classify_key("stripe_key"),
            KeyKind::Secret(Category::ApiKeyOrToken)
        );
        assert_eq!(classify_key("key"), KeyKind::Other);
        assert_eq!(classify_key("passenger"), KeyKind::Other);
        assert_eq!(classify_key("token_ttl"), KeyKind::Other);
        assert_eq!(classify_key("PGPASSWORD"), KeyKind::Password);
        assert_eq!(classify_key("password_encryption"), KeyKind::Other);
        assert_eq!(
            classify_key("jwt.secret"),
            KeyKind::Secret(Category::JwtSecret)
        );
        assert_eq!(classify_key("PASSWORD_KEY"), KeyKind::Other);
        assert_eq!(classify_key("pair_password_key"), KeyKind::Other);
        assert_eq!(classify_key("existingSecretPasswordKey"), KeyKind::Other);
        assert_eq!(classify_key("existingSecret"), KeyKind::Other);
        assert_eq!(
            classify_key("SECRET_KEY"),
            KeyKind::Secret(Category::ApiKeyOrToken)
        );
    }
}
