//! What Key Vault's error answers mean for the user: the vault, the secret, the credential
//! flow, what was expected, and the command that fixes it. Never a value or a token.

use serde::Deserialize;

use super::credential::truncate;
use super::http::{Answer, HttpFailure};
use super::secret::{SecretId, Unusable};
use super::settings::Flow;
use crate::backend::utc;
use crate::backend::{FetchError, FetchErrorKind};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    Reading,
    Writing,
}

impl Doing {
    fn verb(self) -> &'static str {
        match self {
            Doing::Reading => "reading",
            Doing::Writing => "writing",
        }
    }

    fn role(self) -> &'static str {
        match self {
            Doing::Reading => "Key Vault Secrets User",
            Doing::Writing => "Key Vault Secrets Officer",
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    message: Option<String>,
    innererror: Option<Box<ErrorDetail>>,
}

/// Key Vault's error code (the innermost, most specific one) and message.
pub fn error_of(answer: &Answer) -> (String, String) {
    let detail = answer.json::<ErrorBody>().and_then(|body| body.error);
    let Some(mut detail) = detail else {
        return (String::new(), String::new());
    };
    let message = truncate(detail.message.as_deref().unwrap_or(""), 300);
    let mut code = detail.code.clone().unwrap_or_default();
    while let Some(inner) = detail.innererror {
        if let Some(inner_code) = &inner.code {
            code = inner_code.clone();
        }
        detail = *inner;
    }
    (code, message)
}

/// A Key Vault answer other than 200, for one secret.
pub fn explain(answer: &Answer, id: &SecretId, flow: &Flow, doing: Doing) -> FetchError {
    let (code, message) = error_of(answer);
    let request_id = answer
        .header("x-ms-request-id")
        .map(|id| format!(", request id {id}"))
        .unwrap_or_default();
    let what = match &id.version {
        Some(version) => format!("version {version} of secret \"{}\"", id.name),
        None => format!("secret \"{}\"", id.name),
    };
    let context = format!(
        "vault {}, credential: {}{request_id}",
        id.vault,
        flow.describe()
    );
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    let verb = doing.verb();
    let vault = id.vault_name();
    let assignee = flow.client_id().unwrap_or("PRINCIPAL-OR-CLIENT-ID");
    match (answer.status, code.as_str()) {
        (404, _) => {
            let hint = match &id.version {
                Some(_) => format!(
                    "list the versions with: az keyvault secret list-versions --vault-name {vault} --name {} --query [].id, or remove ?version=",
                    id.name
                ),
                None => format!(
                    "store it with: az keyvault secret set --vault-name {vault} --name {} --file /dev/stdin (or `cronos-secrets set --create`)",
                    id.name
                ),
            };
            FetchError::new(
                FetchErrorKind::NotFound,
                format!("{what} not found ({context}; expected 200, got 404 {code}{detail})"),
            )
            .with_hint(hint)
        }
        (403, "SecretDisabled") => disabled(id, &context),
        (403, "ForbiddenByFirewall") => FetchError::new(
            FetchErrorKind::Denied,
            format!("the vault's firewall refused {verb} {what} ({context}; 403 ForbiddenByFirewall{detail})"),
        )
        .with_hint(format!(
            "allow this network: az keyvault network-rule add --name {vault} --ip-address EGRESS-IP (or --subnet SUBNET-ID), or reach the vault through its private endpoint"
        )),
        (403, "ForbiddenByRbac") | (403, "Forbidden") | (403, "") => FetchError::new(
            FetchErrorKind::Denied,
            format!(
                "permission denied {verb} {what} ({context}; 403 {code}{detail}): the identity needs the role \"{}\"",
                doing.role()
            ),
        )
        .with_hint(format!(
            "az role assignment create --role \"{}\" --assignee {assignee} --scope \"$(az keyvault show --name {vault} --query id -o tsv)/secrets/{}\"",
            doing.role(),
            id.name
        )),
        (403, _) => FetchError::new(
            FetchErrorKind::Denied,
            format!("permission denied {verb} {what} ({context}; 403 {code}{detail})"),
        )
        .with_hint(format!(
            "for a vault with access policies: az keyvault set-policy --name {vault} --spn {assignee} --secret-permissions get{}",
            if doing == Doing::Writing { " set" } else { "" }
        )),
        (401, _) => FetchError::new(
            FetchErrorKind::Denied,
            format!("the vault refused the token {verb} {what} ({context}; 401 {code}{detail})"),
        )
        .with_hint("the token is for another tenant or cloud: set AZURE_TENANT_ID to the vault's tenant"),
        (status, _) => FetchError::new(
            if status >= 500 || status == 429 {
                FetchErrorKind::Unavailable
            } else {
                FetchErrorKind::Invalid
            },
            format!("Key Vault answered {status} {code} {verb} {what} ({context}{detail})"),
        )
        .with_hint("see the message above; `cronos-secrets check` repeats the read without starting anything"),
    }
}

fn disabled(id: &SecretId, context: &str) -> FetchError {
    let what = match &id.version {
        Some(version) => format!("version {version} of secret \"{}\"", id.name),
        None => format!("the latest version of secret \"{}\"", id.name),
    };
    FetchError::new(
        FetchErrorKind::Denied,
        format!("{what} is disabled ({context})"),
    )
    .with_hint(format!(
        "enable it with: az keyvault secret set-attributes --vault-name {} --name {} --enabled true{}, or store a new version",
        id.vault_name(),
        id.name,
        id.version
            .as_deref()
            .map(|version| format!(" --version {version}"))
            .unwrap_or_default()
    ))
}

/// A version that was read but may not be used.
pub fn unusable(why: &Unusable, id: &SecretId, flow: &Flow) -> FetchError {
    let context = format!("vault {}, credential: {}", id.vault, flow.describe());
    let named = match id.version.as_deref() {
        Some(version) => format!("version {version} of secret \"{}\"", id.name),
        None => format!("secret \"{}\"", id.name),
    };
    match why {
        Unusable::Disabled => disabled(id, &context),
        Unusable::Expired(at) => FetchError::new(
            FetchErrorKind::Denied,
            format!("{named} expired at {} ({context})", utc(*at)),
        )
        .with_hint(format!(
            "store a new version (az keyvault secret set --vault-name {} --name {} …) or move its expiry: az keyvault secret set-attributes --vault-name {} --name {} --expires YYYY-MM-DDTHH:MM:SSZ",
            id.vault_name(), id.name, id.vault_name(), id.name
        )),
        Unusable::NotYetValid(at) => FetchError::new(
            FetchErrorKind::Denied,
            format!("{named} is not valid before {} ({context})", utc(*at)),
        )
        .with_hint("wait until then, or pin the previous version with ?version=VERSION-ID"),
    }
}

/// No answer from the vault at all. Vault-wide (the challenge shares it among every secret of
/// the vault), so it names no secret: [`for_secret`] does, for each one.
pub fn unreachable(failure: &HttpFailure, vault: &str, flow: &Flow) -> FetchError {
    FetchError::new(
        FetchErrorKind::Unavailable,
        format!(
            "{} (credential: {})",
            failure.describe(vault.trim_start_matches("https://")),
            flow.describe()
        ),
    )
    .with_hint(failure.hint())
}

/// Names the backend, the vault and the secret before a vault-wide error (no answer, no
/// challenge, no token): every secret of the vault shares one such failure, and each must
/// report its own name, not that of the first secret asked. `doing` when it is known.
pub fn for_secret(error: FetchError, id: &SecretId, doing: Option<Doing>) -> FetchError {
    let verb = doing
        .map(|doing| format!("{} ", doing.verb()))
        .unwrap_or_default();
    FetchError {
        message: format!(
            "Azure Key Vault {}, {verb}secret \"{}\": {}",
            id.vault, id.name, error.message
        ),
        ..error
    }
}
