//! Every rule a finding may name, for `--help`, SARIF and the README.

use super::tokens::TOKEN_RULES;

pub struct RuleInfo {
    pub id: &'static str,
    pub description: &'static str,
}

const ASSIGNMENT_RULES: &[RuleInfo] = &[
    RuleInfo {
        id: "declared-secret",
        description: "a literal for a declared secret (required-secrets table or the config's secrets:), whatever it looks like",
    },
    RuleInfo {
        id: "kubernetes-secret-data",
        description: "a literal in a Kubernetes Secret's data or stringData",
    },
    RuleInfo {
        id: "connection-string-password",
        description: "a literal password inside a connection string: a URL (postgresql://user:pass@host), a JDBC query (?password=…), an ADO.NET list (Password=…;)",
    },
    RuleInfo {
        id: "aws-secret-access-key",
        description: "a 40-character AWS secret access key assigned to an AWS secret key name",
    },
    RuleInfo {
        id: "password-assignment",
        description: "a literal assigned to a password key",
    },
    RuleInfo {
        id: "high-entropy-assignment",
        description: "a random-looking literal assigned to a secret, token, key or credential name",
    },
    RuleInfo {
        id: "live-value",
        description: "scan --live: a current secret value, found verbatim",
    },
];

pub static RULES: std::sync::LazyLock<Vec<RuleInfo>> = std::sync::LazyLock::new(|| {
    TOKEN_RULES
        .iter()
        .map(|rule| RuleInfo {
            id: rule.id,
            description: rule.description,
        })
        .chain(ASSIGNMENT_RULES.iter().map(|rule| RuleInfo {
            id: rule.id,
            description: rule.description,
        }))
        .collect()
});
