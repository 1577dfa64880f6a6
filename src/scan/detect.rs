//! One file's text in, its findings out: tokens, URL passwords, assignments (declared secrets,
//! Kubernetes Secret data, passwords, high-entropy values) and live values. Where two rules
//! cover the same text, the more specific one wins, so one leak is one finding with one
//! category.

use super::assignment::{self, Assignment};
use super::category::Category;
use super::connection::url_passwords;
use super::finding::{Example, Finding};
use super::fingerprint::fingerprint;
use super::judge::{
    is_aws_documented_example, is_aws_secret_key, is_high_entropy, is_plausible_password,
};
use super::keys::{Declared, KeyKind, classify_key};
use super::kind::FileKind;
use super::kubernetes;
use super::live::LiveValues;
use super::mapping;
use super::position::LineIndex;
use super::tokens::find_tokens;
use super::value::literal_text;

/// The markers that allow one line: ours, and detect-secrets' so existing allowances keep working.
const ALLOW_MARKERS: &[&str] = &["cronos-secrets: allow", "pragma: allowlist secret"];

/// What every file is checked against.
#[derive(Default)]
pub struct Rules {
    pub declared: Declared,
    pub live: LiveValues,
}

struct Candidate {
    start: usize,
    end: usize,
    /// Higher wins where candidates overlap.
    priority: u8,
    category: Category,
    rule: &'static str,
    fingerprint: String,
    message: String,
    /// A vendor's documented example: it wins over other rules on its text, then is reported
    /// as an [`Example`] rather than a finding.
    documented_example: bool,
}

/// One file's findings, and the documented examples skipped in it.
#[derive(Default)]
pub struct FileFindings {
    pub findings: Vec<Finding>,
    pub examples: Vec<Example>,
}

pub fn scan_text(path: &str, text: &str, rules: &Rules) -> FileFindings {
    let kind = FileKind::of(path, text);
    let syntax = kind.syntax();
    let lines = LineIndex::new(text);
    let mut candidates = Vec::new();
    for token in find_tokens(text, &lines) {
        let (priority, message) = if token.documented_example {
            (8, "AWS's documented example access key id".to_string())
        } else {
            (5, format!("{} in the file", token.rule.description))
        };
        candidates.push(Candidate {
            start: token.start,
            end: token.end,
            priority,
            category: token.rule.category,
            rule: token.rule.id,
            fingerprint: fingerprint(token.rule.id, token.text),
            message,
            documented_example: token.documented_example,
        });
    }
    for url in url_passwords(text, &lines, syntax) {
        candidates.push(Candidate {
            start: url.start,
            end: url.end,
            priority: 3,
            category: Category::ConnectionString,
            rule: "connection-string-password",
            fingerprint: fingerprint("connection-string-password", url.password),
            message: "a literal password inside a connection string".to_string(),
            documented_example: false,
        });
    }
    // A Secret's `data:` values are base64: read only as decoded entries, never as raw text.
    let secret_entries = if kind == FileKind::Yaml {
        kubernetes::secret_entries(text, &lines)
    } else {
        Vec::new()
    };
    let found = assignment::assignments(kind, text, &lines, rules.declared.key_words());
    for found in mapping::in_context(kind, found, text, &lines) {
        if !secret_entries
            .iter()
            .any(|entry| entry.key_start == found.key_start)
        {
            candidates.extend(judge_assignment(&found, false, rules, syntax));
        }
    }
    for found in &secret_entries {
        candidates.extend(judge_assignment(found, true, rules, syntax));
    }
    for live in rules.live.occurrences(text) {
        candidates.push(Candidate {
            start: live.start,
            end: live.end,
            priority: 7,
            category: live.category,
            rule: "live-value",
            fingerprint: live.fingerprint.clone(),
            message: format!("the current value of {}", live.variable),
            documented_example: false,
        });
    }
    select(candidates, path, &lines)
}

fn judge_assignment(
    found: &Assignment,
    secret_data: bool,
    rules: &Rules,
    syntax: crate::placeholder::Syntax,
) -> Option<Candidate> {
    let literal = literal_text(&found.value, syntax)?;
    let candidate = |priority, category, rule: &'static str, message: String| Candidate {
        start: found.start,
        end: found.end.max(found.start + 1),
        priority,
        category,
        rule,
        fingerprint: fingerprint(rule, &literal),
        message,
        documented_example: false,
    };
    if let Some(secret) = rules.declared.get(&found.key) {
        let mut message = format!(
            "a literal for the declared secret {} ({})",
            secret.variable, secret.description
        );
        if literal.chars().count() < secret.min_length {
            message.push_str(&format!(
                ", and shorter than its minimum of {} characters",
                secret.min_length
            ));
        }
        return Some(candidate(6, secret.category, "declared-secret", message));
    }
    if secret_data {
        return Some(candidate(
            4,
            Category::of_name(&found.key),
            "kubernetes-secret-data",
            format!("a literal in a Kubernetes Secret's data ({})", found.key),
        ));
    }
    match classify_key(&found.key) {
        KeyKind::AwsSecretKey
            if is_aws_secret_key(&literal) && is_aws_documented_example(&literal) =>
        {
            Some(Candidate {
                documented_example: true,
                ..candidate(
                    8,
                    Category::AwsCredentials,
                    "aws-secret-access-key",
                    "AWS's documented example secret access key".to_string(),
                )
            })
        }
        KeyKind::AwsSecretKey if is_aws_secret_key(&literal) => Some(candidate(
            3,
            Category::AwsCredentials,
            "aws-secret-access-key",
            format!("an AWS secret access key assigned to {}", found.key),
        )),
        KeyKind::AwsSecretKey if is_high_entropy(&literal) => Some(candidate(
            1,
            Category::AwsCredentials,
            "high-entropy-assignment",
            format!("a random-looking literal assigned to {}", found.key),
        )),
        KeyKind::Password if is_plausible_password(&literal) => Some(candidate(
            2,
            Category::HardcodedPassword,
            "password-assignment",
            format!("a literal password assigned to {}", found.key),
        )),
        KeyKind::Secret(category) if is_high_entropy(&literal) => Some(candidate(
            1,
            within_parent(category, found),
            "high-entropy-assignment",
            format!("a random-looking literal assigned to {}", found.key),
        )),
        _ => None,
    }
}

/// A generic name takes its category from the mapping it sits in: `jwt:` / `secret: …` is a
/// JWT secret, `aws:` / `token: …` an AWS credential.
fn within_parent(category: Category, found: &Assignment) -> Category {
    match &found.parent {
        Some(parent) if category == Category::ApiKeyOrToken => {
            Category::of_name(&format!("{parent}_{}", found.key))
        }
        _ => category,
    }
}

/// Keeps the highest-priority candidate of each overlapping group, drops allowed lines, and
/// orders by position; documented examples are set apart.
fn select(mut candidates: Vec<Candidate>, path: &str, lines: &LineIndex<'_>) -> FileFindings {
    candidates.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.start.cmp(&b.start)));
    let mut kept: Vec<Candidate> = Vec::new();
    for candidate in candidates {
        let overlaps = kept
            .iter()
            .any(|other| candidate.start < other.end && other.start < candidate.end);
        if !overlaps {
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|candidate| candidate.start);
    let mut file = FileFindings::default();
    for candidate in kept {
        let (line, column) = lines.position(candidate.start);
        if candidate.documented_example {
            file.examples.push(Example {
                path: path.to_string(),
                line,
                column,
                what: candidate.message,
            });
            continue;
        }
        let text = lines.line_text(line);
        if ALLOW_MARKERS.iter().any(|marker| text.contains(marker)) {
            continue;
        }
        file.findings.push(Finding {
            path: path.to_string(),
            line,
            column,
            category: candidate.category,
            rule: candidate.rule,
            fingerprint: candidate.fingerprint,
            message: candidate.message,
        });
    }
    file
}
