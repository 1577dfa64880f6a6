//! A Vault (OpenBao) policy, in HCL or Vault's JSON policy syntax: `read` on the exact KV v2
//! `data/` paths, `metadata/` where versions are polled or dated, the pending sibling's
//! capabilities for rotate, and the token's own endpoints the launcher calls.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::grants::{Access, Grants, Use};
use super::{Format, Purpose, needed_by};
use crate::backend::Resource;
use crate::config::Config;
use crate::problem::Problem;
use crate::untrusted_text::escaped;

/// Capabilities in the order Vault's documentation lists them.
const ORDER: [&str; 5] = ["create", "read", "update", "delete", "list"];

#[derive(Default)]
struct Path {
    capabilities: BTreeSet<&'static str>,
    needed_by: BTreeSet<String>,
}

pub fn render(
    grants: &Grants,
    purpose: Purpose,
    config: &Config,
    format: Format,
) -> Result<String, Vec<Problem>> {
    let mut paths: BTreeMap<String, Path> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut leases = false;
    for (resource, access) in &grants.resources {
        if let Resource::VaultDynamic { path } = resource {
            // Each read makes new credentials: `read` of the declared endpoint only; the
            // watcher's poll never reads it (its lease keeper renews instead).
            if access.uses.contains(&Use::Fetch) {
                let entry = paths.entry(path.clone()).or_default();
                entry.capabilities.insert("read");
                entry.needed_by.extend(access.needed_by.iter().cloned());
                leases = true;
            }
            continue;
        }
        let Resource::Vault {
            mount,
            path,
            kv_version,
        } = resource
        else {
            continue;
        };
        let logical = format!("{mount}/{path}");
        if let Some(why) = not_exact(&logical) {
            problems.push(Problem::new(&logical, why).with_hint(
                "rename the secret: a Vault policy cannot name this path without also granting others",
            ));
            continue;
        }
        match capabilities(mount, path, *kv_version, access) {
            Ok(granted) => {
                for (api_path, capabilities) in granted {
                    let entry = paths.entry(api_path).or_default();
                    entry.capabilities.extend(capabilities);
                    entry.needed_by.extend(access.needed_by.iter().cloned());
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let token_paths = token_paths(purpose, config, leases);
    Ok(match format {
        Format::Json => json_policy(&paths, &token_paths),
        _ => hcl(&paths, &token_paths, purpose, config),
    })
}

/// The API paths and capabilities one secret needs. KV v2 unless the config says v1: a read
/// of an unknown mount tries v2's `data/` path first.
fn capabilities(
    mount: &str,
    path: &str,
    kv_version: Option<u8>,
    access: &Access,
) -> Result<Vec<(String, Vec<&'static str>)>, Problem> {
    let data = format!("{mount}/data/{path}");
    let metadata = format!("{mount}/metadata/{path}");
    let mut granted = Vec::new();
    for used in &access.uses {
        if kv_version == Some(1) {
            // KV v1 keeps no metadata: versions and dates come from reading the value.
            match used {
                Use::Rotate | Use::Pending => {
                    return Err(Problem::new(
                        format!("{mount}/{path}"),
                        "rotate needs KV version 2 (check-and-set and a pending slot); the config says vault_kv_version: 1",
                    )
                    .with_hint(format!("upgrade the mount (bao kv enable-versioning {mount}), then set vault_kv_version: 2")));
                }
                _ => granted.push((format!("{mount}/{path}"), vec!["read"])),
            }
            continue;
        }
        match used {
            Use::Fetch | Use::PendingStatus => granted.push((data.clone(), vec!["read"])),
            Use::Versions | Use::Metadata => granted.push((metadata.clone(), vec!["read"])),
            // Promote and --retire are check-and-set writes of an existing secret.
            Use::Rotate => granted.push((data.clone(), vec!["read", "update"])),
            // The slot is written create-only (cas=0) and removed with all its versions.
            Use::Pending => {
                granted.push((data.clone(), vec!["create", "read"]));
                granted.push((metadata.clone(), vec!["delete"]));
            }
        }
    }
    Ok(granted)
}

/// The token endpoints the launcher calls on its own token, with why. Vault's `default` policy
/// grants them too; a token created without it (`-no-default-policy`) needs them here.
fn token_paths(
    purpose: Purpose,
    config: &Config,
    dynamic_leases: bool,
) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut paths = Vec::new();
    if dynamic_leases && purpose == Purpose::Watch {
        paths.push((
            "sys/leases/renew",
            "update",
            "the watcher renews its dynamic secrets' leases at two thirds of their duration",
        ));
        paths.push((
            "sys/leases/revoke",
            "update",
            "and revokes them when it exits (check revokes the leases it read, too)",
        ));
    }
    if purpose == Purpose::Watch {
        paths.push((
            "auth/token/lookup-self",
            "read",
            "the watcher looks up a VAULT_TOKEN's remaining TTL",
        ));
        paths.push((
            "auth/token/renew-self",
            "update",
            "and renews it once half its TTL is gone",
        ));
    }
    if purpose == Purpose::Watch || config.vault.revoke_token {
        paths.push((
            "auth/token/revoke-self",
            "update",
            "a token obtained by login is revoked after use (--revoke-token, and each watcher poll)",
        ));
    }
    paths
}

/// Why `path` cannot be granted alone: Vault reads `*` at the end and a `+` segment as globs.
fn not_exact(path: &str) -> Option<String> {
    if path.ends_with('*') || path.split('/').any(|segment| segment == "+") {
        return Some(format!(
            "\"{}\" reads as a wildcard in a Vault policy (a trailing \"*\" or a \"+\" segment)",
            escaped(path)
        ));
    }
    None
}

fn ordered(capabilities: &BTreeSet<&'static str>) -> Vec<&'static str> {
    ORDER
        .iter()
        .copied()
        .filter(|capability| capabilities.contains(capability))
        .collect()
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\\\""))
}

fn hcl(
    paths: &BTreeMap<String, Path>,
    token_paths: &[(&str, &str, &str)],
    purpose: Purpose,
    config: &Config,
) -> String {
    let mut out = format!(
        "# Least privilege for `cronos-secrets {}`: exactly the secrets this deployment references.\n",
        purpose.command()
    );
    if config.vault.kv_version != Some(1) {
        out.push_str("# KV version 2 paths (set vault_kv_version: 1 for a v1 mount). The KV-mount lookup\n# (sys/internal/ui/mounts/MOUNT) needs no grant: Vault answers it for a token holding any\n# capability in the mount.\n");
    }
    if let Some(namespace) = &config.vault.namespace {
        out.push_str(&format!(
            "# Write it in namespace {}: its paths are relative to that namespace.\n",
            escaped(namespace)
        ));
    }
    for (api_path, path) in paths {
        out.push_str(&format!(
            "\n# {}\npath {} {{\n  capabilities = [{}]\n}}\n",
            needed_by(&path.needed_by),
            quoted(api_path),
            ordered(&path.capabilities)
                .iter()
                .map(|capability| quoted(capability))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for (api_path, capability, why) in token_paths {
        out.push_str(&format!(
            "\n# {why}\npath {} {{\n  capabilities = [{}]\n}}\n",
            quoted(api_path),
            quoted(capability)
        ));
    }
    out
}

/// Vault's JSON policy syntax (`bao policy write NAME policy.json`).
fn json_policy(paths: &BTreeMap<String, Path>, token_paths: &[(&str, &str, &str)]) -> String {
    let mut map = Map::new();
    for (api_path, path) in paths {
        map.insert(
            api_path.clone(),
            json!({ "capabilities": ordered(&path.capabilities) }),
        );
    }
    for (api_path, capability, _) in token_paths {
        map.insert(
            (*api_path).to_string(),
            json!({ "capabilities": [capability] }),
        );
    }
    let policy = json!({ "path": Value::Object(map) });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&policy).expect("a policy serializes")
    )
}

#[cfg(test)]
mod tests {
    use super::not_exact;

    #[test]
    fn a_path_vault_would_read_as_a_glob_is_refused() {
        assert!(not_exact("secret/app/db*").is_some());
        assert!(not_exact("secret/+/db").is_some());
        assert_eq!(not_exact("secret/app/db+x/a*b"), None);
    }
}
