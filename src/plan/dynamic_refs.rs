//! `vault-dynamic://NAME#FIELD` references must name a secret the config declares under
//! `dynamic:` and one of its fields: a dynamic read creates something (a database user), so
//! what may be read is the config's to say, never an env file's or an inherited value's.

use super::{Origin, PlannedVar};
use crate::config::Config;
use crate::problem::Problem;
use crate::reference::Scheme;
use crate::suggest::nearest;

/// One problem per reference that names an undeclared secret or field.
pub(super) fn refuse_undeclared<'a>(
    vars: impl Iterator<Item = &'a PlannedVar>,
    config: &Config,
    problems: &mut Vec<Problem>,
) {
    for var in vars {
        for reference in var.references() {
            if reference.scheme != Scheme::VaultDynamic {
                continue;
            }
            let location = match &var.origin {
                Origin::EnvFile { path, line } => {
                    format!("{}:{line}: {}", path.display(), var.name)
                }
                Origin::Process => format!("environment variable {}", var.name),
                Origin::Backend => var.name.clone(),
            };
            let name = reference.target.as_str();
            let Some(declared) = config.dynamic_secret(name) else {
                let names: Vec<&str> = config
                    .dynamic
                    .iter()
                    .map(|secret| secret.name.as_str())
                    .collect();
                let hint = match nearest(name, &names) {
                    Some(near) => format!(
                        "did you mean vault-dynamic://{near}? Otherwise declare it under dynamic: in the config (path: database/creds/ROLE)"
                    ),
                    None => format!(
                        "declare {name} under dynamic: in the config, with the Vault path that makes it (path: database/creds/ROLE)"
                    ),
                };
                problems.push(
                    Problem::new(
                        location,
                        format!("{reference} names the dynamic secret \"{name}\", which the config does not declare; only declared dynamic secrets are read"),
                    )
                    .with_hint(hint),
                );
                continue;
            };
            let field = reference.key.as_deref().unwrap_or_default();
            if !declared.fields.iter().any(|known| known == field) {
                problems.push(
                    Problem::new(
                        location,
                        format!("{reference}: the dynamic secret \"{name}\" declares no field \"{field}\""),
                    )
                    .with_hint(format!("its fields are {}; add the field to dynamic.{name}.fields if the engine returns it", declared.fields.join(", "))),
                );
            }
        }
    }
}
