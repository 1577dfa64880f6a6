//! YAML anchors and aliases: `&name value` defines a value once, `*name` uses it elsewhere, so
//! `password: *db_pw` assigns whatever `&db_pw` holds. An alias is judged by its anchor's
//! value, and the finding points at the anchor, where the literal is written.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::assignment::Assignment;
use super::position::LineIndex;

/// `key: &name value` or `- &name value`; the value is a scalar (a block or flow collection
/// after an anchor holds no single value).
static ANCHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:^|[:\-][ \t]+)&(?P<name>[^\s\[\]{},]+)[ \t]+(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s#\[{|>&*][^#\n]*?)[ \t]*(?:#.*)?$"#,
    )
    .expect("anchor pattern")
});

struct Anchored {
    value: String,
    start: usize,
    end: usize,
}

/// Replaces each `&name value` by its value and each `*name` by its anchor's value and place;
/// drops assignments whose value is an anchor or alias of a collection (no literal there).
pub fn resolve(found: Vec<Assignment>, text: &str, lines: &LineIndex<'_>) -> Vec<Assignment> {
    if !found
        .iter()
        .any(|assignment| assignment.value.starts_with(['&', '*']))
    {
        return found;
    }
    let anchors = anchors(text, lines);
    found
        .into_iter()
        .filter_map(|mut assignment| {
            let Some(name) = assignment
                .value
                .strip_prefix(['&', '*'])
                .map(|name| name.trim_end_matches(','))
            else {
                return Some(assignment);
            };
            let anchored = anchors.get(name)?;
            assignment.value = anchored.value.clone();
            assignment.start = anchored.start;
            assignment.end = anchored.end;
            Some(assignment)
        })
        .collect()
}

fn anchors(text: &str, lines: &LineIndex<'_>) -> HashMap<String, Anchored> {
    let mut anchors = HashMap::new();
    for line in lines.lines_of(memchr::memchr_iter(b'&', text.as_bytes())) {
        let (line_start, _) = lines.line_range(line);
        let Some(captures) = ANCHOR.captures(lines.line_text(line)) else {
            continue;
        };
        let (Some(name), Some(value)) = (captures.name("name"), captures.name("value")) else {
            continue;
        };
        let quoted = value.as_str().starts_with(['"', '\'']);
        let offset = usize::from(quoted);
        let inner = &value.as_str()[offset..value.as_str().len() - offset];
        let start = line_start + value.start() + offset;
        anchors.insert(
            name.as_str().to_string(),
            Anchored {
                value: inner.to_string(),
                start,
                end: start + inner.len(),
            },
        );
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignment(key: &str, value: &str) -> Assignment {
        Assignment {
            key: key.to_string(),
            value: value.to_string(),
            start: 0,
            end: 0,
            key_start: 0,
            parent: None,
        }
    }

    #[test]
    fn aliases_take_their_anchors_value_and_place() {
        let text = "shared:\n  db: &db_pw 'Xy7pQ2Lm'\n  opts: &opts\n    a: b\napp:\n  password: *db_pw\n  other: *opts\n";
        let lines = LineIndex::new(text);
        let resolved = resolve(
            vec![
                assignment("password", "*db_pw"),
                assignment("other", "*opts"),
                assignment("db", "&db_pw"),
            ],
            text,
            &lines,
        );
        let pairs: Vec<_> = resolved
            .iter()
            .map(|found| (found.key.as_str(), &text[found.start..found.end]))
            .collect();
        assert_eq!(pairs, [("password", "Xy7pQ2Lm"), ("db", "Xy7pQ2Lm")]);
    }
}
