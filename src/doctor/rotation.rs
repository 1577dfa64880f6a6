//! "Secrets rotation schedule established": `rotate --status` for every secret of the table
//! (`rotate::status_rows`, the backend's own dates): each required secret has a `rotate_every`,
//! none is overdue, and no rotation is left unfinished.

use super::row::Part;
use crate::config::{BackendKind, Config};
use crate::rotate::StatusRow;

pub fn parts(config: &Config, status: &Result<Vec<StatusRow>, String>) -> Vec<Part> {
    if config.backend == BackendKind::Env {
        return vec![Part::unknown(
            "the env backend keeps no dates, so no secret's age is known",
            "store the secrets in a secrets manager (vault, aws_secrets_manager, azure_key_vault), whose versions carry dates; then cronos-secrets rotate --status",
        )];
    }
    let rows = match status {
        Ok(rows) => rows,
        Err(error) => {
            return vec![Part::unknown(
                format!("the schedule was not read: {error}"),
                "cronos-secrets rotate --status, once the backend answers (see the secrets manager row)",
            )];
        }
    };
    let optional = |name: &str| {
        config
            .secrets
            .iter()
            .any(|secret| secret.name == name && secret.optional)
    };
    let mut parts = Vec::new();
    for row in rows {
        let name = &row.name;
        let detail = row
            .detail
            .as_deref()
            .map(|detail| format!(": {detail}"))
            .unwrap_or_default();
        let part = match row.state {
            "ok" => Part::pass(format!("{name}: due {}", row.due)),
            "unscheduled" if optional(name) => {
                Part::pass(format!("{name}: optional, no rotate_every"))
            }
            "unscheduled" => Part::fail(
                format!("{name}: no rotation schedule"),
                "give each required secret a rotate_every in the config's secrets: table (docs/rotation.md)",
            ),
            "overdue" => Part::fail(
                format!(
                    "{name}: overdue since {} (last rotated {})",
                    row.due, row.last_rotated
                ),
                format!(
                    "cronos-secrets rotate {name} (rotate --status lists every secret's schedule)"
                ),
            ),
            "pending" => Part::fail(
                format!("{name}: rotation pending{detail}"),
                format!("cronos-secrets rotate --resume {name}, or --abort {name}"),
            ),
            // "unknown" (no date from the backend) and "error" (not read): nothing proven.
            _ => Part::unknown(
                format!("{name}: {}{detail}", row.state),
                "cronos-secrets rotate --status, with a login that may read each secret's metadata",
            ),
        };
        parts.push(part);
    }
    parts
}
