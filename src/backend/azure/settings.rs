//! Azure settings from the config and the Azure SDKs' standard variables, read once into what
//! the backend runs with, and the one credential flow `azure_auth` selects.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::config::AzureSettings;
use crate::env_vars::Environment;
use crate::problem::Problem;
use crate::secret::SecretString;

const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The Azure SDKs' own IMDS override (`AZURE_POD_IDENTITY_AUTHORITY_HOST`) defaults to this.
const DEFAULT_IMDS_HOST: &str = "http://169.254.169.254";

#[derive(Debug)]
pub struct EffectiveSettings {
    /// `https://HOST[:PORT]` of the configured vault, when there is one.
    pub vault: Option<String>,
    pub authority_host: Url,
    pub flow: Flow,
    pub max_concurrency: usize,
    pub verify_challenge_resource: bool,
}

/// How the launcher obtains a token: exactly one flow per launch.
#[derive(Debug)]
pub enum Flow {
    ClientSecret {
        tenant: Option<String>,
        client_id: String,
        secret: SecretString,
    },
    WorkloadIdentity {
        tenant: Option<String>,
        client_id: String,
        token_file: PathBuf,
    },
    AppService {
        endpoint: Url,
        header: SecretString,
        client_id: Option<String>,
    },
    Imds {
        base: Url,
        client_id: Option<String>,
        probe: Duration,
    },
    Cli {
        tenant: Option<String>,
    },
}

impl Flow {
    /// "workload identity (client id …, token file …)": for messages; never a credential.
    pub fn describe(&self) -> String {
        match self {
            Flow::ClientSecret { client_id, .. } => format!("client secret, client id {client_id}"),
            Flow::WorkloadIdentity {
                client_id,
                token_file,
                ..
            } => format!(
                "workload identity, client id {client_id}, token file {}",
                token_file.display()
            ),
            Flow::AppService {
                endpoint,
                client_id,
                ..
            } => match client_id {
                Some(id) => {
                    format!("managed identity via App Service endpoint {endpoint}, client id {id}")
                }
                None => {
                    format!("managed identity via App Service endpoint {endpoint}, system-assigned")
                }
            },
            Flow::Imds {
                base, client_id, ..
            } => match client_id {
                Some(id) => format!("managed identity via IMDS at {base}, client id {id}"),
                None => format!("managed identity via IMDS at {base}, system-assigned"),
            },
            Flow::Cli { .. } => "Azure CLI (az account get-access-token)".to_string(),
        }
    }

    /// The client id to grant a role to, when the flow knows it.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Flow::ClientSecret { client_id, .. } | Flow::WorkloadIdentity { client_id, .. } => {
                Some(client_id)
            }
            Flow::AppService { client_id, .. } | Flow::Imds { client_id, .. } => {
                client_id.as_deref()
            }
            Flow::Cli { .. } => None,
        }
    }

    pub fn tenant(&self) -> Option<&str> {
        match self {
            Flow::ClientSecret { tenant, .. }
            | Flow::WorkloadIdentity { tenant, .. }
            | Flow::Cli { tenant } => tenant.as_deref(),
            _ => None,
        }
    }
}

pub fn resolve(settings: &AzureSettings, env: &Environment) -> Result<EffectiveSettings, Problem> {
    let vault = match settings
        .vault_url
        .clone()
        .or_else(|| non_empty(env, "AZURE_KEY_VAULT_URL"))
    {
        None => None,
        Some(text) => Some(vault_origin(&text).ok_or_else(|| {
            Problem::new(
                "azure_key_vault",
                format!("invalid Key Vault URL \"{text}\""),
            )
            .with_hint("expected https://VAULT-NAME.vault.azure.net/ (or another cloud's vault host) in secrets_manager.azure_vault_url or AZURE_KEY_VAULT_URL")
        })?),
    };
    let authority_text =
        non_empty(env, "AZURE_AUTHORITY_HOST").unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.into());
    // A bare host, as some tools write it, means https.
    let authority_text = if authority_text.contains("://") {
        authority_text
    } else {
        format!("https://{authority_text}")
    };
    let authority_host = Url::parse(&authority_text)
        .ok()
        .filter(|url| url.scheme() == "https" && url.host().is_some())
        .ok_or_else(|| {
            Problem::new(
                "AZURE_AUTHORITY_HOST",
                format!("invalid authority host \"{authority_text}\""),
            )
            .with_hint("expected https://login.microsoftonline.com (or your cloud's Entra ID host)")
        })?;
    Ok(EffectiveSettings {
        vault,
        authority_host,
        flow: select_flow(settings, env)?,
        max_concurrency: settings.max_concurrency,
        verify_challenge_resource: settings.verify_challenge_resource,
    })
}

/// `https://HOST[:PORT]` of a vault URL (`https://x.vault.azure.net/` or a bare host).
pub fn vault_origin(text: &str) -> Option<String> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme).ok()?;
    let path_ok = matches!(url.path(), "" | "/");
    if url.scheme() != "https"
        || !path_ok
        || url.query().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("https://{host}:{port}"),
        None => format!("https://{host}"),
    })
}

/// The one flow of this launch: the one named by `azure_auth`, or under `auto` the first whose
/// variables are set, in this order: client secret, workload identity, App Service managed
/// identity, IMDS managed identity.
fn select_flow(settings: &AzureSettings, env: &Environment) -> Result<Flow, Problem> {
    let requested = settings.auth.as_deref().unwrap_or("auto");
    let (name, why) = match requested {
        "auto" => {
            // Set but empty counts as unset, as in the Azure SDKs: a blank `AZURE_CLIENT_SECRET=`
            // in a compose file must not select a flow that then fails with "not set".
            let set = |name: &str| non_empty(env, name).is_some();
            if set("AZURE_CLIENT_SECRET") {
                ("client_secret", "AZURE_CLIENT_SECRET is set")
            } else if set("AZURE_FEDERATED_TOKEN_FILE") {
                ("workload_identity", "AZURE_FEDERATED_TOKEN_FILE is set")
            } else if set("IDENTITY_ENDPOINT") && set("IDENTITY_HEADER") {
                (
                    "managed_identity",
                    "IDENTITY_ENDPOINT and IDENTITY_HEADER are set",
                )
            } else {
                ("managed_identity", "no other credential is configured")
            }
        }
        other => (other, "secrets_manager.azure_auth names it"),
    };
    let tenant = non_empty(env, "AZURE_TENANT_ID");
    let client_id = non_empty(env, "AZURE_CLIENT_ID");
    let needs = |what: &str, flow: &str| {
        Problem::new(
            "azure_key_vault",
            format!("the {flow} credential needs {what}, which is not set (selected because {why})"),
        )
        .with_hint(format!(
            "set {what}, or choose another flow with secrets_manager.azure_auth (client_secret, workload_identity, managed_identity, cli)"
        ))
    };
    let flow = match name {
        "client_secret" => Flow::ClientSecret {
            secret: env
                .get("AZURE_CLIENT_SECRET")
                .filter(|value| !value.is_empty())
                .map(|value| SecretString::from_os(value.to_os_string()))
                .ok_or_else(|| needs("AZURE_CLIENT_SECRET", "client secret"))?,
            client_id: client_id.ok_or_else(|| needs("AZURE_CLIENT_ID", "client secret"))?,
            tenant,
        },
        "workload_identity" => Flow::WorkloadIdentity {
            token_file: non_empty(env, "AZURE_FEDERATED_TOKEN_FILE")
                .map(PathBuf::from)
                .ok_or_else(|| needs("AZURE_FEDERATED_TOKEN_FILE", "workload identity"))?,
            client_id: client_id.ok_or_else(|| needs("AZURE_CLIENT_ID", "workload identity"))?,
            tenant,
        },
        "managed_identity" => match (
            non_empty(env, "IDENTITY_ENDPOINT"),
            env.get("IDENTITY_HEADER").filter(|value| !value.is_empty()),
        ) {
            (Some(endpoint), Some(header)) => Flow::AppService {
                endpoint: Url::parse(&endpoint)
                    .ok()
                    .filter(|url| matches!(url.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        Problem::new("IDENTITY_ENDPOINT", "not an http(s) URL").with_hint(
                            "App Service and Container Apps set IDENTITY_ENDPOINT themselves; unset it if it was copied from elsewhere",
                        )
                    })?,
                header: SecretString::from_os(header.to_os_string()),
                client_id,
            },
            _ => {
                let base_text = non_empty(env, "AZURE_POD_IDENTITY_AUTHORITY_HOST")
                    .unwrap_or_else(|| DEFAULT_IMDS_HOST.into());
                Flow::Imds {
                    base: Url::parse(&base_text)
                        .ok()
                        .filter(|url| matches!(url.scheme(), "http" | "https"))
                        .ok_or_else(|| {
                            Problem::new(
                                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                                format!("not an http(s) URL: \"{base_text}\""),
                            )
                            .with_hint("expected e.g. http://169.254.169.254")
                        })?,
                    client_id,
                    probe: settings.imds_timeout,
                }
            }
        },
        "cli" => Flow::Cli { tenant },
        _ => unreachable!("azure_auth is validated when the config is read"),
    };
    tracing::info!(credential = %flow.describe(), reason = why, "Azure Key Vault credential selected");
    Ok(flow)
}

fn non_empty(env: &Environment, name: &str) -> Option<String> {
    env.get_str(name)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(auth: Option<&str>, vars: &[(&str, &str)]) -> Result<Flow, Problem> {
        let settings = AzureSettings {
            vault_url: None,
            auth: auth.map(str::to_string),
            max_concurrency: 16,
            verify_challenge_resource: true,
            imds_timeout: Duration::from_secs(2),
        };
        let env = Environment::from_vars(
            vars.iter()
                .map(|(name, value)| ((*name).into(), (*value).into())),
        );
        select_flow(&settings, &env)
    }

    #[test]
    fn auto_selects_exactly_one_flow_in_the_documented_order() {
        let workload = [
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/t"),
            ("IDENTITY_ENDPOINT", "http://localhost:1/msi"),
            ("IDENTITY_HEADER", "h"),
        ];
        assert!(matches!(
            flow(None, &workload),
            Ok(Flow::WorkloadIdentity { .. })
        ));
        let mut with_secret = workload.to_vec();
        with_secret.push(("AZURE_CLIENT_SECRET", "s"));
        assert!(matches!(
            flow(None, &with_secret),
            Ok(Flow::ClientSecret { .. })
        ));
        assert!(matches!(
            flow(None, &workload[2..]),
            Ok(Flow::AppService { .. })
        ));
        match flow(None, &[]) {
            Ok(Flow::Imds { base, .. }) => assert_eq!(base.as_str(), "http://169.254.169.254/"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            flow(Some("cli"), &with_secret),
            Ok(Flow::Cli { .. })
        ));
        // Empty variables select nothing: a blank secret falls through to workload identity.
        let mut blank_secret = workload.to_vec();
        blank_secret.push(("AZURE_CLIENT_SECRET", ""));
        assert!(matches!(
            flow(None, &blank_secret),
            Ok(Flow::WorkloadIdentity { .. })
        ));
        assert!(matches!(
            flow(
                None,
                &[
                    ("AZURE_FEDERATED_TOKEN_FILE", " "),
                    ("IDENTITY_HEADER", "h")
                ]
            ),
            Ok(Flow::Imds { .. })
        ));
        // The selected flow's own error: a client secret without a client id.
        let error = flow(None, &[("AZURE_CLIENT_SECRET", "s")]).unwrap_err();
        assert!(error.message.contains("AZURE_CLIENT_ID"), "{error}");
    }

    #[test]
    fn vault_urls_become_origins() {
        assert_eq!(
            vault_origin("https://cronos-ai-vault.vault.azure.net/").as_deref(),
            Some("https://cronos-ai-vault.vault.azure.net")
        );
        assert_eq!(
            vault_origin("Cronos.Vault.Azure.CN").as_deref(),
            Some("https://cronos.vault.azure.cn")
        );
        assert_eq!(
            vault_origin("https://127.0.0.1:8443").as_deref(),
            Some("https://127.0.0.1:8443")
        );
        assert_eq!(vault_origin("http://x.vault.azure.net"), None);
        assert_eq!(vault_origin("https://x.vault.azure.net/secrets/a"), None);
        assert_eq!(vault_origin("https://user:pw@x.vault.azure.net"), None);
    }
}
