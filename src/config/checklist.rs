//! `checklist:`: where `doctor` finds what the guide's production checklist asks for that the
//! rest of the config does not name: the backups, the alert rules, the recovery runbook and
//! the launcher's audit log. Relative paths are relative to the working directory (the
//! repository `doctor` runs in), like the env files.

use std::path::PathBuf;
use std::time::Duration;

use serde_yaml_ng::{Mapping, Value};

use super::ConfigError;
use super::document::Document;
use super::typed_mapping::TypedMapping;
use crate::duration::{BareUnit, parse_duration};

pub(crate) const CHECKLIST: &str = "checklist";
const KEYS: &[&str] = &[
    "backups",
    "max_backup_age",
    "alert_rules",
    "runbook",
    "audit_log",
];

/// A day's backups, plus slack for a nightly job that ran late.
const DEFAULT_MAX_BACKUP_AGE: Duration = Duration::from_secs(2 * 86_400);

#[derive(Debug, Clone)]
pub struct ChecklistSettings {
    /// The directory the `backup` command writes its age files to.
    pub backups: Option<PathBuf>,
    /// How old the newest backup may be.
    pub max_backup_age: Duration,
    /// A Prometheus rules file (the alerts on rotation and the watcher).
    pub alert_rules: Option<PathBuf>,
    /// The disaster-recovery runbook.
    pub runbook: Option<PathBuf>,
    /// The file the production launcher's `--audit-log` appends to.
    pub audit_log: Option<PathBuf>,
}

impl Default for ChecklistSettings {
    fn default() -> Self {
        ChecklistSettings {
            backups: None,
            max_backup_age: DEFAULT_MAX_BACKUP_AGE,
            alert_rules: None,
            runbook: None,
            audit_log: None,
        }
    }
}

/// A near miss of `checklist:` at the top level (`check_list:`, `checklists:`) is an error, as
/// one of the other sections' is (`reader`'s `check_top_level`): a typo must not make doctor
/// run without the paths it names.
pub(super) fn check_near_miss(document: &Document<'_>, root: &Mapping) -> Result<(), ConfigError> {
    for key in root.keys().filter_map(Value::as_str) {
        let normalized = key.to_ascii_lowercase().replace('-', "_");
        if key != CHECKLIST && strsim::damerau_levenshtein(&normalized, CHECKLIST) <= 2 {
            return Err(document.error(
                &[key],
                &format!("unknown top-level key \"{key}\""),
                Some(format!("did you mean \"{CHECKLIST}\"? (other top-level keys belong to the application and are ignored)")),
            ));
        }
    }
    Ok(())
}

pub(super) fn read(
    document: &Document<'_>,
    value: &Value,
) -> Result<ChecklistSettings, ConfigError> {
    let empty = Mapping::new();
    let map = match value {
        Value::Null => &empty,
        Value::Mapping(map) => map,
        _ => {
            return Err(document.error(
                &[CHECKLIST],
                "expected a mapping of settings",
                Some(
                    "checklist:\n    backups: /srv/cronos/backups\n    runbook: docs/runbook.md"
                        .into(),
                ),
            ));
        }
    };
    document.check_keys(map, &[CHECKLIST], KEYS)?;
    let path = [CHECKLIST];
    let settings = TypedMapping {
        document,
        map,
        path: &path,
    };
    let max_backup_age = match settings.string("max_backup_age")? {
        None => DEFAULT_MAX_BACKUP_AGE,
        Some(text) => parse_duration(&text, BareUnit::Days)
            .ok()
            .filter(|age| !age.is_zero())
            .ok_or_else(|| {
                settings.error(
                    "max_backup_age",
                    &format!("expected a duration, found \"{text}\""),
                    Some("like 26h, 2d or 1w (a bare number is days)".into()),
                )
            })?,
    };
    Ok(ChecklistSettings {
        backups: settings.path("backups")?,
        max_backup_age,
        alert_rules: settings.path("alert_rules")?,
        runbook: settings.path("runbook")?,
        audit_log: settings.path("audit_log")?,
    })
}
