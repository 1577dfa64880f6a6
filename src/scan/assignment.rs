//! `key = value` pairs, read from a file the way its kind writes them. Offsets are bytes in
//! the whole file, so findings can point at the value without holding it.

use std::sync::LazyLock;

use regex::Regex;

use super::kind::FileKind;
use super::position::LineIndex;
use crate::envfile::{self, Value};

// No Debug: `value` is a scanned literal, which may be a live secret.
#[derive(Clone)]
pub struct Assignment {
    pub key: String,
    /// Without its quotes.
    pub value: String,
    /// Byte offsets of the value (inside any quotes).
    pub start: usize,
    pub end: usize,
    /// Byte offset of the key.
    pub key_start: usize,
}

/// Config files, shell, prose: unquoted values count.
static LOOSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)["'\]]*[ \t]*(?P<op>:=|=>|=|:)[ \t]*(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\$\{[^}\n]*\}[^\s,;]*|[^\s,;]+)"#,
    )
    .expect("assignment pattern")
});

/// Code: only a quoted string is a literal; an optional type annotation (`: &str`) and a
/// `String::from(` or `Some(` wrapper may stand between the key and the string. `=>` is a
/// match arm in Rust, not an assignment.
static CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<key>[A-Za-z_][A-Za-z0-9_.]*)["'\]]*[ \t]*(?::[ \t]*&?[A-Za-z_][\w<>\[\]:']*[ \t]*)?(?P<op>:=|=|:)[ \t]*(?:String::from\(|Some\(|SecretString::new\()?(?P<value>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"#,
    )
    .expect("code assignment pattern")
});

/// Assignments on the lines that hold one of `key_words` (and, in YAML, `name:` and `value:`
/// lines, since `- name: SECRET` makes the `value:` below it an assignment to SECRET).
pub fn assignments(
    kind: FileKind,
    text: &str,
    lines: &LineIndex<'_>,
    key_words: &Regex,
) -> Vec<Assignment> {
    let mut candidates = lines.lines_of(key_words.find_iter(text).map(|found| found.start()));
    if kind == FileKind::Yaml {
        for word in [&b"value:"[..], b"name:"] {
            candidates.extend(lines.lines_of(memchr::memmem::find_iter(text.as_bytes(), word)));
        }
        candidates.sort_unstable();
        candidates.dedup();
    }
    match kind {
        FileKind::EnvFile => env_file(text, lines, &candidates),
        FileKind::Yaml => {
            pair_names_with_values(generic(kind, lines, &candidates, |_| true), lines)
        }
        _ => generic(kind, lines, &candidates, |_| true),
    }
}

/// The dotenv parser reads the entries (quoting, multi-line values, `export`); commented-out
/// lines are read as loose text, since a commented-out secret is committed all the same. A
/// file the parser rejects is read loosely as a whole.
fn env_file(text: &str, lines: &LineIndex<'_>, candidates: &[usize]) -> Vec<Assignment> {
    let Ok(entries) = envfile::parse(text) else {
        return generic(FileKind::Text, lines, candidates, |_| true);
    };
    let mut found: Vec<Assignment> = entries
        .into_iter()
        .filter(|entry| candidates.binary_search(&entry.line).is_ok())
        .filter_map(|entry| {
            let value = match entry.value {
                Value::Literal(value) | Value::Interpolated(value) => value,
                Value::Inherit => return None,
            };
            let line_start = lines.line_start(entry.line);
            let line = lines.line_text(entry.line);
            let key_at = line.find(entry.key.as_str())?;
            let equals = key_at + entry.key.len() + line[key_at + entry.key.len()..].find('=')?;
            let after = &line[equals + 1..];
            let mut value_at = equals + 1 + (after.len() - after.trim_start().len());
            if line[value_at..].starts_with(['"', '\'']) {
                value_at += 1;
            }
            let value_end = (value_at + value.len()).min(line.len()).max(value_at);
            Some(Assignment {
                key: entry.key,
                value,
                start: line_start + value_at,
                end: line_start + value_end,
                key_start: line_start + key_at,
            })
        })
        .collect();
    found.extend(generic(FileKind::Text, lines, candidates, |line| {
        line.trim_start().starts_with('#')
    }));
    found
}

fn generic(
    kind: FileKind,
    lines: &LineIndex<'_>,
    candidates: &[usize],
    line_filter: impl Fn(&str) -> bool,
) -> Vec<Assignment> {
    let pattern = if kind.quoted_values_only() {
        &*CODE
    } else {
        &*LOOSE
    };
    let mut found = Vec::new();
    for &line in candidates {
        let line_text = lines.line_text(line);
        if !line_filter(line_text) {
            continue;
        }
        let (line_start, _) = lines.line_range(line);
        for captures in pattern.captures_iter(line_text) {
            let (Some(key), Some(op), Some(value)) = (
                captures.name("key"),
                captures.name("op"),
                captures.name("value"),
            ) else {
                continue;
            };
            let prefix = &line_text[..key.start()];
            if kind.keys_at_line_start_only() && !is_structural_prefix(prefix) {
                continue;
            }
            // `a == b`, `a != b`, `a <= b`: comparisons, not assignments.
            let before_op = line_text[..op.start()].chars().next_back();
            if value.as_str().starts_with('=') || matches!(before_op, Some('!' | '<' | '>' | '=')) {
                continue;
            }
            let (inner, offset) = unquote(value.as_str());
            let inner = if prefix.ends_with(['"', '\'']) {
                // `- "KEY=value"` in a YAML list: the closing quote is the item's.
                inner.trim_end_matches(['"', '\''])
            } else {
                inner
            };
            let start = line_start + value.start() + offset;
            found.push(Assignment {
                key: key.as_str().to_string(),
                value: inner.to_string(),
                start,
                end: start + inner.len(),
                key_start: line_start + key.start(),
            });
        }
    }
    found
}

/// What may stand before a key at the start of a line: indentation, a list dash, a comment
/// marker, `export`/`set`/`ENV`/`ARG`.
fn is_structural_prefix(prefix: &str) -> bool {
    let rest = prefix.trim_start_matches([' ', '\t', '-', '#', '/', '*', '>', '"', '\'']);
    let rest = [
        "export ",
        "set ",
        "ENV ",
        "ARG ",
        "readonly ",
        "declare -x ",
        "local ",
    ]
    .iter()
    .find_map(|word| rest.strip_prefix(word))
    .unwrap_or(rest);
    rest.trim().is_empty()
}

fn unquote(value: &str) -> (&str, usize) {
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')));
    if quoted {
        (&value[1..value.len() - 1], 1)
    } else {
        (value, 0)
    }
}

/// Kubernetes and compose env lists: `- name: DB_PASSWORD` then `value: …` is an assignment
/// to `DB_PASSWORD`.
fn pair_names_with_values(mut found: Vec<Assignment>, lines: &LineIndex<'_>) -> Vec<Assignment> {
    let column = |offset: usize| lines.position(offset).1;
    for index in 1..found.len() {
        if found[index].key != "value" {
            continue;
        }
        let (value_line, value_column) = (
            lines.position(found[index].key_start).0,
            column(found[index].key_start),
        );
        let name = found[..index].iter().rev().take(3).find(|earlier| {
            earlier.key == "name"
                && column(earlier.key_start) == value_column
                && value_line - lines.position(earlier.key_start).0 <= 3
        });
        if let Some(name) = name {
            found[index].key = name.value.clone();
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(kind: FileKind, text: &str) -> Vec<(String, String)> {
        let lines = LineIndex::new(text);
        let key_words = Regex::new(".").unwrap();
        assignments(kind, text, &lines, &key_words)
            .into_iter()
            .map(|found| {
                assert_eq!(&text[found.start..found.end], found.value);
                (found.key, found.value)
            })
            .collect()
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_string(), value.to_string())
    }

    #[test]
    fn reads_each_kind() {
        assert_eq!(
            pairs(FileKind::EnvFile, "A=1\nexport B='two'\n# C=\"three\"\n"),
            [pair("A", "1"), pair("B", "two"), pair("C", "three")]
        );
        assert_eq!(
            pairs(
                FileKind::Python,
                "password = os.getenv('X')\nkey: str = \"v\"\n"
            ),
            [pair("key", "v")]
        );
        assert_eq!(
            pairs(FileKind::Rust, "const JWT_SECRET: &str = \"v\";\n"),
            [pair("JWT_SECRET", "v")]
        );
        assert_eq!(
            pairs(
                FileKind::Yaml,
                "env:\n  - name: DB_PASSWORD\n    value: \"v\"\n"
            ),
            [pair("name", "DB_PASSWORD"), pair("DB_PASSWORD", "v")]
        );
        assert_eq!(
            pairs(FileKind::Text, "the password: must be long\npassword: v\n"),
            [pair("password", "v")]
        );
        assert!(pairs(FileKind::Shell, "if [ \"$a\" == x ]; then b != c; fi").is_empty());
    }
}
