//! Getting a token for Key Vault with the launch's one credential flow: Entra ID's token
//! endpoint (client secret, or the workload identity's federated token as a client assertion),
//! the App Service / Container Apps identity endpoint, IMDS, or `az account get-access-token`.
//! Every error is that flow's own: there is no fallback to report instead.

use std::process::Stdio;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;
use url::Url;

use super::challenge::{Challenge, is_tenant};
use super::http::{Answer, Http, Patience};
use super::settings::{EffectiveSettings, Flow};
use crate::backend::{FetchError, FetchErrorKind};
use crate::bounded::{self, SECRET_FILE_LIMIT};
use crate::secret::SecretString;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A token and how long it is good for, as its answer said (`expires_in`).
pub struct Token {
    pub value: SecretString,
    pub lifetime: Duration,
}

/// `az account get-access-token` hands out its cached token while at least this is left.
const CLI_TOKEN_LEFT: Duration = Duration::from_secs(300);

/// A token for `challenge`'s scope, or why there is none (naming the flow, never a credential).
pub async fn token(
    http: &Http,
    settings: &EffectiveSettings,
    challenge: &Challenge,
) -> Result<Token, FetchError> {
    let flow = &settings.flow;
    let failed = |kind: FetchErrorKind, reason: String, hint: String| {
        FetchError::new(
            kind,
            format!(
                "cannot get a Key Vault token ({}): {reason}",
                flow.describe()
            ),
        )
        .with_hint(hint)
    };
    match flow {
        Flow::ClientSecret {
            client_id, secret, ..
        } => {
            let secret = secret.expose_str().ok_or_else(|| {
                failed(
                    FetchErrorKind::Invalid,
                    "AZURE_CLIENT_SECRET is not UTF-8 text".into(),
                    "copy the secret again from the app registration".into(),
                )
            })?;
            let tenant = tenant(flow, challenge)
                .map_err(|(reason, hint)| failed(FetchErrorKind::Invalid, reason, hint))?;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret),
                ("scope", challenge.scope.as_str()),
            ];
            entra(http, settings, &tenant, &form)
                .await
                .map_err(|(kind, reason, hint)| failed(kind, reason, hint))
        }
        Flow::WorkloadIdentity {
            client_id,
            token_file,
            ..
        } => {
            let tenant = tenant(flow, challenge)
                .map_err(|(reason, hint)| failed(FetchErrorKind::Invalid, reason, hint))?;
            let bytes = bounded::read_regular_file_until(
                token_file.clone(),
                SECRET_FILE_LIMIT,
                http.deadline(),
            )
            .await
            .map_err(|error| {
                failed(
                    FetchErrorKind::Invalid,
                    format!("the federated token file {} {error}", token_file.display()),
                    error.hint().unwrap_or_else(|| {
                        "check that the pod's service account has the azure.workload.identity/use label and that the webhook mounted the token".into()
                    }),
                )
            })?;
            let assertion = SecretString::new(bytes);
            let assertion = assertion
                .expose_str()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .ok_or_else(|| {
                    failed(
                        FetchErrorKind::Invalid,
                        format!(
                            "the federated token file {} is empty or not text",
                            token_file.display()
                        ),
                        "the file must hold the projected service-account JWT the workload identity webhook mounts".into(),
                    )
                })?;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", assertion),
                ("scope", challenge.scope.as_str()),
            ];
            entra(http, settings, &tenant, &form)
                .await
                .map_err(|(kind, reason, hint)| failed(kind, reason, hint))
        }
        Flow::AppService {
            endpoint,
            header,
            client_id,
        } => {
            let mut url = endpoint.clone();
            url.query_pairs_mut()
                .append_pair("api-version", "2019-08-01")
                .append_pair("resource", challenge.resource());
            if let Some(id) = client_id {
                url.query_pairs_mut().append_pair("client_id", id);
            }
            let mut header_value = reqwest::header::HeaderValue::from_bytes(header.expose())
                .map_err(|_| {
                    failed(
                        FetchErrorKind::Invalid,
                        "IDENTITY_HEADER holds characters not allowed in an HTTP header".into(),
                        "App Service sets IDENTITY_HEADER itself; do not override it".into(),
                    )
                })?;
            header_value.set_sensitive(true);
            let answer = http
                .send(
                    |client| {
                        client
                            .get(url.clone())
                            .header("X-IDENTITY-HEADER", header_value.clone())
                    },
                    Patience::Deadline,
                )
                .await
                .map_err(|failure| {
                    failed(
                        FetchErrorKind::Unavailable,
                        failure.describe(&host_of(endpoint)),
                        failure.hint().into(),
                    )
                })?;
            access_token(&answer).map_err(|refusal| {
                failed(
                    kind_of(answer.status),
                    refusal.message,
                    "check that the app has a managed identity (az webapp identity assign) and, for a user-assigned one, that AZURE_CLIENT_ID is its client id".into(),
                )
            })
        }
        Flow::Imds {
            base,
            client_id,
            probe,
        } => {
            let mut url = imds_url(base);
            url.query_pairs_mut()
                .append_pair("api-version", "2018-02-01")
                .append_pair("resource", challenge.resource());
            if let Some(id) = client_id {
                url.query_pairs_mut().append_pair("client_id", id);
            }
            let answer = http
                .send(
                    |client| client.get(url.clone()).header("Metadata", "true"),
                    Patience::Probe(*probe),
                )
                .await
                .map_err(|failure| {
                    failed(
                        FetchErrorKind::Unavailable,
                        format!("{} — not running on an Azure VM, VM scale set or AKS node?", failure.describe(&host_of(base))),
                        "off Azure, use `az login` with secrets_manager.azure_auth: cli, or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE); raise azure_imds_timeout if IMDS is slow".into(),
                    )
                })?;
            access_token(&answer).map_err(|refusal| {
                failed(
                    kind_of(answer.status),
                    refusal.message,
                    "assign a managed identity to the VM or node pool (az vm identity assign), and for a user-assigned identity set AZURE_CLIENT_ID to its client id".into(),
                )
            })
        }
        Flow::Cli { tenant } => cli(http, challenge, tenant.as_deref())
            .await
            .map(|value| Token {
                value,
                lifetime: CLI_TOKEN_LEFT,
            })
            .map_err(|(kind, reason, hint)| failed(kind, reason, hint)),
    }
}

/// `AZURE_TENANT_ID`, else the tenant in the vault's challenge.
fn tenant(flow: &Flow, challenge: &Challenge) -> Result<String, (String, String)> {
    match challenge.tenant_given(flow.tenant()) {
        Some(tenant) if is_tenant(tenant) => Ok(tenant.to_string()),
        Some(_) => Err((
            "AZURE_TENANT_ID is not a tenant id or domain".into(),
            "set AZURE_TENANT_ID to the directory (tenant) id, a GUID".into(),
        )),
        None => Err((
            "no tenant: AZURE_TENANT_ID is not set and the vault's challenge named none".into(),
            "set AZURE_TENANT_ID to the directory (tenant) id".into(),
        )),
    }
}

type Failed = (FetchErrorKind, String, String);

/// `POST {authority}/{tenant}/oauth2/v2.0/token` with a form.
async fn entra(
    http: &Http,
    settings: &EffectiveSettings,
    tenant: &str,
    form: &[(&str, &str)],
) -> Result<Token, Failed> {
    let url = format!(
        "{}/{tenant}/oauth2/v2.0/token",
        settings.authority_host.as_str().trim_end_matches('/')
    );
    let body = SecretString::from(
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish(),
    );
    let host = host_of(&settings.authority_host);
    let answer = http
        .send(
            |client| {
                client
                    .post(&url)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body.expose().to_vec())
            },
            Patience::Deadline,
        )
        .await
        .map_err(|failure| {
            (
                FetchErrorKind::Unavailable,
                format!("token endpoint {}", failure.describe(&host)),
                format!(
                    "{} (AZURE_AUTHORITY_HOST selects the Entra ID host, now {host})",
                    failure.hint()
                ),
            )
        })?;
    access_token(&answer).map_err(|refusal| {
        let hint = entra_hint(&refusal.detail, &settings.flow);
        (
            kind_of(answer.status),
            format!("{host}: {}", refusal.message),
            hint,
        )
    })
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    /// Seconds, a number (Entra ID) or a string of digits (the managed identity endpoints).
    expires_in: Option<serde_json::Value>,
}

/// A token whose answer gave no lifetime is kept this long (Entra ID's shortest is an hour).
const UNSAID_LIFETIME: Duration = Duration::from_secs(600);

fn lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    let seconds = match expires_in {
        Some(serde_json::Value::Number(number)) => number.as_u64(),
        Some(serde_json::Value::String(text)) => text.trim().parse().ok(),
        _ => None,
    };
    seconds.map_or(UNSAID_LIFETIME, Duration::from_secs)
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
}

/// Why a token answer holds no token.
struct Refusal {
    /// "answered 401: invalid_client AADSTS7000215: …" (first line, truncated).
    message: String,
    /// Microsoft's error code and whole description, for choosing a hint.
    detail: String,
}

/// The token of a 200 answer, or what the error answer says (codes and descriptions are
/// Microsoft's texts, never credentials).
fn access_token(answer: &Answer) -> Result<Token, Refusal> {
    if answer.status == 200 {
        let parsed = answer.json::<TokenAnswer>();
        let lifetime = lifetime(parsed.as_ref().and_then(|token| token.expires_in.as_ref()));
        return match parsed.and_then(|token| token.access_token) {
            Some(token) if !token.is_empty() => Ok(Token {
                value: SecretString::from(token),
                lifetime,
            }),
            _ => Err(Refusal {
                message: "answered 200 without an access_token".into(),
                detail: String::new(),
            }),
        };
    }
    let (summary, detail) = match answer.json::<TokenError>() {
        Some(TokenError {
            error,
            error_description,
        }) => {
            let error = error.unwrap_or_else(|| "error".into());
            let description = error_description.unwrap_or_default();
            let first_line = truncate(description.lines().next().unwrap_or(""), 240);
            (
                format!("{error} {first_line}"),
                format!("{error} {description}"),
            )
        }
        None => ("an answer that is not JSON".into(), String::new()),
    };
    Err(Refusal {
        message: format!("answered {}: {}", answer.status, summary.trim()),
        detail,
    })
}

/// The fix for an Entra ID refusal, chosen by its AADSTS code.
fn entra_hint(text: &str, flow: &Flow) -> String {
    let client = flow.client_id().unwrap_or("CLIENT_ID");
    if text.contains("AADSTS70021") || text.contains("AADSTS700213") {
        return format!(
            "no federated credential matches this service account: az identity federated-credential create --identity-name IDENTITY --resource-group GROUP --name cronos-ai --issuer \"$(az aks show -n CLUSTER -g GROUP --query oidcIssuerProfile.issuerUrl -o tsv)\" --subject system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT (client id {client})"
        );
    }
    if text.contains("AADSTS7000215") || text.contains("AADSTS7000222") {
        return format!(
            "the client secret is wrong or expired: az ad app credential reset --id {client}, then update AZURE_CLIENT_SECRET"
        );
    }
    if text.contains("AADSTS90002") || text.contains("AADSTS900023") {
        return "the tenant does not exist: set AZURE_TENANT_ID to the vault's directory (tenant) id".into();
    }
    if text.contains("AADSTS700016") {
        return format!(
            "no application {client} in this tenant: check AZURE_CLIENT_ID and AZURE_TENANT_ID"
        );
    }
    "check AZURE_TENANT_ID, AZURE_CLIENT_ID and the credential; the AADSTS code above is explained at https://login.microsoftonline.com/error".into()
}

/// `az account get-access-token`: the developer's `az login` session.
async fn cli(
    http: &Http,
    challenge: &Challenge,
    tenant: Option<&str>,
) -> Result<SecretString, Failed> {
    let mut command = tokio::process::Command::new("az");
    command
        .args([
            "account",
            "get-access-token",
            "--output",
            "json",
            "--scope",
            &challenge.scope,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(tenant) = challenge.tenant_given(tenant) {
        command.args(["--tenant", tenant]);
    }
    let child = command.spawn().map_err(|error| {
        (
            FetchErrorKind::Unavailable,
            format!("cannot run az: {error}"),
            "install the Azure CLI and run `az login`, or choose another secrets_manager.azure_auth".to_string(),
        )
    })?;
    let output = tokio::time::timeout_at(http.deadline(), child.wait_with_output())
        .await
        .map_err(|_| {
            (
                FetchErrorKind::Unavailable,
                "az account get-access-token did not finish before the deadline".to_string(),
                "run it by hand to see what it waits for, or raise --timeout".to_string(),
            )
        })?
        .map_err(|error| {
            (
                FetchErrorKind::Unavailable,
                format!("az failed: {error}"),
                "run `az login`".to_string(),
            )
        })?;
    let stdout = SecretString::new(output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or("no message");
        return Err((
            FetchErrorKind::Denied,
            format!(
                "az account get-access-token failed ({}): {}",
                output.status,
                truncate(first, 240)
            ),
            "run `az login` (with --tenant for the vault's tenant), then try again".to_string(),
        ));
    }
    #[derive(Deserialize)]
    struct CliToken {
        #[serde(rename = "accessToken")]
        access_token: Option<String>,
    }
    if stdout.expose().len() > SECRET_FILE_LIMIT as usize {
        return Err((
            FetchErrorKind::Invalid,
            "az printed more than a token answer".into(),
            "check which `az` is on PATH".into(),
        ));
    }
    match serde_json::from_slice::<CliToken>(stdout.expose())
        .ok()
        .and_then(|token| token.access_token)
    {
        Some(token) if !token.is_empty() => Ok(SecretString::from(token)),
        _ => Err((
            FetchErrorKind::Invalid,
            "az account get-access-token printed no accessToken".into(),
            "check which `az` is on PATH and that it is the Azure CLI".into(),
        )),
    }
}

/// IMDS's token path under the base URL (`AZURE_POD_IDENTITY_AUTHORITY_HOST`).
fn imds_url(base: &Url) -> Url {
    let mut url = base.clone();
    url.set_path("/metadata/identity/oauth2/token");
    url.set_query(None);
    url
}

fn kind_of(status: u16) -> FetchErrorKind {
    match status {
        400 | 401 | 403 => FetchErrorKind::Denied,
        404 => FetchErrorKind::NotFound,
        _ => FetchErrorKind::Unavailable,
    }
}

pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => url.to_string(),
    }
}

pub fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((index, _)) => format!("{}…", &text[..index]),
        None => text.to_string(),
    }
}
