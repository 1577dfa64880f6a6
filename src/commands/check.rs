//! `check`: resolve and validate without starting anything. Never prints a value.

use std::time::SystemTime;

use serde::Serialize;

use crate::backend::{self, Source};
use crate::cli::{CheckArgs, CheckFormat};
use crate::duration::rough_age;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings, Prepared};
use crate::plan::{Plan, PlannedVar};
use crate::reference::Scheme;
use crate::rotate;
use crate::stdout::outln;
use crate::supervise::LeaseKeeper;
use crate::table;
use crate::validate::Severity;

#[derive(Debug, Serialize)]
struct Row {
    variable: String,
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
    /// A dynamic secret's lease: its duration and whether it can be renewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    lease: Option<LeaseRow>,
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
}

#[derive(Debug, Serialize)]
struct LeaseRow {
    duration_s: u64,
    renewable: bool,
}

pub fn check(settings: &LaunchSettings, env: Environment, args: &CheckArgs) -> Result<i32, Error> {
    let prepared = launch::prepare(settings, env, &super::working_dir()?)?;
    let (rows, healthy) = if args.plan {
        plan_rows(&prepared, settings)?
    } else {
        checked_rows(&prepared, settings)?
    };
    match args.format {
        CheckFormat::Table => print_table(&rows),
        CheckFormat::Json => {
            let json = serde_json::to_string_pretty(&rows).expect("rows serialize");
            outln!("{json}");
        }
    }
    Ok(if healthy { 0 } else { 1 })
}

/// `--plan`: what would be read from where, fetching nothing. What needs no fetch is checked
/// as `check` checks it, hints included: values written in the env files and the launcher's
/// environment (`env://`, and `secret://` on the env backend), and the secrets no source
/// provides. `file://` and servers are only planned. A previous value (`<ENV>_PREVIOUS`) is
/// read only when the current version says a rotation kept one, which only a fetch can tell:
/// it is left out.
fn plan_rows(prepared: &Prepared, settings: &LaunchSettings) -> Result<(Vec<Row>, bool), Error> {
    let config = &prepared.config;
    let (local, fetched): (Vec<PlannedVar>, Vec<PlannedVar>) = prepared
        .plan
        .vars
        .iter()
        .filter(|var| var.previous_of.is_none())
        .cloned()
        .partition(|var| {
            var.references()
                .all(|reference| Source::of(reference, config.backend) == Source::Env)
        });
    let local = Prepared {
        config: config.clone(),
        plan: Plan {
            vars: local,
            ..prepared.plan.clone()
        },
        env: prepared.env.clone(),
    };
    let (mut rows, healthy) = checked_rows(&local, settings)?;
    rows.extend(fetched.iter().map(|var| {
        let mut source = var.origin.to_string();
        for reference in var.references() {
            let backend = Source::of(reference, config.backend);
            let location = backend.layout().planned_location(reference, config);
            source.push_str(&format!(" -> {}", backend.with_location(&location)));
        }
        Row {
            variable: var.name.clone(),
            source,
            length: None,
            version: None,
            age: None,
            expires: None,
            lease: None,
            status: "planned",
            problems: dynamic_notes(var),
        }
    }));
    // Variables by name, then the secrets no source provides, as plain `check` lists them.
    rows.sort_by(|a, b| {
        (a.status == "missing", &a.variable).cmp(&(b.status == "missing", &b.variable))
    });
    Ok((rows, healthy))
}

fn checked_rows(prepared: &Prepared, settings: &LaunchSettings) -> Result<(Vec<Row>, bool), Error> {
    let outcome = launch::resolve_and_validate(prepared, settings)?;
    // Nobody uses the credentials of a dynamic secret `check` read: revoked at once, rather
    // than left as a database user for the lease's TTL.
    let mut leases = LeaseKeeper::new(prepared, settings);
    leases.adopt(&outcome.fetched);
    leases.release();
    let mut rows = Vec::new();
    for var in &outcome.resolved {
        let findings: Vec<_> = outcome
            .findings
            .iter()
            .filter(|finding| finding.variable == var.planned.name)
            .collect();
        let worst = findings.iter().map(|finding| finding.severity).max();
        let mut source = var.planned.origin.to_string();
        for read in &var.reads {
            source.push_str(&format!(
                " -> {}",
                read.source.with_location(&read.location)
            ));
            if let Some(lease) = &read.metadata.lease {
                source.push_str(&format!(" ({})", lease.describe()));
            }
        }
        let lease = var
            .reads
            .iter()
            .find_map(|read| read.metadata.lease.as_ref());
        let metadata = var
            .reads
            .iter()
            .find(|read| read.metadata.version.is_some() || read.metadata.updated.is_some());
        let secret = var
            .planned
            .secret
            .map(|index| &prepared.config.secrets[index]);
        let updated = metadata.and_then(|read| read.metadata.updated);
        let overdue = secret.and_then(|secret| rotate::overdue_warning(secret, updated));
        let status = match (worst, &overdue) {
            (None, None) => "ok",
            (None | Some(Severity::Warning), _) => "warning",
            (Some(Severity::Error), _) => "error",
        };
        let mut problems: Vec<String> = findings
            .iter()
            .map(|finding| finding.problem.to_string())
            .collect();
        problems.extend(overdue);
        rows.push(Row {
            variable: var.planned.name.clone(),
            source,
            length: var.value.as_ref().ok().map(|value| value.char_len()),
            version: metadata.and_then(|read| read.metadata.version.clone()),
            age: metadata.and_then(|read| read.metadata.updated).map(age),
            expires: var
                .reads
                .iter()
                .find_map(|read| read.metadata.expires)
                .map(backend::utc),
            lease: lease.map(|lease| LeaseRow {
                duration_s: lease.duration.as_secs(),
                renewable: lease.renewable,
            }),
            status,
            problems,
        });
    }
    let resolved_names: Vec<&str> = outcome
        .resolved
        .iter()
        .map(|var| var.planned.name.as_str())
        .collect();
    for finding in outcome
        .findings
        .iter()
        .filter(|finding| !resolved_names.contains(&finding.variable.as_str()))
    {
        rows.push(missing_row(
            &finding.variable,
            "no source".into(),
            vec![finding.problem.to_string()],
        ));
    }
    let healthy = outcome.errors().next().is_none();
    Ok((rows, healthy))
}

fn missing_row(variable: &str, source: String, problems: Vec<String>) -> Row {
    Row {
        variable: variable.to_string(),
        source,
        length: None,
        version: None,
        age: None,
        expires: None,
        lease: None,
        status: "missing",
        problems,
    }
}

/// What `--plan` says of a dynamic secret instead of reading it: a read makes credentials.
fn dynamic_notes(var: &PlannedVar) -> Vec<String> {
    let mut names: Vec<&str> = var
        .references()
        .filter(|reference| reference.scheme == Scheme::VaultDynamic)
        .map(|reference| reference.target.as_str())
        .collect();
    names.dedup();
    names
        .into_iter()
        .map(|name| format!("not read: reading the dynamic secret {name} makes new credentials (the database engine creates a user, with a lease)"))
        .collect()
}

fn age(updated: SystemTime) -> String {
    rough_age(
        SystemTime::now()
            .duration_since(updated)
            .unwrap_or_default(),
    )
}

fn print_table(rows: &[Row]) {
    let headers = [
        "VARIABLE", "SOURCE", "LENGTH", "VERSION", "AGE", "EXPIRES", "STATUS",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|row| {
            [
                row.variable.clone(),
                row.source.clone(),
                row.length
                    .map(|length| length.to_string())
                    .unwrap_or_else(|| "-".into()),
                row.version.clone().unwrap_or_else(|| "-".into()),
                row.age.clone().unwrap_or_else(|| "-".into()),
                row.expires.clone().unwrap_or_else(|| "-".into()),
                row.status.to_string(),
            ]
        })
        .collect();
    let (header, lines) = table::lines(headers, &cells);
    outln!("{header}");
    for (row, line) in rows.iter().zip(lines) {
        outln!("{line}");
        for problem in &row.problems {
            outln!("    {}", problem.replace('\n', "\n    "));
        }
    }
}
