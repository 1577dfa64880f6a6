//! "Monitoring alerts configured": the Prometheus rules file named in `checklist.alert_rules`
//! exists and `promtool check rules` accepts it. Without promtool only its shape can be
//! checked, which does not prove the expressions parse: that is unknown, not a pass.

use std::path::Path;

use serde_yaml_ng::Value;

use super::row::Part;
use super::tools::{self, Ran};
use crate::bounded;
use crate::config::ChecklistSettings;
use crate::untrusted_text::escaped;

pub fn parts(settings: &ChecklistSettings, cwd: &Path) -> Vec<Part> {
    let Some(path) = &settings.alert_rules else {
        return vec![Part::unknown(
            "no alert-rules file is configured",
            "name the Prometheus rules file in the config (checklist: alert_rules: monitoring/cronos-secrets.rules.yml; examples/monitoring/ has rules to start from)",
        )];
    };
    let path = cwd.join(path);
    let shown = tools::shown(&path, cwd);
    let text = match bounded::read_input_file(&path, bounded::INPUT_FILE_LIMIT) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) => {
            return vec![Part::fail(
                format!("{shown}: cannot read it: {error}"),
                "write the alert rules there (examples/monitoring/ has rules for overdue and pending rotations and a stalled watcher), or correct checklist.alert_rules",
            )];
        }
    };
    let rules = match shape(&text) {
        Ok(rules) => rules,
        Err(why) => {
            return vec![Part::fail(
                format!("{shown}: {why}"),
                "write it as Prometheus reads rules: groups: - name: …, rules: - alert: …, expr: …",
            )];
        }
    };
    let path_arg = path.to_string_lossy();
    match tools::run("promtool", &["check", "rules", &path_arg], cwd) {
        Ran::Done(output) if output.status.success() => vec![Part::pass(format!(
            "{shown}: {rules} alert(s); promtool check rules accepts it"
        ))],
        Ran::Done(output) => vec![Part::fail(
            format!(
                "{shown}: promtool check rules refuses it: {}",
                tools::first_lines(&output)
            ),
            "fix what promtool check rules names",
        )],
        Ran::Missing => vec![Part::unknown(
            format!(
                "{shown}: {rules} alert(s), well formed; promtool is not on PATH, so the expressions were not checked"
            ),
            "install promtool (Debian: apt-get install prometheus) and run doctor again",
        )],
        Ran::NotRun(error) => vec![Part::unknown(
            format!("{shown}: promtool could not run: {error}"),
            "promtool check rules FILE",
        )],
    }
}

/// The number of alerting rules in a rules file of Prometheus's shape, or what is wrong.
fn shape(text: &str) -> Result<usize, String> {
    let document: Value = serde_yaml_ng::from_str(text)
        .map_err(|error| format!("not valid YAML: {}", escaped(&error.to_string())))?;
    let groups = document
        .get("groups")
        .and_then(Value::as_sequence)
        .ok_or("no groups: list")?;
    let mut alerts = 0;
    for (index, group) in groups.iter().enumerate() {
        let rules = group
            .get("rules")
            .and_then(Value::as_sequence)
            .ok_or(format!("group {}: no rules: list", index + 1))?;
        for rule in rules {
            if rule.get("expr").is_none() {
                return Err(format!("group {}: a rule without expr:", index + 1));
            }
            alerts += usize::from(rule.get("alert").is_some());
        }
    }
    if alerts == 0 {
        return Err("no alerting rule (alert: …)".to_string());
    }
    Ok(alerts)
}
