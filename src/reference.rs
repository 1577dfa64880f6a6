//! Secret references: `secret://NAME#KEY`, `env://VAR`, `file://PATH`, `vault://MOUNT/PATH#KEY`,
//! `aws-sm://ID#KEY`, `azure-kv://NAME`, `vault-dynamic://NAME#FIELD` (a dynamic secret the
//! config declares under `dynamic:`), and a bare AWS Secrets Manager ARN.
//!
//! A reference says where a value lives, never the value, so it may appear in messages.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// The configured backend.
    Secret,
    Env,
    File,
    Vault,
    AwsSm,
    AzureKv,
    /// A dynamic secret declared in the config's `dynamic:` section: a field of one lease.
    VaultDynamic,
}

impl Scheme {
    pub const ALL: [Scheme; 7] = [
        Scheme::Secret,
        Scheme::Env,
        Scheme::File,
        Scheme::Vault,
        Scheme::AwsSm,
        Scheme::AzureKv,
        Scheme::VaultDynamic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Secret => "secret",
            Scheme::Env => "env",
            Scheme::File => "file",
            Scheme::Vault => "vault",
            Scheme::AwsSm => "aws-sm",
            Scheme::AzureKv => "azure-kv",
            Scheme::VaultDynamic => "vault-dynamic",
        }
    }

    fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL
            .into_iter()
            .find(|scheme| scheme.as_str() == name)
    }

    fn usage(self) -> &'static str {
        match self {
            Scheme::Secret => "secret://NAME[#KEY]",
            Scheme::Env => "env://VAR",
            Scheme::File => "file:///absolute/path or file://relative/path",
            Scheme::Vault => "vault://MOUNT/PATH[#KEY][?version=N]",
            Scheme::AwsSm => "aws-sm://NAME-OR-ARN[#KEY][?version_stage=…|version_id=…]",
            Scheme::AzureKv => "azure-kv://NAME[#KEY][?version=…]",
            Scheme::VaultDynamic => "vault-dynamic://NAME#FIELD, NAME declared under dynamic:",
        }
    }

    /// Query parameters a reference of this scheme may carry. `secret://` goes to whichever
    /// backend is configured, so it accepts every backend's; that backend rejects the others.
    fn allowed_params(self) -> &'static [&'static str] {
        match self {
            Scheme::Secret => &["version", "version_stage", "version_id", "encoding"],
            Scheme::Env | Scheme::File | Scheme::VaultDynamic => &[],
            Scheme::Vault | Scheme::AzureKv => &["version"],
            Scheme::AwsSm => &["version_stage", "version_id", "encoding"],
        }
    }

    fn takes_key(self) -> bool {
        !matches!(self, Scheme::Env | Scheme::File)
    }
}

/// A parsed reference. Two references that fetch the same thing compare equal, so the
/// resolver can fetch each one once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    pub scheme: Scheme,
    /// NAME, VAR, the absolute file path, MOUNT/PATH, or the AWS id/ARN.
    pub target: String,
    /// The `#KEY` field of a structured secret.
    pub key: Option<String>,
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReferenceError {
    #[error("unknown reference scheme \"{scheme}://\" (expected one of {known})")]
    UnknownScheme { scheme: String, known: String },
    /// Not echoed: a newline in a reference would forge log lines in the text format.
    #[error(
        "invalid {scheme}:// reference: it contains a control character (newline, tab, …), which no name or path here may hold"
    )]
    ControlCharacter { scheme: &'static str },
    #[error("invalid reference \"{reference}\": {problem} (expected {usage})")]
    Invalid {
        reference: String,
        problem: String,
        usage: &'static str,
    },
}

impl Reference {
    /// Whether a whole value is a reference (and so must be resolved rather than taken literally).
    /// Only our schemes count: `https://…` or `postgres://…` values are ordinary text.
    pub fn is_reference(value: &str) -> bool {
        is_aws_arn(value)
            || value
                .split_once("://")
                .is_some_and(|(scheme, _)| Scheme::from_name(scheme).is_some())
    }

    /// Parses `scheme://…` (or a bare Secrets Manager ARN). A relative `file://` path is
    /// joined to `base_dir`: the directory of the file that holds the reference.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Reference, ReferenceError> {
        if is_aws_arn(text) {
            return Reference::parse_body(Scheme::AwsSm, text, text, base_dir);
        }
        let Some((scheme_name, body)) = text.split_once("://") else {
            // Not echoed: text without a scheme may be a value rather than a reference.
            return Err(ReferenceError::UnknownScheme {
                scheme: "(none)".to_string(),
                known: known_schemes(),
            });
        };
        let scheme =
            Scheme::from_name(scheme_name).ok_or_else(|| ReferenceError::UnknownScheme {
                scheme: shown_scheme(scheme_name),
                known: known_schemes(),
            })?;
        Reference::parse_body(scheme, body, text, base_dir)
    }

    fn parse_body(
        scheme: Scheme,
        body: &str,
        whole: &str,
        base_dir: &Path,
    ) -> Result<Reference, ReferenceError> {
        if whole.chars().any(char::is_control) {
            return Err(ReferenceError::ControlCharacter {
                scheme: scheme.as_str(),
            });
        }
        let invalid = |problem: &str| ReferenceError::Invalid {
            reference: whole.to_string(),
            problem: problem.to_string(),
            usage: scheme.usage(),
        };
        // Users write the query before or after the fragment (`x?version=2#k`, `x#k?version=2`).
        let (before_fragment, fragment) = match body.split_once('#') {
            Some((before, after)) => (before, Some(after)),
            None => (body, None),
        };
        let (target, mut query) = split_query(before_fragment);
        let key = match fragment {
            Some(fragment) => {
                let (key, fragment_query) = split_query(fragment);
                if fragment_query.is_some() {
                    if query.is_some() {
                        return Err(invalid("more than one \"?\" query"));
                    }
                    query = fragment_query;
                }
                if key.is_empty() {
                    return Err(invalid("empty #KEY"));
                }
                Some(key.to_string())
            }
            None => None,
        };
        if target.is_empty() {
            return Err(invalid("nothing after \"://\""));
        }
        if key.is_some() && !scheme.takes_key() {
            return Err(invalid("this scheme takes no #KEY"));
        }
        let params =
            parse_params(query.unwrap_or(""), scheme).map_err(|problem| invalid(&problem))?;
        let target = match scheme {
            Scheme::File => absolute_path(target, base_dir)
                .to_string_lossy()
                .into_owned(),
            Scheme::Env if !is_variable_name(target) => {
                return Err(invalid("not a variable name"));
            }
            Scheme::Vault if !target.contains('/') => {
                return Err(invalid("expected a mount and a path"));
            }
            // The path lives in the config; a reference only names the declaration and a field
            // of its one lease, so it cannot reach any other Vault path.
            Scheme::VaultDynamic if !is_declaration_name(target) => {
                return Err(invalid("not a name from the config's dynamic: section"));
            }
            Scheme::VaultDynamic if key.is_none() => {
                return Err(invalid(
                    "no #FIELD (which field of the lease: #username, #password…)",
                ));
            }
            _ => target.to_string(),
        };
        Ok(Reference {
            scheme,
            target,
            key,
            params,
        })
    }

    /// The reference a required secret falls back to: `secret://NAME`.
    pub fn named_secret(name: &str) -> Reference {
        Reference {
            scheme: Scheme::Secret,
            target: name.to_string(),
            key: None,
            params: BTreeMap::new(),
        }
    }

    /// Whether this is `azure-kv://VAULT-HOST/NAME`: a reference that chooses the host the
    /// launcher contacts (a host has a dot; a secret name has none).
    pub fn names_a_vault_host(&self) -> bool {
        self.scheme == Scheme::AzureKv
            && self
                .target
                .split_once('/')
                .is_some_and(|(host, _)| host.contains('.'))
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An absolute file path already starts with "/", giving the usual file:///path.
        write!(f, "{}://{}", self.scheme.as_str(), self.target)?;
        if let Some(key) = &self.key {
            write!(f, "#{key}")?;
        }
        let mut separator = '?';
        for (name, value) in &self.params {
            write!(f, "{separator}{name}={value}")?;
            separator = '&';
        }
        Ok(())
    }
}

fn split_query(text: &str) -> (&str, Option<&str>) {
    match text.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (text, None),
    }
}

fn parse_params(query: &str, scheme: Scheme) -> Result<BTreeMap<String, String>, String> {
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("query parameter \"{pair}\" has no \"=value\""))?;
        if !scheme.allowed_params().contains(&name) {
            let allowed = scheme.allowed_params();
            return Err(if allowed.is_empty() {
                format!("{}:// takes no query parameters", scheme.as_str())
            } else {
                format!(
                    "unknown query parameter \"{name}\" (allowed: {})",
                    allowed.join(", ")
                )
            });
        }
        params.insert(name.to_string(), value.to_string());
    }
    Ok(params)
}

fn absolute_path(path: &str, base_dir: &Path) -> PathBuf {
    let expanded = shellexpand::tilde(path);
    let path = Path::new(expanded.as_ref());
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base_dir.join(path)
    }
}

/// An unknown scheme as it may be shown: a plausible scheme name (`https`, `vualt`), or a
/// placeholder, since text before `://` can be anything (a value, a newline that would forge
/// a log line). Found by fuzzing.
fn shown_scheme(scheme: &str) -> String {
    let plausible = !scheme.is_empty()
        && scheme.len() <= 32
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-' | '_'));
    if plausible {
        scheme.to_string()
    } else {
        "(not shown)".to_string()
    }
}

fn is_aws_arn(text: &str) -> bool {
    // arn:aws:…, arn:aws-cn:…, arn:aws-us-gov:… all name Secrets Manager in the third field.
    let mut fields = text.splitn(4, ':');
    fields.next() == Some("arn")
        && fields
            .next()
            .is_some_and(|partition| partition.starts_with("aws"))
        && fields.next() == Some("secretsmanager")
}

/// Vault's own API prefixes: not secrets engines, and read raw (`auth/token/lookup-self`,
/// `sys/mounts`) they would hand the launcher's token or the server's configuration to the
/// program; neither a `vault://` mount nor a declared dynamic secret's path may start with one.
/// Vault's router is case-sensitive; the comparison is not, so no spelling slips through.
const VAULT_SYSTEM_MOUNTS: [&str; 5] = ["auth", "sys", "identity", "cubbyhole", "token"];

/// The Vault API prefix `segment` is (as Vault spells it), or `None` for any other name.
pub fn vault_system_mount(segment: &str) -> Option<&'static str> {
    VAULT_SYSTEM_MOUNTS
        .iter()
        .find(|system| segment.eq_ignore_ascii_case(system))
        .copied()
}

/// A name under the config's `dynamic:` section: letters, digits, `_` and `-`.
pub fn is_declaration_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn known_schemes() -> String {
    Scheme::ALL
        .iter()
        .map(|scheme| format!("{}://", scheme.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Reference, ReferenceError> {
        Reference::parse(text, Path::new("/etc/app"))
    }

    #[test]
    fn an_unknown_scheme_is_shown_only_when_it_looks_like_one() {
        let error = Reference::parse("vualt://x", Path::new("/")).unwrap_err();
        assert!(error.to_string().contains("\"vualt://\""), "{error}");
        // fuzz/artifacts: text before "://" that is no scheme at all, with a newline in it.
        let error = Reference::parse("vault:\n\0\0rpp/db?verst://x", Path::new("/")).unwrap_err();
        assert!(!error.to_string().contains('\n'), "{error}");
        assert!(error.to_string().contains("(not shown)"), "{error}");
    }

    #[test]
    fn control_characters_are_refused_without_echo() {
        for text in [
            "secret://ho\nme",
            "file:///dir\n INFO forged/f",
            "arn:aws:secretsmanager:x\ry",
        ] {
            let error = Reference::parse(text, Path::new("/")).unwrap_err();
            let message = error.to_string();
            assert!(message.contains("control character"), "{message}");
            assert!(
                !message.contains("forged") && !message.contains('\n'),
                "{message}"
            );
        }
    }

    #[test]
    fn parses_named_secret_with_key() {
        let reference = parse("secret://database_password#value").unwrap();
        assert_eq!(reference.scheme, Scheme::Secret);
        assert_eq!(reference.target, "database_password");
        assert_eq!(reference.key.as_deref(), Some("value"));
        assert_eq!(reference.to_string(), "secret://database_password#value");
    }

    #[test]
    fn query_may_stand_before_or_after_the_key() {
        let a = parse("vault://secret/cronos/db?version=3#password").unwrap();
        let b = parse("vault://secret/cronos/db#password?version=3").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.param("version"), Some("3"));
        assert_eq!(a.target, "secret/cronos/db");
    }

    #[test]
    fn relative_files_are_relative_to_the_holding_file() {
        assert_eq!(
            parse("file://secrets/db").unwrap().target,
            "/etc/app/secrets/db"
        );
        assert_eq!(
            parse("file:///run/secrets/db").unwrap().target,
            "/run/secrets/db"
        );
        assert_eq!(
            parse("file:///run/secrets/db").unwrap().to_string(),
            "file:///run/secrets/db"
        );
    }

    #[test]
    fn a_dynamic_reference_names_a_declaration_and_a_field() {
        let reference = parse("vault-dynamic://app-db#password").unwrap();
        assert_eq!(reference.scheme, Scheme::VaultDynamic);
        assert_eq!(reference.target, "app-db");
        assert_eq!(reference.key.as_deref(), Some("password"));
        assert_eq!(reference.to_string(), "vault-dynamic://app-db#password");
        assert!(Reference::is_reference("vault-dynamic://app-db#username"));
    }

    #[test]
    fn bare_arns_are_aws_references() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cronos-ai/db-AbCdEf";
        assert!(Reference::is_reference(arn));
        let reference = parse(arn).unwrap();
        assert_eq!(reference.scheme, Scheme::AwsSm);
        assert_eq!(reference.target, arn);
    }

    #[test]
    fn only_our_schemes_are_references() {
        assert!(Reference::is_reference("secret://x"));
        assert!(Reference::is_reference("azure-kv://x"));
        assert!(!Reference::is_reference("https://example.com"));
        assert!(!Reference::is_reference("postgres://user:pw@db/app"));
        assert!(!Reference::is_reference("plain"));
    }

    #[test]
    fn rejects_malformed_references_with_the_expected_form() {
        let cases = [
            ("secret://", "nothing after"),
            ("secret://db#", "empty #KEY"),
            ("env://1BAD", "not a variable name"),
            ("env://HOME#key", "takes no #KEY"),
            ("vault://justmount", "mount and a path"),
            ("file:///x?mode=1", "takes no query parameters"),
            (
                "aws-sm://db?version=1",
                "unknown query parameter \"version\"",
            ),
            ("secret://db?version", "has no \"=value\""),
            ("vault-dynamic://db", "no #FIELD"),
            (
                "vault-dynamic://database/creds/app#username",
                "dynamic: section",
            ),
            ("vault-dynamic://db#username?version=2", "takes no query"),
        ];
        for (text, expected) in cases {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{text}: {message}");
            assert!(message.contains("expected"), "{text}: {message}");
        }
        let unknown = parse("sekret://db").unwrap_err().to_string();
        assert!(
            unknown.contains("unknown reference scheme \"sekret://\""),
            "{unknown}"
        );
    }
}
