//! `policy`: the least-privilege access policy for exactly the secrets a deployment
//! references (the required-secrets table, `secrets:`, the env files and templates), for what
//! it does with them (`run`, `watch`, `rotate`, `backup`). [`grants`] works out what each
//! purpose asks of which secret, named by the backend's own layout; one file per backend
//! writes its policy language.

mod aws;
mod azure;
mod grants;
mod vault;

use std::collections::BTreeSet;

pub use aws::{parse_account, parse_kms_key};
pub use grants::Deployment;

use crate::backend::Source;
use crate::problem::Problem;
use crate::untrusted_text::escaped;

/// What the identity the policy is for does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `run`, `render`, `export`, `check`: read the values once.
    Run,
    /// `run --watch`, `render --watch`: read, then poll the versions.
    Watch,
    /// `rotate` (every mode: status, dry run, rotate, resume, abort, retire).
    Rotate,
    /// A backup: every value, previous values and the versions' dates.
    Backup,
}

impl Purpose {
    const NAMES: [(&'static str, Purpose); 4] = [
        ("run", Purpose::Run),
        ("watch", Purpose::Watch),
        ("rotate", Purpose::Rotate),
        ("backup", Purpose::Backup),
    ];

    /// `--for`'s value; a near miss gets "did you mean".
    pub fn parse(text: &str) -> Result<Purpose, String> {
        if let Some((_, purpose)) = Purpose::NAMES.iter().find(|(name, _)| *name == text) {
            return Ok(*purpose);
        }
        let names: Vec<&str> = Purpose::NAMES.iter().map(|(name, _)| *name).collect();
        let mut message = format!(
            "unknown purpose \"{}\" (expected {})",
            escaped(text),
            names.join(", ")
        );
        if let Some(near) = crate::suggest::nearest(text, &names) {
            message.push_str(&format!("; did you mean \"{near}\"?"));
        }
        Err(message)
    }

    /// The command line the policy is for, in its header.
    fn command(self) -> &'static str {
        match self {
            Purpose::Run => "run",
            Purpose::Watch => "run --watch",
            Purpose::Rotate => "rotate",
            Purpose::Backup => "backup",
        }
    }
}

/// The policy language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Vault's HCL.
    Hcl,
    /// Vault's JSON policy syntax, or the AWS IAM policy document.
    Json,
    /// `az role assignment create` lines.
    Az,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Hcl => "hcl",
            Format::Json => "json",
            Format::Az => "az",
        }
    }

    /// The formats a backend's policy comes in, its default first.
    fn of(source: Source) -> &'static [Format] {
        match source {
            Source::Vault => &[Format::Hcl, Format::Json],
            Source::AwsSecretsManager => &[Format::Json],
            Source::AzureKeyVault => &[Format::Az],
            Source::Env | Source::File => &[],
        }
    }
}

/// What `policy` was asked for.
pub struct Request<'a> {
    pub purpose: Purpose,
    /// The backend whose policy to write (`--backend`, else the configured one).
    pub source: Source,
    pub format: Option<Format>,
    pub aws_account: Option<&'a str>,
    pub kms_keys: &'a [String],
    pub assignee: Option<&'a str>,
}

/// The policy text for stdout, and notes for stderr (what it could not know, other
/// backends the deployment also reads).
pub struct Written {
    pub policy: String,
    pub notes: Vec<String>,
}

pub fn write(deployment: &Deployment, request: &Request) -> Result<Written, Vec<Problem>> {
    let source = request.source;
    let formats = Format::of(source);
    let Some(default) = formats.first() else {
        return Err(vec![
            Problem::new(
                format!("backend {source}"),
                "has no access policy: it reads this machine's environment and files",
            )
            .with_hint("pass --backend vault, aws_secrets_manager or azure_key_vault"),
        ]);
    };
    let format = request.format.unwrap_or(*default);
    if !formats.contains(&format) {
        let names: Vec<&str> = formats.iter().map(|format| format.name()).collect();
        return Err(vec![
            Problem::new(
                format!("--format {}", format.name()),
                format!("is not a policy format of {source}"),
            )
            .with_hint(format!("{source} takes --format {}", names.join(" or "))),
        ]);
    }
    let grants = grants::collect(deployment, request.purpose, source)?;
    if grants.resources.is_empty() {
        return Err(vec![
            Problem::new(
                format!("backend {source}"),
                format!(
                    "this deployment reads no secret from it for {}",
                    request.purpose.command()
                ),
            )
            .with_hint(
                "check --plan shows where each variable comes from; pass --backend for another secrets manager",
            ),
        ]);
    }
    let mut notes: Vec<String> = grants
        .elsewhere
        .iter()
        .map(|(other, references)| {
            format!(
                "the deployment also reads {} reference(s) from {other}: policy --backend {other} writes that policy",
                references.len()
            )
        })
        .collect();
    let policy = match source {
        Source::AwsSecretsManager => {
            let account = aws::Account {
                id: request.aws_account,
                kms_keys: request.kms_keys,
            };
            let (document, more) =
                aws::render(&grants, request.purpose, deployment.config, &account)?;
            notes.extend(more);
            document
        }
        Source::AzureKeyVault => azure::render(&grants, request.purpose, request.assignee)?,
        _ => vault::render(&grants, request.purpose, deployment.config, format)?,
    };
    Ok(Written { policy, notes })
}

/// Who needs a grant, for its comment: a few names, then how many more.
fn needed_by(names: &BTreeSet<String>) -> String {
    const SHOWN: usize = 4;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(|name| escaped(name))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}
