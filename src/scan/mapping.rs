//! Where an assignment sits in YAML or JSON: the `name` beside a `value` (env lists, task
//! definitions), which is what the value is assigned to, and the key of the enclosing mapping,
//! which says what a generic key holds (`jwt:` then `secret: …`).

use std::sync::LazyLock;

use regex::Regex;

use super::assignment::Assignment;
use super::kind::FileKind;
use super::position::LineIndex;
use super::yaml_anchors;

/// A line that opens a mapping: `jwt:`, `"jwt": {`, `- jwt:` (a comment or anchor may follow).
static MAPPING_OPENER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^[ \t]*(?:-[ \t]+)?["']?(?P<key>[A-Za-z_][\w.\-]*)["']?[ \t]*:[ \t]*(?:&\S+[ \t]*)?[{\[]?[ \t]*(?:#.*)?$"#,
    )
    .expect("mapping opener pattern")
});

/// A file's assignments in their structure: YAML aliases resolved, each `value` assigned to
/// the `name` beside it, and each enclosing key noted (YAML and JSON; other kinds as read).
pub fn in_context(
    kind: FileKind,
    found: Vec<Assignment>,
    text: &str,
    lines: &LineIndex<'_>,
) -> Vec<Assignment> {
    match kind {
        FileKind::Yaml => {
            let found = yaml_anchors::resolve(found, text, lines);
            with_parents(pair_names_with_values(found, lines), lines)
        }
        FileKind::Json => with_parents(pair_names_with_values(found, lines), lines),
        _ => found,
    }
}

/// Env lists: `- name: DB_PASSWORD` and `value: …` (Kubernetes, compose; `Name`/`Value` in
/// CloudFormation), `{"name": "DB_PASSWORD", "value": …}` (ECS task definitions): the value
/// is assigned to the name beside it, on its line or at its column within three lines, before
/// or after it.
fn pair_names_with_values(mut found: Vec<Assignment>, lines: &LineIndex<'_>) -> Vec<Assignment> {
    let is = |assignment: &Assignment, word: &str| assignment.key.eq_ignore_ascii_case(word);
    for index in 0..found.len() {
        if !is(&found[index], "value") {
            continue;
        }
        let (value_line, value_column) = lines.position(found[index].key_start);
        let value_start = found[index].key_start;
        // Same line first (nearest by offset), then the same column (nearest by line).
        let name = found
            .iter()
            .filter(|other| is(other, "name"))
            .filter_map(|other| {
                let (line, column) = lines.position(other.key_start);
                let distance = line.abs_diff(value_line);
                if distance == 0 {
                    Some((0, other.key_start.abs_diff(value_start), other))
                } else if column == value_column && distance <= 3 {
                    Some((1, distance, other))
                } else {
                    None
                }
            })
            .min_by_key(|(rank, distance, _)| (*rank, *distance))
            .map(|(_, _, name)| name.value.clone());
        if let Some(name) = name {
            found[index].key = name;
        }
    }
    found
}

/// Sets each assignment's enclosing mapping key: the nearest line above that opens a mapping
/// and is indented less than the key's line.
fn with_parents(mut found: Vec<Assignment>, lines: &LineIndex<'_>) -> Vec<Assignment> {
    let indent = |text: &str| text.len() - text.trim_start_matches([' ', '\t', '-']).len();
    for assignment in &mut found {
        let line = lines.line_of(assignment.key_start);
        let own = indent(lines.line_text(line));
        assignment.parent = (line.saturating_sub(200).max(1)..line)
            .rev()
            .map(|above| lines.line_text(above))
            .filter(|text| !text.trim().is_empty() && indent(text) < own)
            .take(1)
            .find_map(|text| {
                MAPPING_OPENER
                    .captures(text)
                    .and_then(|captures| captures.name("key"))
                    .map(|key| key.as_str().to_string())
            });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::assignment::assignments;

    fn in_place(kind: FileKind, text: &str) -> Vec<(String, String, Option<String>)> {
        let lines = LineIndex::new(text);
        let found = assignments(kind, text, &lines, &Regex::new(".").unwrap());
        in_context(kind, found, text, &lines)
            .into_iter()
            .map(|found| (found.key, found.value, found.parent))
            .collect()
    }

    fn row(key: &str, value: &str, parent: &str) -> (String, String, Option<String>) {
        (key.into(), value.into(), Some(parent.into()))
    }

    #[test]
    fn values_go_to_the_name_beside_them() {
        assert_eq!(
            in_place(
                FileKind::Yaml,
                "env:\n  - name: DB_PASSWORD\n    value: \"v\"\n"
            ),
            [
                row("name", "DB_PASSWORD", "env"),
                row("DB_PASSWORD", "v", "env")
            ]
        );
        assert_eq!(
            in_place(
                FileKind::Json,
                "{\n  \"env\": [\n    {\"value\": \"v\", \"name\": \"DB_PASSWORD\"}, {\"name\": \"A\", \"value\": \"w\"}\n]}\n"
            ),
            [
                row("DB_PASSWORD", "v", "env"),
                row("name", "DB_PASSWORD", "env"),
                row("name", "A", "env"),
                row("A", "w", "env")
            ]
        );
    }

    #[test]
    fn keys_know_their_mapping() {
        assert_eq!(
            in_place(FileKind::Yaml, "jwt:\n  # signing\n  secret: v\nkey: w\n"),
            [row("secret", "v", "jwt"), ("key".into(), "w".into(), None)]
        );
    }
}
