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
            problems.push(
                Problem::new(name, "the vault is named only by $AZURE_KEY_VAULT_URL, at run time")
                    .with_hint("set secrets_manager.azure_vault_url in the config, so that the policy can name the vault"),
            );
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
/// placeholder of a vault the config does not name. Vault and secret names are letters,
/// digits and dashes (checked by the backend's parse), so they need no quoting.
fn vault_name(origin: &str) -> Option<&str> {
    let host = origin.strip_prefix("https://")?;
    host.split(['.', ':'])
        .next()
        .filter(|name| !name.is_empty())
}

/// `'text'` for a POSIX shell.
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}
