//! Well-known credential formats, found anywhere in a file, comments included: a live token in
//! a comment is leaked all the same. These are other vendors' formats, not our grammar.

use std::sync::LazyLock;

use regex::Regex;

use super::category::Category;
use super::judge::is_aws_documented_example;
use super::position::LineIndex;

pub struct TokenRule {
    pub id: &'static str,
    pub category: Category,
    pub description: &'static str,
    pattern: &'static str,
}

pub const TOKEN_RULES: &[TokenRule] = &[
    TokenRule {
        id: "aws-access-key-id",
        category: Category::AwsCredentials,
        description: "AWS access key id (AKIA…/ASIA…)",
        pattern: r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?-u:\b)",
    },
    TokenRule {
        id: "private-key",
        category: Category::PrivateKey,
        description: "PEM private key block",
        pattern: r"-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----",
    },
    TokenRule {
        id: "jwt",
        category: Category::ApiKeyOrToken,
        description: "JSON Web Token",
        pattern: r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    },
    TokenRule {
        id: "github-token",
        category: Category::ApiKeyOrToken,
        description: "GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)",
        pattern: r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})(?-u:\b)",
    },
    TokenRule {
        id: "slack-token",
        category: Category::ApiKeyOrToken,
        description: "Slack token (xoxb-, xoxp-…) or incoming webhook URL",
        pattern: r"(?-u:\b)xox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]{8,}",
    },
    TokenRule {
        id: "stripe-key",
        category: Category::ApiKeyOrToken,
        description: "Stripe secret or restricted key",
        pattern: r"(?-u:\b)[rs]k_(?:live|test)_[A-Za-z0-9]{16,99}(?-u:\b)",
    },
    TokenRule {
        id: "google-api-key",
        category: Category::ApiKeyOrToken,
        description: "Google API key (AIza…)",
        pattern: r"(?-u:\b)AIza[0-9A-Za-z_-]{35}(?-u:\b)",
    },
    TokenRule {
        id: "npm-token",
        category: Category::ApiKeyOrToken,
        description: "npm access token",
        pattern: r"(?-u:\b)npm_[A-Za-z0-9]{36}(?-u:\b)",
    },
];

struct Compiled {
    /// All rules in one pass over the text; the matching rule is found afterwards.
    any: Regex,
    each: Vec<Regex>,
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    let any = TOKEN_RULES
        .iter()
        .map(|rule| format!("(?:{})", rule.pattern))
        .collect::<Vec<_>>()
        .join("|");
    Compiled {
        any: Regex::new(&any).expect("token rules compile"),
        each: TOKEN_RULES
            .iter()
            .map(|rule| Regex::new(&format!("^(?:{})$", rule.pattern)).expect("token rule"))
            .collect(),
    }
});

pub struct TokenMatch<'a> {
    pub rule: &'static TokenRule,
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
    /// A vendor's documented example value: skipped, and said so with --verbose.
    pub documented_example: bool,
}

pub fn find_tokens<'a>(text: &'a str, lines: &LineIndex<'_>) -> Vec<TokenMatch<'a>> {
    let compiled = &*COMPILED;
    compiled
        .any
        .find_iter(text)
        .filter_map(|found| {
            let index = compiled
                .each
                .iter()
                .position(|rule| rule.is_match(found.as_str()))?;
            let rule = &TOKEN_RULES[index];
            let keep = rule.id != "private-key" || has_key_body(text, found.end(), lines);
            keep.then_some(TokenMatch {
                rule,
                start: found.start(),
                end: found.end(),
                text: found.as_str(),
                documented_example: rule.id == "aws-access-key-id"
                    && is_aws_documented_example(found.as_str()),
            })
        })
        .collect()
}

/// A PEM header is a key only with a body after it, on the next line or after an escaped
/// `\n` in a string; a parser that merely looks for the header line holds no key.
fn has_key_body(text: &str, header_end: usize, lines: &LineIndex<'_>) -> bool {
    let looks_like_body = |candidate: &str| {
        let candidate = candidate.trim_start_matches([' ', '\t', '"', '\'']);
        candidate.starts_with("Proc-Type:")
            || candidate
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
                .count()
                >= 16
    };
    let rest_of_line = text[header_end..].split('\n').next().unwrap_or("");
    if let Some(after) = rest_of_line.strip_prefix("\\n") {
        return looks_like_body(after);
    }
    let (line, _) = lines.position(header_end);
    looks_like_body(lines.line_text(line + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<&'static str> {
        find_tokens(text, &LineIndex::new(text))
            .iter()
            .filter(|found| !found.documented_example)
            .map(|found| found.rule.id)
            .collect()
    }

    #[test]
    fn finds_each_format_and_skips_near_misses() {
        let key_id = ["AKIA", "FAKECORPUSKEYAA2"].concat();
        assert_eq!(ids(&format!("id = {key_id}")), ["aws-access-key-id"]);
        assert!(ids("AKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(ids("AKIAfake").is_empty());
        let pem = [
            "-----BEGIN RSA PRIV",
            "ATE KEY-----\nMIIEowIBAAKCAQEAfakefakefake\n",
        ]
        .concat();
        assert_eq!(ids(&pem), ["private-key"]);
        let header_only = ["if line == \"-----BEGIN PRIV", "ATE KEY-----\" {"].concat();
        assert!(ids(&header_only).is_empty());
        assert!(ids("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEF\n").is_empty());
    }
}
