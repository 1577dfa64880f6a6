//! `rotate --status --format prometheus`: the status table as metrics for node exporter's
//! textfile collector, one series per secret labelled by name and backend. A metric whose
//! answer is not known (the metadata could not be read, the backend keeps no date) has no
//! sample for that secret, and `cronos_secrets_rotation_status_unknown` says so: a missing
//! fact never reads as "not overdue".

use std::time::SystemTime;

use super::status::{Observed, Row};
use crate::metrics::{self, Family};

/// The metrics of `observed` (each beside its status row) as of `now`.
pub fn render(observed: &[Observed], rows: &[Row], now: SystemTime) -> String {
    let mut age = Family::gauge(
        "cronos_secrets_rotation_age_seconds",
        "Age of the secret's current version when the status was taken (from the backend's metadata).",
    );
    let mut due = Family::gauge(
        "cronos_secrets_rotation_due_timestamp_seconds",
        "When the secret is due for rotation (current version's date plus rotate_every).",
    );
    let mut overdue = Family::gauge(
        "cronos_secrets_rotation_overdue",
        "1 when the secret is past its rotate_every, else 0.",
    );
    let mut pending = Family::gauge(
        "cronos_secrets_rotation_pending",
        "1 when an unfinished rotation holds the secret's pending slot (rotate --resume or --abort), else 0.",
    );
    let mut unknown = Family::gauge(
        "cronos_secrets_rotation_status_unknown",
        "1 when the secret's schedule could not be checked (its metadata could not be read, or the backend keeps no date), else 0.",
    );
    let mut taken = Family::gauge(
        "cronos_secrets_rotation_status_timestamp_seconds",
        "When rotate --status took this status.",
    );
    taken.sample(&[], metrics::unix_seconds(now));
    for (seen, row) in observed.iter().zip(rows) {
        let labels = [
            ("name", row.name.as_str()),
            ("backend", row.backend.as_str()),
        ];
        let flag = |on: bool| if on { 1.0 } else { 0.0 };
        let state_unknown = matches!(row.state, "error" | "unknown");
        unknown.sample(&labels, flag(state_unknown));
        if row.state == "error" {
            continue;
        }
        pending.sample(&labels, flag(seen.pending.is_some()));
        let schedule = seen.schedule;
        if let Some(updated) = schedule.updated {
            let seconds = now.duration_since(updated).unwrap_or_default();
            age.sample(&labels, seconds.as_secs_f64().floor());
        }
        if let Some(when) = schedule.due() {
            due.sample(&labels, metrics::unix_seconds(when));
        }
        if schedule.every.is_none() || schedule.updated.is_some() {
            overdue.sample(&labels, flag(schedule.overdue(now)));
        }
    }
    metrics::render(&[age, due, overdue, pending, unknown, taken])
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::select::Schedule;
    use super::super::status::row;
    use super::*;
    use crate::backend::Source;
    use crate::reference::Reference;
    use crate::schema::cronos_ai_defaults;

    #[test]
    fn each_secret_has_the_samples_that_are_known() {
        let table = cronos_ai_defaults();
        let day = Duration::from_secs(86_400);
        let now = SystemTime::UNIX_EPOCH + 1000 * day;
        let seen = |index: usize, age_days: Option<u32>, pending: bool, problem: bool| Observed {
            secret: &table[index],
            reference: Reference::named_secret(&table[index].name),
            version: Some("3".into()),
            schedule: Schedule {
                updated: age_days.map(|age| now - day * age),
                every: Some(180 * day),
            },
            pending: pending.then(|| "ab12".to_string()),
            problem: problem.then(|| "denied".to_string()),
        };
        let observed = [
            seen(0, Some(200), false, false),
            seen(1, Some(10), true, false),
            seen(2, None, false, true),
        ];
        let rows: Vec<Row> = observed
            .iter()
            .map(|seen| row(seen, Source::Vault, now))
            .collect();
        let text = render(&observed, &rows, now);
        let (first, second, third) = (&table[0].name, &table[1].name, &table[2].name);
        let line = |metric: &str, name: &str, value: &str| {
            format!("{metric}{{name=\"{name}\",backend=\"vault\"}} {value}\n")
        };
        for expected in [
            line("cronos_secrets_rotation_age_seconds", first, "17280000"),
            line("cronos_secrets_rotation_overdue", first, "1"),
            line("cronos_secrets_rotation_pending", first, "0"),
            line("cronos_secrets_rotation_pending", second, "1"),
            line("cronos_secrets_rotation_overdue", second, "0"),
            line("cronos_secrets_rotation_status_unknown", third, "1"),
            line("cronos_secrets_rotation_status_unknown", first, "0"),
            "cronos_secrets_rotation_status_timestamp_seconds 86400000\n".to_string(),
        ] {
            assert!(text.contains(&expected), "{expected} in\n{text}");
        }
        // What is not known about the unreadable secret is not written as a 0.
        let unknown_lines = text
            .lines()
            .filter(|line| line.contains(&format!("name=\"{third}\"")))
            .count();
        assert_eq!(unknown_lines, 1, "{text}");
    }
}
