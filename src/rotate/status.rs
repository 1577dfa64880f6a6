//! `rotate --status` and `--dry-run`: where each selected secret stands against its schedule,
//! from the backend's own metadata (KV v2 `created_time` of the current version, the AWS
//! version's `CreatedDate`, Key Vault's `attributes.created`), and what a rotation would do.
//! Both only read.

use std::time::SystemTime;

use serde::Serialize;

use super::select::{self, Rotation, Schedule};
use super::slot_check::well_formed_id;
use crate::backend::{Backend, Source, utc};
use crate::duration::format_duration;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::schema::{Previous, RequiredSecret};
use crate::stdout::outln;
use crate::table;
use crate::untrusted_text::escaped;

/// How `rotate --status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
    /// Node exporter's textfile-collector format (see docs/monitoring.md)
    Prometheus,
}

/// One row of the status table.
#[derive(Debug, Serialize)]
pub struct Row {
    pub name: String,
    pub backend: String,
    pub version: String,
    pub last_rotated: String,
    pub due: String,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Row {
    /// States that fail `--status` (exit 1): something to do now.
    pub fn needs_attention(&self) -> bool {
        matches!(self.state, "overdue" | "pending" | "error" | "unknown")
    }
}

/// What one secret looks like now, read once for status and plans.
pub struct Observed<'a> {
    pub secret: &'a RequiredSecret,
    pub reference: Reference,
    pub version: Option<String>,
    pub schedule: Schedule,
    /// The pending slot's rotation id, if a rotation is unfinished.
    pub pending: Option<String>,
    /// Why the secret could not be read (or has no dates).
    pub problem: Option<String>,
}

pub fn row(observed: &Observed, source: Source, now: SystemTime) -> Row {
    let schedule = observed.schedule;
    let (state, detail) = if let Some(problem) = &observed.problem {
        ("error", Some(problem.clone()))
    } else if let Some(id) = &observed.pending {
        ("pending", Some(pending_detail(id)))
    } else if schedule.every.is_none() {
        ("unscheduled", None)
    } else if schedule.updated.is_none() {
        (
            "unknown",
            Some(format!("the {source} backend reports no date for it")),
        )
    } else if schedule.overdue(now) {
        ("overdue", None)
    } else {
        ("ok", None)
    };
    Row {
        name: observed.secret.name.clone(),
        backend: source.to_string(),
        version: observed.version.clone().unwrap_or_else(|| "-".into()),
        last_rotated: schedule.updated.map(utc).unwrap_or_else(|| "-".into()),
        due: schedule.due().map(utc).unwrap_or_else(|| "-".into()),
        state,
        detail,
    }
}

/// The slot's rotation id is backend-supplied text: escaped, and one this tool never makes is
/// called malformed rather than offered to `--resume`.
fn pending_detail(id: &str) -> String {
    let shown = escaped(id);
    if well_formed_id(id) {
        format!("unfinished rotation {shown}: rotate --resume or --abort")
    } else {
        format!(
            "a pending slot with a malformed rotation id ({shown}), not written by cronos-secrets: inspect it, then rotate --abort"
        )
    }
}

pub fn print_table(rows: &[Row]) {
    let headers = ["NAME", "BACKEND", "VERSION", "LAST ROTATED", "DUE", "STATE"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            let mut version = row.version.clone();
            // AWS and Key Vault version ids are 32+ characters: enough to tell them apart.
            if version.len() > 12 {
                version.truncate(12);
                version.push('…');
            }
            [
                row.name.clone(),
                row.backend.clone(),
                version,
                row.last_rotated.clone(),
                row.due.clone(),
                row.state.to_string(),
            ]
        })
        .collect();
    let (header, lines) = table::lines(headers, &cells);
    outln!("{header}");
    for (line, row) in lines.iter().zip(rows) {
        outln!("{line}");
        if let Some(detail) = &row.detail {
            outln!("  {}: {detail}", row.name);
        }
    }
}

/// The `--dry-run` plan of one secret: printed, nothing changed. Returns what would stop the
/// real run for this secret (a refusal or a failure), with what to do about it.
pub fn print_plan(
    observed: &Observed,
    backend: &dyn Backend,
    pending_location: Option<String>,
    rotation: Rotation,
    system: Option<&str>,
    now: SystemTime,
) -> Option<Problem> {
    let secret = observed.secret;
    let schedule = observed.schedule;
    outln!("{} ({})", secret.name, secret.description);
    let location = backend.location(&observed.reference);
    outln!("  backend:   {}", backend.source().with_location(&location));
    outln!(
        "  current:   version {}{}",
        observed.version.as_deref().unwrap_or("-"),
        match schedule.updated {
            Some(updated) => format!(
                ", set {} ({} ago)",
                utc(updated),
                age(now.duration_since(updated).unwrap_or_default())
            ),
            None => String::new(),
        }
    );
    let due = match (schedule.every, schedule.due()) {
        (Some(every), Some(due)) => format!(
            "{} (every {}){}",
            utc(due),
            format_duration(every),
            if schedule.overdue(now) {
                ", overdue"
            } else {
                ""
            }
        ),
        (Some(every), None) => format!("unknown (every {})", format_duration(every)),
        (None, _) => "no schedule (rotate_every is not set)".to_string(),
    };
    outln!("  due:       {due}");
    if let Some(problem) = &observed.problem {
        outln!("  would fail: {problem}");
        return Some(Problem::new(&secret.name, problem.clone()));
    }
    match (rotation, pending_location) {
        (Rotation::Refused { why, hint }, _) => {
            outln!("  would refuse: {} {why}", secret.name);
            Some(select::refusal(secret, &why, hint))
        }
        (_, None) => {
            outln!(
                "  would refuse: the {} backend has no pending slot to rotate through",
                backend.source()
            );
            Some(select::no_pending_slot(backend.source()))
        }
        (Rotation::Key { length } | Rotation::Password { length, .. }, Some(pending)) => {
            if let Some(id) = &observed.pending {
                outln!(
                    "  would refuse: an unfinished rotation ({}) holds {pending}; use --resume or --abort",
                    escaped(id)
                );
                return Some(
                    Problem::new(
                        &secret.name,
                        format!("an unfinished rotation ({}) holds {pending}", escaped(id)),
                    )
                    .with_hint("finish it with rotate --resume, or drop it with rotate --abort"),
                );
            }
            let external = match system {
                Some(system) => {
                    format!("set and test (in {system}, after probing which password it accepts)")
                }
                None => "set and test (nothing: no external system)".to_string(),
            };
            outln!(
                "  steps:     create (a {length}-character URL-safe value in {pending}), {external}, promote (check-and-set against version {}), finish (remove the pending slot)",
                observed.version.as_deref().unwrap_or("-")
            );
            outln!("  previous:  {}", previous_kept(secret, backend.source()));
            None
        }
    }
}

/// Where the value being replaced goes, and whether launches get it.
fn previous_kept(secret: &RequiredSecret, source: Source) -> String {
    let slot = match (source, secret.previous) {
        (_, Previous::Never) => {
            return "not kept in a previous slot (launches get only the new value)".to_string();
        }
        (Source::AwsSecretsManager, _) => "staged AWSPREVIOUS",
        (Source::Vault, _) => "the secret's field \"previous\", in the same write",
        (Source::AzureKeyVault, _) => "the sibling secret NAME-previous",
        _ => "nowhere",
    };
    let until = match secret.previous {
        Previous::For(grace) => format!("for {} after the rotation", format_duration(grace)),
        _ => "until rotate --retire".to_string(),
    };
    format!(
        "kept in {slot}; launches get it as {}_PREVIOUS {until}",
        secret.env
    )
}

/// `3d 4h`, `5m 2s`: an age to the nearest second, two units.
fn age(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, _) => format!("{minutes}m {}s", seconds % 60),
        (0, _, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::schema::cronos_ai_defaults;

    #[test]
    fn states_from_schedule_slot_and_problems() {
        let table = cronos_ai_defaults();
        let day = Duration::from_secs(86_400);
        let now = SystemTime::UNIX_EPOCH + 1000 * day;
        let observed =
            |age_days: Option<u32>, pending: Option<&str>, problem: Option<&str>| Observed {
                secret: &table[2],
                reference: Reference::named_secret("jwt_secret"),
                version: Some("3".into()),
                schedule: Schedule {
                    updated: age_days.map(|age| now - day * age),
                    every: Some(180 * day),
                },
                pending: pending.map(str::to_string),
                problem: problem.map(str::to_string),
            };
        let state = |seen: Observed| row(&seen, Source::Vault, now).state;
        assert_eq!(state(observed(Some(10), None, None)), "ok");
        assert_eq!(state(observed(Some(180), None, None)), "overdue");
        assert_eq!(state(observed(Some(10), Some("ab12"), None)), "pending");
        // A forged id cannot start a line of its own, and is called malformed.
        let forged = row(
            &observed(Some(10), Some("ab\n\u{1b}[1;32mjwt ok"), None),
            Source::Vault,
            now,
        );
        let detail = forged.detail.unwrap();
        assert!(
            !detail.contains('\n') && !detail.contains('\u{1b}'),
            "{detail}"
        );
        assert!(detail.contains("malformed rotation id"), "{detail}");
        assert_eq!(state(observed(None, None, None)), "unknown");
        assert_eq!(state(observed(Some(10), None, Some("denied"))), "error");
        let ok = row(&observed(Some(10), None, None), Source::Vault, now);
        assert!(!ok.needs_attention());
        assert_eq!(ok.due, utc(now + 170 * day));
        assert!(row(&observed(Some(200), None, None), Source::Vault, now).needs_attention());
    }

    #[test]
    fn ages_read_as_two_units() {
        assert_eq!(age(Duration::from_secs(42)), "42s");
        assert_eq!(age(Duration::from_secs(3 * 60 + 5)), "3m 5s");
        assert_eq!(age(Duration::from_secs(2 * 3600 + 60)), "2h 1m");
        assert_eq!(age(Duration::from_secs(3 * 86_400 + 4 * 3600)), "3d 4h");
    }
}
