//! The resolved set written for other tools: dotenv, JSON, shell and a Kubernetes Secret,
//! each quoted so that it reads back exactly the bytes that were resolved.

use std::collections::BTreeMap;
use std::ffi::OsStr;

use thiserror::Error;

use crate::env_vars::{Environment, is_launcher_variable};
use crate::plan::Plan;
use crate::secret::SecretString;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExportError {
    #[error("{key}: the value is not UTF-8 text, which this format cannot hold")]
    NotUtf8 { key: String },
    #[error("{key}: the value holds a NUL byte, which env files and shells cannot carry")]
    Nul { key: String },
    #[error(
        "{key}: the value holds a carriage return before a line feed, which env-file parsers drop"
    )]
    CarriageReturnLineFeed { key: String },
    #[error(
        "{key}: the value holds both a single quote and a backtick (or ends in a backslash and holds a backtick), which no quoting reads back the same in docker compose and sh"
    )]
    NoCommonQuoting { key: String },
    #[error(
        "{key}: not a shell variable name (letters, digits and \"_\", not starting with a digit)"
    )]
    NotAShellName { key: String },
    #[error(
        "invalid Secret name \"{name}\": lower-case letters, digits, \"-\" and \".\", starting and ending with a letter or digit, at most 253 characters"
    )]
    InvalidSecretName { name: String },
}

impl ExportError {
    pub fn hint(&self) -> &'static str {
        match self {
            ExportError::NotAShellName { .. } => {
                "rename the entry, or use --format dotenv or json, which allow \".\" and \"-\""
            }
            ExportError::InvalidSecretName { .. } => "pass --name cronos-ai-secrets",
            _ => "use --format json or k8s-secret, which hold any UTF-8 text exactly",
        }
    }
}

/// What `export` writes: the required secrets and every env-file entry, with the values the
/// program would get; not the rest of the launcher's environment, nor its credentials.
/// `values` are the launch's resolved variables; env-file entries the environment overrides
/// (and `KEY` pass-through lines) take the environment's value. Sorted by name.
pub fn exported_set(
    plan: &Plan,
    env: &Environment,
    values: Vec<(String, SecretString)>,
) -> Vec<(String, SecretString)> {
    let mut resolved: BTreeMap<String, SecretString> = values.into_iter().collect();
    let mut set = BTreeMap::new();
    let required = plan
        .vars
        .iter()
        .filter(|var| var.secret.is_some())
        .map(|var| &var.name);
    for name in required.chain(&plan.env_file_keys) {
        if is_launcher_variable(OsStr::new(name)) || set.contains_key(name) {
            continue;
        }
        let value = match resolved.remove(name) {
            Some(value) => value,
            None => match env.get(name) {
                Some(value) => SecretString::new(value.as_encoded_bytes().to_vec()),
                None => continue,
            },
        };
        set.insert(name.clone(), value);
    }
    set.into_iter().collect()
}

/// `KEY='value'` lines that our env-file parser, docker compose and `sh -c '. ./file'` all
/// read back as the same bytes. Single quotes are literal in all three; a value that needs a
/// single quote (or ends in a backslash, which compose reads as escaping the closing quote)
/// is double-quoted with `\\`, `\"` and `\$`, the escapes all three share.
pub fn dotenv(entries: &[(String, SecretString)]) -> Result<SecretString, ExportError> {
    let mut output = SecretString::default();
    for (key, value) in entries {
        let text = line_text(key, value)?;
        if text.contains("\r\n") {
            return Err(ExportError::CarriageReturnLineFeed { key: key.clone() });
        }
        output.push_bytes(key.as_bytes());
        output.push_bytes(b"=");
        if !text.contains('\'') && !text.ends_with('\\') {
            output.push_bytes(b"'");
            output.push_bytes(text.as_bytes());
            output.push_bytes(b"'");
        } else if !text.contains('`') {
            output.push_bytes(b"\"");
            for c in text.chars() {
                if matches!(c, '\\' | '"' | '$') {
                    output.push_bytes(b"\\");
                }
                output.push_bytes(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
            output.push_bytes(b"\"");
        } else {
            return Err(ExportError::NoCommonQuoting { key: key.clone() });
        }
        output.push_bytes(b"\n");
    }
    Ok(output)
}

/// `export KEY='value'` lines for `vars=$(cronos-secrets export --format shell) || exit 1; eval "$vars"`.
pub fn shell(entries: &[(String, SecretString)]) -> Result<SecretString, ExportError> {
    let mut output = SecretString::default();
    for (key, value) in entries {
        let text = line_text(key, value)?;
        let valid_name = key
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Err(ExportError::NotAShellName { key: key.clone() });
        }
        output.push_bytes(b"export ");
        output.push_bytes(key.as_bytes());
        output.push_bytes(b"=");
        // A quoted copy is a plain String: move it into a SecretString to zeroize it.
        match shell_words::quote(text) {
            std::borrow::Cow::Borrowed(same) => output.push_bytes(same.as_bytes()),
            std::borrow::Cow::Owned(quoted) => {
                output.push_bytes(SecretString::from(quoted).expose())
            }
        }
        output.push_bytes(b"\n");
    }
    Ok(output)
}

/// `{"KEY": "value", …}`, pretty-printed, with a final newline.
pub fn json(entries: &[(String, SecretString)]) -> Result<SecretString, ExportError> {
    let map = text_map(entries)?;
    // Written straight into the buffer that becomes the (zeroized) SecretString.
    let mut buffer = Vec::with_capacity(4096);
    serde_json::to_writer_pretty(&mut buffer, &map).expect("a map of strings serializes");
    buffer.push(b'\n');
    Ok(SecretString::new(buffer))
}

/// A `v1/Secret` whose `stringData` keys are the variable names, so `envFrom` gives the
/// program the same variables.
///
/// Written by hand rather than by a YAML serializer: those leave `yes`, `on` or `0755` plain,
/// which Kubernetes' YAML 1.1 parser reads as a boolean or a number. Every scalar here is
/// double-quoted with JSON's escapes, which YAML shares.
pub fn k8s_secret(
    entries: &[(String, SecretString)],
    name: &str,
) -> Result<SecretString, ExportError> {
    if !is_dns_subdomain(name) {
        return Err(ExportError::InvalidSecretName {
            name: name.to_string(),
        });
    }
    let data = text_map(entries)?;
    let mut output = SecretString::default();
    output.push_bytes(b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: ");
    output.push_bytes(name.as_bytes());
    output.push_bytes(b"\ntype: Opaque\nstringData:");
    if data.is_empty() {
        output.push_bytes(b" {}");
    }
    for (key, value) in data {
        output.push_bytes(b"\n  ");
        output.push_bytes(yaml_quoted(key).expose());
        output.push_bytes(b": ");
        output.push_bytes(yaml_quoted(value).expose());
    }
    output.push_bytes(b"\n");
    Ok(output)
}

/// A double-quoted YAML scalar. JSON's quoting, plus `\uXXXX` escapes for what YAML 1.1 may
/// not hold raw: the characters it reads as line breaks (NEL, LS, PS), which would fold into
/// spaces, and those outside its printable set (DEL, the C1 controls, U+FFFE, U+FFFF).
fn yaml_quoted(text: &str) -> SecretString {
    let json = SecretString::from(serde_json::to_string(text).expect("a string serializes"));
    let json = json.expose_str().expect("JSON is UTF-8");
    if !json.chars().any(needs_yaml_escape) {
        return SecretString::from(json);
    }
    let mut escaped = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if needs_yaml_escape(c) {
            escaped.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            escaped.push(c);
        }
    }
    SecretString::from(escaped)
}

fn needs_yaml_escape(c: char) -> bool {
    matches!(
        c,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
    )
}

fn is_dns_subdomain(name: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=253).contains(&name.len())
        && name.starts_with(alphanumeric)
        && name.ends_with(alphanumeric)
        && name
            .chars()
            .all(|c| alphanumeric(c) || c == '-' || c == '.')
}

fn utf8<'a>(key: &str, value: &'a SecretString) -> Result<&'a str, ExportError> {
    value
        .expose_str()
        .ok_or_else(|| ExportError::NotUtf8 { key: key.into() })
}

/// Text for the line-based formats (dotenv, shell), which cannot hold a NUL byte. (The
/// launch refuses NUL in any variable already; found by fuzzing the export on its own.)
fn line_text<'a>(key: &str, value: &'a SecretString) -> Result<&'a str, ExportError> {
    let text = utf8(key, value)?;
    if text.contains('\0') {
        return Err(ExportError::Nul { key: key.into() });
    }
    Ok(text)
}

fn text_map(entries: &[(String, SecretString)]) -> Result<BTreeMap<&str, &str>, ExportError> {
    entries
        .iter()
        .map(|(key, value)| Ok((key.as_str(), utf8(key, value)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, SecretString)> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), SecretString::from(*value)))
            .collect()
    }

    fn text(secret: SecretString) -> String {
        String::from_utf8(secret.expose().to_vec()).unwrap()
    }

    #[test]
    fn dotenv_picks_the_quoting_every_reader_shares() {
        let out = dotenv(&entries(&[
            ("A", "plain $x #y"),
            ("B", "it's \"q\" \\ $HOME"),
            ("C", "ends\\"),
        ]))
        .unwrap();
        assert_eq!(
            text(out),
            "A='plain $x #y'\nB=\"it's \\\"q\\\" \\\\ \\$HOME\"\nC=\"ends\\\\\"\n"
        );
    }

    #[test]
    fn dotenv_refuses_what_no_quoting_reads_back() {
        let cases = [("A", "it's `x`"), ("B", "a\r\nb")];
        for (key, value) in cases {
            let error = dotenv(&entries(&[(key, value)])).unwrap_err();
            assert!(error.to_string().starts_with(key), "{error}");
            assert!(!error.to_string().contains(value));
        }
        let binary = vec![("A".to_string(), SecretString::new(vec![0xff]))];
        assert_eq!(
            dotenv(&binary).unwrap_err(),
            ExportError::NotUtf8 { key: "A".into() }
        );
    }

    #[test]
    fn line_formats_refuse_a_nul_byte_by_name() {
        let nul = entries(&[("A", "a\0b")]);
        assert_eq!(
            dotenv(&nul).unwrap_err(),
            ExportError::Nul { key: "A".into() }
        );
        assert_eq!(
            shell(&nul).unwrap_err(),
            ExportError::Nul { key: "A".into() }
        );
        assert!(json(&nul).is_ok(), "JSON carries it as \\u0000");
    }

    #[test]
    fn shell_quotes_and_checks_names() {
        let out = shell(&entries(&[("A", "it's"), ("B", "safe")])).unwrap();
        assert_eq!(text(out), "export A='it'\\''s'\nexport B=safe\n");
        assert!(matches!(
            shell(&entries(&[("a.b", "x")])),
            Err(ExportError::NotAShellName { .. })
        ));
    }

    #[test]
    fn k8s_secret_names_are_checked() {
        let manifest = text(k8s_secret(&entries(&[("A", "yes\u{2028}")]), "my-app.s").unwrap());
        assert!(
            manifest
                .ends_with("name: my-app.s\ntype: Opaque\nstringData:\n  \"A\": \"yes\\u2028\"\n"),
            "{manifest}"
        );
        // PyYAML refuses a raw DEL or C1 control ("unacceptable character #x007f").
        let controls =
            text(k8s_secret(&entries(&[("B", "a\u{7f}b\u{9b}c\u{ffff}")]), "n").unwrap());
        assert!(
            controls.ends_with("  \"B\": \"a\\u007fb\\u009bc\\uffff\"\n"),
            "{controls}"
        );
        for bad in ["", "Upper", "-start", "end.", "under_score"] {
            assert!(k8s_secret(&[], bad).is_err(), "{bad}");
        }
    }
}
