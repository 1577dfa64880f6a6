//! Checks on resolved values: present, long enough, valid text, not well known to be weak.
//! Every problem is collected, so one run shows them all.

use crate::bounded;
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

/// One problem with one variable. The problem names the variable itself, in its location or
/// as the subject of its message, so callers never guess it from the text.
#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    pub variable: String,
    pub problem: Problem,
}

/// Linux's limit on one `NAME=value` string of a program's environment (MAX_ARG_STRLEN).
const MAX_VARIABLE_SIZE: usize = 128 * 1024;

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
        let entry_size = name.len() + 1 + value.expose().len() + 1;
        if entry_size > MAX_VARIABLE_SIZE {
            let message = format!(
                "is {} bytes, and Linux refuses to start a program with a variable (NAME=value) over {}",
                value.expose().len(),
                bounded::human_size(MAX_VARIABLE_SIZE as u64)
            );
            findings.push(error(
                name,
                subject_problem(var, secret, &message)
                    .with_hint("give the program large values as files (run --render) instead"),
            ));
            continue;
        }
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
    let flaw = flaw(secret, value)?;
    let severity = if flaw.weak_only && !strict {
        Severity::Warning
    } else {
        Severity::Error
    };
    Some(Finding {
        severity,
        variable: var.planned.name.clone(),
        problem: subject_problem(var, Some(secret), &flaw.what).with_hint(flaw.hint),
    })
}

/// What is wrong with a required secret's value, if anything.
struct Flaw {
    /// "is too short: 1 characters, at least 32 required"
    what: String,
    hint: String,
    /// Well known to be weak, but usable: a warning unless `--strict`.
    weak_only: bool,
}

fn flaw(secret: &RequiredSecret, value: &SecretString) -> Option<Flaw> {
    let hint = format!(
        "generate one with: cronos-secrets generate --length {}",
        secret.min_length.max(44)
    );
    let fatal = |what: String| {
        Some(Flaw {
            what,
            hint: hint.clone(),
            weak_only: false,
        })
    };
    if value.is_empty() {
        return fatal("is empty".into());
    }
    let Some(text) = value.expose_str() else {
        return fatal("is not valid UTF-8".into());
    };
    let length = text.chars().count();
    if length < secret.min_length {
        return fatal(format!(
            "is too short: {length} characters, at least {} required",
            secret.min_length
        ));
    }
    let reason = weakness(text)?;
    Some(Flaw {
        what: format!("is weak: {reason}"),
        hint,
        weak_only: true,
    })
}

/// Why every launch would refuse (or warn about) `value` as `secret`'s, if it would: a NUL
/// byte, a size no environment holds, or a flaw of the table's rules. For a value that reaches
/// `rotate` from the backend (a pending slot), where no one typed it to be checked.
pub fn launch_refusal(secret: &RequiredSecret, value: &SecretString) -> Option<String> {
    if value.expose().contains(&0) {
        return Some("contains a NUL byte, which no environment can hold".into());
    }
    if secret.env.len() + 2 + value.expose().len() > MAX_VARIABLE_SIZE {
        return Some(format!(
            "is {} bytes, over the {} a variable may hold",
            value.expose().len(),
            bounded::human_size(MAX_VARIABLE_SIZE as u64)
        ));
    }
    flaw(secret, value).map(|flaw| flaw.what)
}

/// Checks a value before `set` stores it, with the rules every later launch applies: a value
/// that no launch would accept is never written. `force` lets a weak but valid value through.
pub fn check_new_value(
    label: &str,
    secret: Option<&RequiredSecret>,
    value: &SecretString,
    force: bool,
) -> Result<(), Problem> {
    if value.expose().contains(&0) {
        return Err(Problem::new(
            label,
            "the new value contains a NUL byte, which no environment can hold",
        )
        .with_hint(
            "check what is piped into set; cronos-secrets generate | cronos-secrets set NAME",
        ));
    }
    let Some(secret) = secret else {
        return Ok(());
    };
    match flaw(secret, value) {
        Some(flaw) if flaw.weak_only && force => Ok(()),
        Some(flaw) => {
            let mut hint = flaw.hint;
            if flaw.weak_only {
                hint.push_str("; or pass --force to store it anyway");
            }
            Err(Problem::new(
                label,
                format!(
                    "the new value of {} {}; nothing was stored",
                    secret.description, flaw.what
                ),
            )
            .with_hint(hint))
        }
        None => Ok(()),
    }
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
