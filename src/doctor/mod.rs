//! `doctor`: the guide's production checklist, one row per item, each pass, fail (with the
//! fix) or unknown (with what would prove it). Every row is a fact read here, never a guess:
//! what this tool cannot see (a server's audit devices a token may not list, a file no config
//! names) is unknown. Each check reuses the command that owns the fact: `scan`, `check`'s
//! launch, `rotate --status`.

mod alerts;
mod audit;
mod backups;
mod code;
mod env_files;
mod hooks;
mod launch_check;
mod report;
mod rotation;
mod row;
mod runbook;
mod server;
mod tools;

use std::path::Path;
use std::time::SystemTime;

pub use report::{Format, write};
pub use row::{Row, Status};

use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::runtime::block_on;

/// The guide's checklist items, in its order, with the row name each gets.
pub const ITEMS: [(&str, &str); 10] = [
    ("code", "All secrets removed from code"),
    ("environment", "Environment variables configured"),
    ("manager", "Secrets manager configured (Vault/AWS/Azure)"),
    ("hooks", "Pre-commit hooks installed"),
    ("rotation", "Secrets rotation schedule established"),
    ("backup", "Backup of secrets stored securely"),
    ("access", "Access controls configured"),
    ("audit", "Audit logging enabled"),
    ("alerts", "Monitoring alerts configured"),
    ("recovery", "Disaster recovery plan documented"),
];

/// What doctor looks at: the launch as `run` would make it, in `cwd`.
pub struct Request<'a> {
    pub settings: &'a LaunchSettings,
    pub env: Environment,
    pub cwd: &'a Path,
    /// The `--audit-log` doctor itself was given, when the config names none.
    pub audit_log: Option<&'a Path>,
}

/// Every row, in the guide's order. Fails only when the config cannot be read: each check
/// needs it, and its error names the file, line and key.
pub fn examine(request: Request) -> Result<Vec<Row>, Error> {
    let Request {
        settings,
        env,
        cwd,
        audit_log,
    } = request;
    let config = launch::load_config(settings, &env)?;
    let checked = launch_check::check(settings, env.clone(), cwd);
    let answers = block_on(server::ask(&config, &env, settings.timeout))?;
    let now = SystemTime::now();
    let parts = [
        code::parts(&config, cwd),
        checked.environment(),
        checked.manager(&config),
        hooks::parts(cwd),
        rotation::parts(&config, &answers.schedule),
        backups::parts(&config.checklist, cwd, now),
        env_files::parts(&config, &settings.env_files, &env, cwd),
        audit::parts(&config, audit_log, cwd, &answers.audit_devices),
        alerts::parts(&config.checklist, cwd),
        runbook::parts(&config.checklist, cwd),
    ];
    Ok(ITEMS
        .iter()
        .zip(parts)
        .map(|((check, item), parts)| Row::new(item, check, parts))
        .collect())
}

/// Whether the rows pass: no failure, and with `strict` nothing unknown either.
pub fn passed(rows: &[Row], strict: bool) -> bool {
    rows.iter().all(|row| match row.status {
        Status::Pass => true,
        Status::Unknown => !strict,
        Status::Fail => false,
    })
}
