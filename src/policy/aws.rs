//! An AWS IAM policy document: the exact secrets' ARNs (the 6 random characters AWS appends
//! to a name matched by `-??????`, as AWS documents), `BatchGetSecretValue` in a statement of
//! its own (it authorizes on `*`, then checks `GetSecretValue` per secret), the staging-label
//! actions for rotate, and, given a customer-managed key, its `kms:` grants.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::Purpose;
use super::grants::{Grants, Use};
use crate::backend::Resource;
use crate::config::Config;
use crate::problem::Problem;

/// A statement, its fields in the order AWS's documentation writes them.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement {
    sid: String,
    effect: &'static str,
    action: Value,
    resource: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    version: &'static str,
    statement: Vec<Statement>,
}

/// What the document needs beyond the grants.
pub struct Account<'a> {
    /// `--aws-account`, else every account (`*`).
    pub id: Option<&'a str>,
    /// `--kms-key`: customer-managed keys the secrets are encrypted with.
    pub kms_keys: &'a [String],
}

/// `--aws-account`: twelve digits, as AWS writes account ids in ARNs.
pub fn parse_account(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.chars().all(|c| c.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err("expected a 12-digit AWS account id, such as 123456789012 (aws sts get-caller-identity --query Account)".to_string())
    }
}

/// `--kms-key`: a KMS key's ARN (an alias cannot be granted: policies name keys).
pub fn parse_kms_key(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "kms", _, _, resource] if resource.starts_with("key/") => Ok(text.to_string()),
        _ => Err("expected a KMS key ARN, such as arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (aws kms describe-key --key-id alias/NAME --query KeyMetadata.Arn)".to_string()),
    }
}

/// The actions one use needs, as the backend calls them (see `src/backend/aws/`).
fn actions(used: Use) -> &'static [&'static str] {
    match used {
        Use::Fetch => &["GetSecretValue"],
        // The watcher's poll: the current version's id (versions.rs).
        Use::Versions => &["DescribeSecret"],
        // Dates of the versions (metadata.rs).
        Use::Metadata => &["ListSecretVersionIds"],
        // The pending version is found by its staging label, then read.
        Use::PendingStatus => &["DescribeSecret", "GetSecretValue"],
        // Staged AWSPENDING with PutSecretValue; promote and finish move labels.
        Use::Rotate | Use::Pending => &[
            "DescribeSecret",
            "GetSecretValue",
            "PutSecretValue",
            "UpdateSecretVersionStage",
        ],
    }
}

/// The document, and notes for stderr (what it cannot know).
pub fn render(
    grants: &Grants,
    purpose: Purpose,
    config: &Config,
    account: &Account,
) -> Result<(String, Vec<String>), Vec<Problem>> {
    let region = config.aws.region.as_deref();
    let mut notes = Vec::new();
    if region.is_none() {
        notes.push("no aws_region in the config: the ARNs match every region (set aws_region, or CRONOS_SECRETS_AWS_REGION)".to_string());
    }
    if account.id.is_none() {
        notes.push("the ARNs match every account: pass --aws-account ID to name yours".to_string());
    }
    let mut by_actions: BTreeMap<BTreeSet<&str>, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (resource, access) in &grants.resources {
        let Resource::Aws { id } = resource else {
            continue;
        };
        let arn = match arn(id, region, account.id) {
            Ok(arn) => arn,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let needed: BTreeSet<&str> = access
            .uses
            .iter()
            .flat_map(|used| actions(*used))
            .copied()
            .collect();
        by_actions.entry(needed).or_default().insert(arn);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut statements = Vec::new();
    // The widest grants first: rotate's, then reads, then metadata alone.
    let mut sids: BTreeMap<&str, usize> = BTreeMap::new();
    for (needed, arns) in by_actions.iter().rev() {
        let sid = if needed.contains("PutSecretValue") {
            "RotateSecrets"
        } else if needed.contains("GetSecretValue") {
            "ReadSecrets"
        } else {
            "DescribeSecrets"
        };
        let seen = sids.entry(sid).or_default();
        *seen += 1;
        let sid = match *seen {
            1 => sid.to_string(),
            n => format!("{sid}{n}"),
        };
        statements.push(Statement {
            sid,
            effect: "Allow",
            action: json!(
                needed
                    .iter()
                    .map(|action| format!("secretsmanager:{action}"))
                    .collect::<Vec<_>>()
            ),
            resource: json!(arns),
            condition: None,
        });
    }
    // A launch reads current versions 20 at a time; BatchGetSecretValue authorizes on "*" and
    // then needs GetSecretValue on each secret, which the statements above grant.
    if purpose != Purpose::Rotate && grants.any(Use::Fetch) {
        statements.push(Statement {
            sid: "BatchReadTheSecretsAbove".to_string(),
            effect: "Allow",
            action: json!("secretsmanager:BatchGetSecretValue"),
            resource: json!("*"),
            condition: None,
        });
    }
    let writes = grants.any(Use::Rotate);
    if account.kms_keys.is_empty() {
        notes.push(format!(
            "secrets encrypted with a customer-managed KMS key also need kms:Decrypt{} on that key: pass --kms-key ARN to add the statement (the AWS-managed key aws/secretsmanager needs none)",
            if writes { " and kms:GenerateDataKey" } else { "" }
        ));
    } else {
        let mut kms_actions = vec!["kms:Decrypt"];
        if writes {
            // PutSecretValue encrypts the new version with the secret's key.
            kms_actions.push("kms:GenerateDataKey");
        }
        let via = format!("secretsmanager.{}.amazonaws.com", region.unwrap_or("*"));
        let operator = if region.is_some() {
            "StringEquals"
        } else {
            "StringLike"
        };
        statements.push(Statement {
            sid: "UseTheSecretsKeyThroughSecretsManager".to_string(),
            effect: "Allow",
            action: json!(kms_actions),
            resource: json!(account.kms_keys),
            condition: Some(json!({ operator: { "kms:ViaService": via } })),
        });
    }
    let document = Document {
        version: "2012-10-17",
        statement: statements,
    };
    let text = serde_json::to_string_pretty(&document).expect("a document serializes");
    Ok((format!("{text}\n"), notes))
}

/// The ARN a secret id names: an ARN as written (it holds the suffix), else the name with
/// AWS's random suffix as `-??????`.
fn arn(id: &str, region: Option<&str>, account: Option<&str>) -> Result<String, Problem> {
    if id.starts_with("arn:") {
        return Ok(id.to_string());
    }
    if id.contains(['*', '?']) {
        return Err(Problem::new(
            id,
            "a secret name with \"*\" or \"?\" reads as a wildcard in an IAM policy",
        )
        .with_hint("Secrets Manager names are letters, digits and /_+=.@-: rename the secret"));
    }
    let partition = match region {
        Some(region) if region.starts_with("cn-") => "aws-cn",
        Some(region) if region.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    };
    Ok(format!(
        "arn:{partition}:secretsmanager:{}:{}:secret:{id}-??????",
        region.unwrap_or("*"),
        account.unwrap_or("*")
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn arns_follow_the_region_s_partition_and_keep_a_written_arn() {
        let arn = |id: &str, region: Option<&str>| super::arn(id, region, Some("1")).unwrap();
        assert_eq!(
            arn("app/db", Some("eu-west-1")),
            "arn:aws:secretsmanager:eu-west-1:1:secret:app/db-??????"
        );
        assert!(arn("db", Some("cn-north-1")).starts_with("arn:aws-cn:"));
        assert!(arn("db", Some("us-gov-west-1")).starts_with("arn:aws-us-gov:"));
        assert_eq!(
            arn("db", None),
            "arn:aws:secretsmanager:*:1:secret:db-??????"
        );
        let written = "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf";
        assert_eq!(arn(written, None), written);
        assert!(super::arn("d*b", None, None).is_err());
    }

    #[test]
    fn account_ids_and_key_arns_are_checked() {
        assert!(super::parse_account("123456789012").is_ok());
        assert!(super::parse_account("12345678901:x").is_err());
        assert!(super::parse_kms_key("arn:aws:kms:eu-west-1:123456789012:key/abc").is_ok());
        assert!(super::parse_kms_key("alias/aws/secretsmanager").is_err());
        assert!(super::parse_kms_key("arn:aws:kms:eu-west-1:123456789012:alias/x").is_err());
    }
}
