//! Whether a literal assigned to a secret-sounding key looks like a secret. Only for keys the
//! project did not declare: a declared secret's literal is a finding whatever it looks like.

/// Words that stand in for a value in docs and schemas (`password: string`), and field names
/// (`PASSWORD_FIELD = "value"`: the JSON field a password is read from).
const STAND_INS: &[&str] = &[
    "value",
    "true",
    "false",
    "null",
    "none",
    "nil",
    "yes",
    "no",
    "required",
    "optional",
    "string",
    "str",
    "undefined",
    "empty",
    "password",
    "secret",
    "token",
    "pass",
    "passwd",
    "pwd",
    "redacted",
    "hidden",
    "masked",
    "bool",
    "int",
    "bytes",
];

/// A literal password: anything of 4 characters or more that is not a stand-in word, a
/// variable name (`MY_SECRET1`, which names where the value is), a path, a URL or a call.
pub fn is_plausible_password(value: &str) -> bool {
    let length = value.chars().count();
    length >= 4
        && !value.chars().any(char::is_whitespace)
        && !STAND_INS.contains(&value.to_ascii_lowercase().as_str())
        && !is_variable_name(value)
        && !is_path_or_url(value)
        && !is_call(value)
        && !is_format_string(value)
        && !(value.chars().all(|c| c.is_ascii_digit()) && length < 6)
}

/// A random-looking literal: 16 characters or more, two character classes or more, a digit
/// (or 32 characters or more: `BatchGetSecretValue` is a name), Shannon entropy of 3 bits per
/// character or more, and not a name, path, URL, UUID-like slug or format string.
pub fn is_high_entropy(value: &str) -> bool {
    let length = value.chars().count();
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .into_iter()
    .filter(|&present| present)
    .count();
    length >= 16
        && classes >= 2
        && (length >= 32 || value.chars().any(|c| c.is_ascii_digit()))
        && !value.chars().any(char::is_whitespace)
        && !is_format_string(value)
        && !is_variable_name(value)
        && !is_path_or_url(value)
        && !is_call(value)
        && !is_slug(value)
        && !value.contains("EXAMPLE")
        && shannon_entropy(value) >= 3.0
}

/// The shape of an AWS secret access key: 40 base64 characters.
pub fn is_aws_secret_key(value: &str) -> bool {
    value.len() == 40
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '+' | '='))
}

/// AWS's documentation writes its example credentials with these endings
/// (`AKIAIOSFODNN7EXAMPLE`, `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`); no issued key has them.
pub fn is_aws_documented_example(value: &str) -> bool {
    value.ends_with("EXAMPLE") || value.ends_with("EXAMPLEKEY")
}

fn is_variable_name(value: &str) -> bool {
    value.contains('_')
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_path_or_url(value: &str) -> bool {
    value.starts_with(['/', '~'])
        || value.starts_with("./")
        || value.starts_with("../")
        || value.contains("://")
}

fn is_call(value: &str) -> bool {
    value.ends_with(')')
        && value.split_once('(').is_some_and(|(callee, _)| {
            !callee.is_empty()
                && callee
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'))
        })
}

/// `f"bench-{index:03d}"`, `"{}-{}"`: text with interpolation fields is built at run time.
fn is_format_string(value: &str) -> bool {
    value
        .find('{')
        .is_some_and(|open| value[open..].contains('}'))
}

/// `inf-vsqt-01-secret-id`, `3f2b…-…-…`: lower-case words joined by `-`, `_` or `.`.
fn is_slug(value: &str) -> bool {
    value.split(['-', '_', '.']).count() >= 3
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let length = value.chars().count() as f64;
    counts
        .values()
        .map(|&count| {
            let p = count as f64 / length;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        assert!(is_plausible_password("cronos123"));
        assert!(is_plausible_password("CHANGEME"));
        assert!(!is_plausible_password("MY_SECRET1"));
        assert!(!is_plausible_password("password"));
        assert!(!is_plausible_password("/run/secrets/db"));
        assert!(!is_plausible_password("getpass()"));
        assert!(!is_plausible_password("abc"));
        assert!(!is_plausible_password("value"));
    }

    #[test]
    fn entropy() {
        assert!(is_high_entropy("Zx9kP2mQ7vR4tL8wN3bY6cF1"));
        assert!(is_high_entropy("sk-1234567890abcdef"));
        assert!(!is_high_entropy("inf-vsqt-01-secret-id"));
        assert!(!is_high_entropy("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_high_entropy("aaaaaaaaaaaaaaaaaaaaaaaa1"));
        assert!(!is_high_entropy("CRONOS_AI_API_KEY_NAME"));
        assert!(!is_high_entropy("BatchGetSecretValue"));
        assert!(!is_high_entropy(
            "f\"bench-secret-{index:03d}-0123456789abcdef\")"
        ));
        assert!(is_aws_secret_key(
            "FakeCorpusSecretAccessKey0123456789abcdE"
        ));
        assert!(is_aws_documented_example(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ));
        assert!(is_aws_documented_example("AKIAIOSFODNN7EXAMPLE"));
    }
}
