//! Is a value a secret, or does it only say where one lives? Decided with the same parsers
//! `run` uses ([`placeholder::parse`], [`Reference::is_reference`]), so `scan` and `run` can
//! never disagree about what a reference or a placeholder is.

use crate::placeholder::{self, Fallback, Segment, Syntax};
use crate::reference::Reference;

/// The literal text a value would put in the program's environment, or `None` when the value
/// is only references, placeholders or another tool's template marker.
///
/// `${VAR:-default}` is judged by its default: the default is what ships when `VAR` is unset.
/// Text that is not valid placeholder syntax (`p${ss`) is taken as a whole literal, as a
/// password may hold any character.
pub fn literal_text(value: &str, syntax: Syntax) -> Option<String> {
    let value = value.trim();
    if value.is_empty() || Reference::is_reference(value) || is_foreign_template(value) {
        return None;
    }
    let literal = match placeholder::parse(value, syntax) {
        Ok(segments) => {
            let mut literal = String::new();
            collect_literals(&segments, &mut literal);
            literal
        }
        Err(_) => value.to_string(),
    };
    let literal = literal.trim();
    if literal != value && literal.contains("${") {
        // `$${VAR}` writes `${VAR}` for the program to expand later: still a placeholder.
        return literal_text(literal, syntax);
    }
    (!literal.is_empty()).then(|| literal.to_string())
}

fn collect_literals(segments: &[Segment], literal: &mut String) {
    for segment in segments {
        match segment {
            Segment::Literal(text) if !Reference::is_reference(text.trim()) => {
                literal.push_str(text)
            }
            Segment::Variable {
                fallback: Fallback::Default { value, .. },
                ..
            } => collect_literals(value, literal),
            _ => {}
        }
    }
}

/// Markers of other template languages and of masked text, which hold no secret: the guide's
/// `<from-secrets-manager>`, Helm/Jinja/GitHub `{{ … }}`, Python `{name}` and `%(name)s`,
/// shell `$NAME` and `$(command)`, `%VAR%`, `@VAR@`, Terraform expressions, masks like
/// `********`, and an elision (`…`, `...`: docs leaving the value out, `PGPASSWORD=…`).
pub fn is_foreign_template(value: &str) -> bool {
    if is_terraform_expression(value)
        || value
            .strip_prefix("${")
            .and_then(|inner| inner.strip_suffix('}'))
            .is_some_and(is_terraform_expression)
    {
        return true;
    }
    let wrapped = |open: &str, close: &str| {
        value.len() > open.len() + close.len() && value.starts_with(open) && value.ends_with(close)
    };
    let is_name = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    };
    (wrapped("<", ">") && !value[1..value.len() - 1].contains(['<', '>']))
        || (value.contains("{{") && value.contains("}}"))
        || (wrapped("{", "}") && is_name(&value[1..value.len() - 1]))
        || (wrapped("%(", ")s") && is_name(&value[2..value.len() - 2]))
        || (wrapped("%", "%") && is_name(&value[1..value.len() - 1]))
        || (wrapped("@", "@") && is_name(&value[1..value.len() - 1]))
        || is_cloudformation_function(value)
        || value.starts_with('…')
        || value.starts_with("...")
        || value == "%s"
        || value == "{}"
        || value.starts_with("$(")
        || value.starts_with('`')
        || (value.starts_with('$')
            && value.len() > 1
            && value[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'))
        || (value.chars().count() >= 3 && value.chars().all(|c| "*•xX.#".contains(c)))
}

/// CloudFormation's YAML tags (`Value: !Ref DbPassword`): a value looked up at deploy time.
fn is_cloudformation_function(value: &str) -> bool {
    const TAGS: &[&str] = &[
        "!Ref",
        "!Sub",
        "!GetAtt",
        "!ImportValue",
        "!Join",
        "!Select",
        "!If",
        "!FindInMap",
        "!Base64",
        "!Split",
        "!Cidr",
        "!GetAZs",
        "!Transform",
    ];
    TAGS.iter().any(|tag| {
        value
            .strip_prefix(tag)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    })
}

/// Terraform's `var.db_password`, `local.creds.password`, `module.db.password` and resource
/// attributes (`random_password.db.result`): where a value comes from, not the value.
fn is_terraform_expression(value: &str) -> bool {
    let segments: Vec<&str> = value.split('.').collect();
    let is_identifier = |segment: &&str| {
        segment.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    };
    let is_resource = |segment: &&str| {
        segment.contains('_')
            && segment
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    segments.len() >= 2
        && segments.iter().all(is_identifier)
        && (matches!(
            segments[0],
            "var" | "local" | "module" | "data" | "each" | "self" | "count"
        ) || (segments.len() >= 3 && is_resource(&segments[0])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(value: &str) -> Option<String> {
        literal_text(value, Syntax::EnvFile)
    }

    #[test]
    fn references_and_placeholders_are_not_secrets() {
        for value in [
            "secret://database_password",
            "vault://secret/data/db#password",
            "aws-sm://cronos-ai/api_key",
            "azure-kv://cronos-ai-vault/database-password",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
            "env://OTHER",
            "file:///run/secrets/db",
            "${secret://jwt_secret}",
            "${VAR}",
            "${VAR:?set it}",
            "${VAR:-${OTHER}}",
            "${VAR:-secret://fallback}",
            "$VAR",
            "<from-secrets-manager>",
            "{{ .Values.password }}",
            "${{ secrets.TOKEN }}",
            "********",
            "$${VAULT_TOKEN}",
            "var.db_password",
            "local.credentials.password",
            "${var.db_password}",
            "random_password.db.result",
            "!Ref DbPasswordParameter",
            "!Ref",
            "…`).",
            "",
        ] {
            assert_eq!(env(value), None, "{value}");
        }
    }

    #[test]
    fn literals_and_defaults_are_judged() {
        assert_eq!(env("hunter2"), Some("hunter2".into()));
        assert_eq!(env("${VAR:-changeme}"), Some("changeme".into()));
        assert_eq!(env("p${ss"), Some("p${ss".into()));
        assert_eq!(env("Company.Secret"), Some("Company.Secret".into()));
        assert_eq!(
            literal_text("$NOT_A_VAR_IN_YAML x", Syntax::Template),
            Some("$NOT_A_VAR_IN_YAML x".into())
        );
    }
}
