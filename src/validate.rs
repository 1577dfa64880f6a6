//! Checks on resolved values: present, long enough, valid text, not well known to be weak.
//! Every problem is collected, so one run shows them all.

use crate::config::{BackendKind, Config};
use crate::plan::{Origin, Plan};
use crate::problem::Problem;
use crate::resolve::ResolvedVar;
use crate::schema::RequiredSecret;
use crate::secret::SecretString;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    pub variable: String,
    pub problem: Problem,
}

/// Values that must never guard production: the guide's own bad examples, its template
/// placeholders, and the usual suspects. Compared case-insensitively.
const WEAK_VALUES: &[&str] = &[
    "cronos123",
    "my-secret-key",
    "sk-1234567890abcdef",
    "your-secure-password",
    "your-redis-password",
    "your-password",
    "your-jwt-secret",
    "your-jwt-secret-min-32-chars",
    "your-encryption-key-min-32-chars",
    "your-api-key-min-32-chars",
    "your-secret-min-32-chars",
    "your-vault-token",
    "password",
    "password123",
    "passw0rd",
    "changeme",
    "change-me",
    "secret",
    "secret123",
    "admin",
    "letmein",
    "qwerty",
    "123456",
    "12345678",
    "1234567890",
    "test",
    "default",
];

/// Validates every variable; `strict` turns weak-value warnings into errors.
pub fn validate(
    config: &Config,
    plan: &Plan,
    resolved: &[ResolvedVar],
    strict: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for &index in &plan.missing {
        let secret = &config.secrets[index];
        findings.push(Finding {
            severity: Severity::Error,
            variable: secret.env.clone(),
            problem: not_configured(secret, config.backend, None),
        });
    }
    for var in resolved {
        let name = &var.planned.name;
        let secret = var.planned.secret.map(|index| &config.secrets[index]);
        let value = match (&var.value, secret) {
            (Ok(value), _) => value,
            (Err(problems), Some(secret))
                if var.not_found && var.planned.origin == Origin::Backend =>
            {
                let detail = problems.first().cloned();
                findings.push(error(name, not_configured(secret, config.backend, detail)));
                continue;
            }
            (Err(problems), _) => {
                findings.extend(problems.iter().cloned().map(|problem| error(name, problem)));
                continue;
            }
        };
        if value.expose().contains(&0) {
            findings.push(error(
                name,
                subject_problem(
                    var,
                    secret,
                    "contains a NUL byte, which no environment can hold",
                )
                .with_hint("remove the NUL byte from the stored value"),
            ));
            continue;
        }
        if let Some(secret) = secret {
            findings.extend(check_required(var, secret, value, strict));
        }
    }
    findings
}

fn check_required(
    var: &ResolvedVar,
    secret: &RequiredSecret,
    value: &SecretString,
    strict: bool,
) -> Option<Finding> {
    let name = &var.planned.name;
    let generate = format!(
        "generate one with: cronos-secrets generate --length {}",
        secret.min_length.max(44)
    );
    if value.is_empty() {
        return Some(error(
            name,
            subject_problem(var, Some(secret), "is empty").with_hint(generate),
        ));
    }
    let Some(text) = value.expose_str() else {
        return Some(error(
            name,
            subject_problem(var, Some(secret), "is not valid UTF-8").with_hint(generate),
        ));
    };
    let length = text.chars().count();
    if length < secret.min_length {
        let message = format!(
            "is too short: {length} characters, at least {} required",
            secret.min_length
        );
        return Some(error(
            name,
            subject_problem(var, Some(secret), &message).with_hint(generate),
        ));
    }
    if let Some(reason) = weakness(text) {
        let problem =
            subject_problem(var, Some(secret), &format!("is weak: {reason}")).with_hint(generate);
        return Some(Finding {
            severity: if strict {
                Severity::Error
            } else {
                Severity::Warning
            },
            variable: name.clone(),
            problem,
        });
    }
    None
}

/// Why a value is well known to be weak, if it is.
fn weakness(text: &str) -> Option<&'static str> {
    let lowered = text.to_lowercase();
    if WEAK_VALUES.contains(&lowered.as_str()) {
        return Some("a well-known example or default value");
    }
    let mut chars = text.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Some("one character repeated");
    }
    if text.starts_with('<') && text.ends_with('>') {
        return Some("a template placeholder such as <generate-strong-password>");
    }
    None
}

/// "JWT secret (CRONOS_AI_JWT_SECRET, from .env.production:3) is too short: …"
fn subject_problem(var: &ResolvedVar, secret: Option<&RequiredSecret>, what: &str) -> Problem {
    let name = &var.planned.name;
    let mut from = var.planned.origin.to_string();
    if let Some(alias) = &var.planned.alias_of {
        from = format!("{alias} in {from}");
    }
    if let Some(read) = var.reads.first() {
        from = format!("{from} via {}", read.location);
    }
    let subject = match secret {
        Some(secret) => format!("{} ({name}, from {from})", secret.description),
        None => format!("{name} (from {from})"),
    };
    Problem::new("", format!("{subject} {what}"))
}

/// The guide's Troubleshooting wording: what to set, or where to store it.
fn not_configured(
    secret: &RequiredSecret,
    backend: BackendKind,
    detail: Option<Problem>,
) -> Problem {
    let mut variables = secret.env.clone();
    if !secret.aliases.is_empty() {
        variables = format!("{variables} (or {})", secret.aliases.join(", "));
    }
    let message = match (backend, &detail) {
        (BackendKind::Env, _) | (_, None) => format!(
            "{} not configured: set {variables} in the environment or an env file, or store {} in a secrets backend",
            secret.description, secret.name
        ),
        (_, Some(detail)) => format!(
            "{} not configured: set {variables}, or store {} in the {backend} backend ({})",
            secret.description, secret.name, detail.message
        ),
    };
    let hint = detail
        .and_then(|detail| detail.hint)
        .unwrap_or_else(|| format!("export {}=\"$(cronos-secrets generate)\"", secret.env));
    Problem::new("", message).with_hint(hint)
}

fn error(variable: &str, problem: Problem) -> Finding {
    Finding {
        severity: Severity::Error,
        variable: variable.to_string(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_weak_values() {
        assert!(weakness("cronos123").is_some());
        assert!(weakness("My-Secret-Key").is_some());
        assert!(weakness("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").is_some());
        assert!(weakness("<generate-strong-password>").is_some());
        assert!(weakness("Zx8vQ2rT9wLm4nB6yH1cK7pD3fG5jS0a").is_none());
    }
}
