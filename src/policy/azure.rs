//! Key Vault role assignments at each secret's own scope, as `az role assignment create`
//! lines: the built-in "Key Vault Secrets User" (read a secret and its versions' attributes)
//! where the deployment only reads, "Key Vault Secrets Officer" where `rotate` writes. The
//! vault's resource id comes from `az keyvault show`, so no subscription or resource group
//! has to be typed.

use std::collections::BTreeMap;

use super::grants::{Grants, Use};
use super::{Purpose, needed_by};
use crate::backend::Resource;
use crate::problem::Problem;

pub const READER: &str = "Key Vault Secrets User";
pub const WRITER: &str = "Key Vault Secrets Officer";

/// The shell lines; `assignee` is `--assignee` (else `$ASSIGNEE` at run time).
pub fn render(
    grants: &Grants,
    purpose: Purpose,
    assignee: Option<&str>,
) -> Result<String, Vec<Problem>> {
    // Vault name → its secrets, each with its role and who needs it.
    let mut vaults: BTreeMap<String, Vec<(&str, &'static str, String)>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (resource, access) in &grants.resources {
        let Resource::Azure { vault, name } = resource else {
            continue;
        };
        let Some(vault_name) = vault_name(vault) else {
            let problem = if vault.starts_with('$') {
                Problem::new(
                    "secrets_manager.azure_vault_url",
                    "names no vault the policy can name (unset, or not an https URL): launches would use $AZURE_KEY_VAULT_URL, known only at run time",
                )
                .with_hint("set azure_vault_url in the config to https://VAULT-NAME.vault.azure.net/")
            } else {
                Problem::new(
                    vault,
                    "names no Key Vault: its first label is not a vault name (letters, digits and dashes)",
                )
                .with_hint("write the vault as https://VAULT-NAME.vault.azure.net")
            };
            // One problem per vault, however many of its secrets are read.
            if !problems.contains(&problem) {
                problems.push(problem);
            }
            continue;
        };
        let writes = access.uses.contains(&Use::Rotate) || access.uses.contains(&Use::Pending);
        let role = if writes { WRITER } else { READER };
        vaults.entry(vault_name.to_string()).or_default().push((
            name,
            role,
            needed_by(&access.needed_by),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = format!(
        "#!/bin/sh\n# Least privilege for `cronos-secrets {}`: one role assignment per secret, at the\n# secret's own scope. The vault must use the Azure RBAC permission model\n# (az keyvault update --name VAULT --enable-rbac-authorization true).\nset -eu\n",
        purpose.command()
    );
    out.push_str(&match assignee {
        Some(assignee) => format!("assignee={}\n", shell_quoted(assignee)),
        None => "assignee=\"${ASSIGNEE:?set ASSIGNEE to the object id of the identity that runs cronos-secrets}\"\n".to_string(),
    });
    for (vault, secrets) in &vaults {
        out.push_str(&format!(
            "\nvault_id=$(az keyvault show --name {vault} --query id --output tsv)\n"
        ));
        for (name, role, needed_by) in secrets {
            out.push_str(&format!(
                "# {needed_by}\naz role assignment create --role \"{role}\" --assignee \"$assignee\" --scope \"$vault_id/secrets/{name}\"\n"
            ));
        }
    }
    if purpose == Purpose::Rotate {
        out.push_str("\n# NAME-pending and NAME-previous come into being at the first rotation. Where Azure\n# refuses an assignment to a secret that does not exist yet, assign those two after it (the\n# first rotation then needs Key Vault Secrets Officer on the vault, removed once it is done).\n");
    }
    Ok(out)
}

/// `cronos-ai` of `https://cronos-ai.vault.azure.net`; `None` for the `$AZURE_KEY_VAULT_URL`
/// placeholder of a vault the config does not name, and for a host whose first label is not a
/// vault name. Vault names (checked here) and secret names (checked by the backend's parse)
/// are letters, digits and dashes, so the shell lines need not quote them.
fn vault_name(origin: &str) -> Option<&str> {
    let host = origin.strip_prefix("https://")?;
    host.split(['.', ':']).next().filter(|name| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// `'text'` for a POSIX shell.
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_vault_name_reaches_the_shell_lines() {
        assert_eq!(
            vault_name("https://cronos-kv.vault.azure.net"),
            Some("cronos-kv")
        );
        assert_eq!(vault_name("https://localhost:8443"), Some("localhost"));
        assert_eq!(vault_name("https://a$(touch x).vault.azure.net"), None);
        assert_eq!(vault_name("$AZURE_KEY_VAULT_URL"), None);
        assert_eq!(shell_quoted("it's"), "'it'\\''s'");
    }
}
