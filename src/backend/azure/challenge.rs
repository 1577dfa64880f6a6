//! Key Vault's 401 challenge, as the Azure SDKs read it: an unauthenticated request answers
//! `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/TENANT",
//! resource="https://vault.azure.net"` (or `scope="https://vault.azure.net/.default"`). It
//! gives the tenant and the token's scope, so sovereign clouds need no settings; the scope's
//! domain must match the vault's host, so a look-alike URL never gets a token for Key Vault.

/// What the challenge says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The tenant in `authorization`'s path; only its id is used, never its host.
    pub tenant: Option<String>,
    /// `https://vault.azure.net/.default`.
    pub scope: String,
}

impl Challenge {
    /// Parses a `WWW-Authenticate` value; `None` when it is not a usable Bearer challenge.
    pub fn parse(header: &str) -> Option<Challenge> {
        let rest = header.trim();
        let (scheme, parameters) = rest.split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut authorization = None;
        let mut resource = None;
        let mut scope = None;
        for (name, value) in parameters_of(parameters) {
            match name.to_ascii_lowercase().as_str() {
                "authorization" | "authorization_uri" => authorization = Some(value),
                "resource" => resource = Some(value),
                "scope" => scope = Some(value),
                _ => {}
            }
        }
        let scope = match (scope, resource) {
            (Some(scope), _) if !scope.is_empty() => scope,
            (_, Some(resource)) if !resource.is_empty() => {
                format!("{}/.default", resource.trim_end_matches('/'))
            }
            _ => return None,
        };
        let tenant = authorization.and_then(|uri| {
            let url = url::Url::parse(&uri).ok()?;
            let tenant = url.path_segments()?.find(|segment| !segment.is_empty())?;
            is_tenant(tenant).then(|| tenant.to_string())
        });
        Some(Challenge { tenant, scope })
    }

    /// The tenant a token is requested from: the configured one (`AZURE_TENANT_ID`) when set,
    /// else the one the vault named.
    pub fn tenant_given<'a>(&'a self, configured: Option<&'a str>) -> Option<&'a str> {
        configured.or(self.tenant.as_deref())
    }

    /// `https://vault.azure.net`: the scope without `/.default`, as managed identity
    /// endpoints and the CLI take it.
    pub fn resource(&self) -> &str {
        self.scope
            .strip_suffix("/.default")
            .unwrap_or(&self.scope)
            .trim_end_matches('/')
    }

    /// The vault's host must be a subdomain of the scope's host (`x.vault.azure.net` for
    /// `https://vault.azure.net`), as the SDKs' `verify_challenge_resource` demands.
    pub fn verify(&self, vault_host: &str) -> Result<(), String> {
        let resource_host = url::Url::parse(self.resource())
            .ok()
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let vault_host = vault_host.to_ascii_lowercase();
        if !resource_host.is_empty() && vault_host.ends_with(&format!(".{resource_host}")) {
            Ok(())
        } else {
            Err(format!(
                "the challenge's resource \"{}\" does not match the vault's host \"{vault_host}\"",
                self.resource()
            ))
        }
    }
}

/// `name="value", name=value` pairs of an auth-param list.
fn parameters_of(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text.trim();
    while let Some((name, after)) = rest.split_once('=') {
        let name = name.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((value, next)) => (value.to_string(), next),
                None => (quoted.to_string(), ""),
            }
        } else {
            match after.split_once(',') {
                Some((value, next)) => (value.trim().to_string(), next),
                None => (after.trim().to_string(), ""),
            }
        };
        pairs.push((name, value));
        rest = next.trim_start().trim_start_matches(',');
    }
    pairs
}

/// A tenant id or domain: what may go into the token endpoint's path.
pub fn is_tenant(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_resource_and_scope_challenges() {
        let challenge = Challenge::parse(
            r#"Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#,
        )
        .unwrap();
        assert_eq!(
            challenge.tenant.as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        assert_eq!(challenge.scope, "https://vault.azure.net/.default");
        assert_eq!(challenge.resource(), "https://vault.azure.net");

        let challenge = Challenge::parse(
            r#"Bearer authorization_uri="https://login.chinacloudapi.cn/contoso.onmicrosoft.com",scope="https://vault.azure.cn/.default""#,
        )
        .unwrap();
        assert_eq!(challenge.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(challenge.scope, "https://vault.azure.cn/.default");

        assert_eq!(Challenge::parse(r#"Basic realm="x""#), None);
        assert_eq!(
            Challenge::parse(r#"Bearer authorization="https://login/t""#),
            None
        );
    }

    #[test]
    fn the_vault_host_must_be_under_the_resource_domain() {
        let challenge = Challenge {
            tenant: None,
            scope: "https://vault.azure.net/.default".into(),
        };
        assert!(challenge.verify("cronos-ai-vault.vault.azure.net").is_ok());
        assert!(challenge.verify("Cronos.VAULT.azure.net").is_ok());
        assert!(challenge.verify("vault.azure.net.evil.example").is_err());
        assert!(challenge.verify("evilvault.azure.net").is_err());
        assert!(challenge.verify("127.0.0.1").is_err());
        let china = Challenge {
            tenant: None,
            scope: "https://vault.azure.cn/.default".into(),
        };
        assert!(china.verify("x.vault.azure.cn").is_ok());
        assert!(china.verify("x.vault.azure.net").is_err());
    }
}
