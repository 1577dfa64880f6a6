//! The config document being read: its text, where it came from, and which keys a
//! `CRONOS_SECRETS_*` variable set, so that every error names the file and line, or the
//! variable.

use std::collections::BTreeMap;

use serde_yaml_ng::Mapping;

use super::{ConfigError, ConfigOrigin};
use crate::env_vars::Environment;
use crate::suggest::nearest;

pub(super) struct Document<'a> {
    pub(super) origin: &'a ConfigOrigin,
    pub(super) text: &'a str,
    pub(super) env: &'a Environment,
    /// Key paths set by a `CRONOS_SECRETS_*` variable, so errors name the variable.
    pub(super) overridden: BTreeMap<Vec<String>, String>,
}

impl Document<'_> {
    pub(super) fn check_keys(
        &self,
        map: &Mapping,
        path: &[&str],
        known: &[&str],
    ) -> Result<(), ConfigError> {
        for key in map.keys() {
            let Some(key) = key.as_str() else {
                return Err(self.error(path, "keys must be strings", None));
            };
            if !known.contains(&key) {
                let hint = match nearest(key, known) {
                    Some(candidate) => format!("did you mean \"{candidate}\"?"),
                    None => format!("valid keys: {}", known.join(", ")),
                };
                let mut full: Vec<&str> = path.to_vec();
                full.push(key);
                return Err(self.error(&full, &format!("unknown key \"{key}\""), Some(hint)));
            }
        }
        Ok(())
    }

    pub(super) fn file_name(&self) -> String {
        match self.origin {
            ConfigOrigin::BuiltIn => "built-in config".to_string(),
            ConfigOrigin::File(path) => path.display().to_string(),
            ConfigOrigin::Given(label) => label.clone(),
        }
    }

    /// `file:line: a.b.c` for a key in the file, or the `CRONOS_SECRETS_*` variable that set it.
    fn location(&self, path: &[&str]) -> String {
        let owned: Vec<String> = path.iter().map(|key| key.to_string()).collect();
        if let Some(variable) = self.overridden.get(&owned) {
            return variable.clone();
        }
        let dotted = path.join(".");
        let line = match self.origin {
            ConfigOrigin::Given(_) => None,
            _ => line_of(self.text, path),
        };
        match line {
            Some(line) => format!("{}:{line}: {dotted}", self.file_name()),
            None if dotted.is_empty() => self.file_name(),
            None => format!("{}: {dotted}", self.file_name()),
        }
    }

    pub(super) fn error(&self, path: &[&str], message: &str, hint: Option<String>) -> ConfigError {
        ConfigError {
            location: self.location(path),
            message: message.to_string(),
            hint,
        }
    }
}

/// The 1-based line of a nested key, found by reading the YAML text as indented `key:` lines.
/// Good enough for messages; the YAML parser has already accepted the document.
fn line_of(text: &str, path: &[&str]) -> Option<usize> {
    let mut start = 0;
    let mut parent_indent: Option<usize> = None;
    let lines: Vec<&str> = text.lines().collect();
    let mut found = None;
    for key in path {
        let position = lines.iter().enumerate().skip(start).find(|(_, line)| {
            let indent = line.len() - line.trim_start().len();
            let body = line.trim_start();
            let body = body.strip_prefix(['"', '\'']).unwrap_or(body);
            parent_indent.is_none_or(|parent| indent > parent)
                && body.strip_prefix(key).is_some_and(|rest| {
                    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
                    rest.trim_start().starts_with(':')
                })
        })?;
        let (index, line) = position;
        parent_indent = Some(line.len() - line.trim_start().len());
        start = index + 1;
        found = Some(index + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_of_nested_keys() {
        let text = "database:\n  backend: x\nsecrets_manager:\n  enabled: true\n  backend: vault\n";
        assert_eq!(line_of(text, &["secrets_manager", "backend"]), Some(5));
        assert_eq!(line_of(text, &["secrets_manager"]), Some(3));
        assert_eq!(line_of(text, &["nope"]), None);
    }
}
