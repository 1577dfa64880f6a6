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
    /// In YAML and JSON, the key of the enclosing mapping (`jwt` for `jwt:\n  secret: …`).
    pub parent: Option<String>,
}

/// Config files, shell, prose: unquoted values count.
static LOOSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)["'\]]*[ \t]*(?P<op>:=|=>|=|:)[ \t]*(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\$\{[^}\n]*\}[^\s,;]*|[^\s,;]+)"#,
    )
    .expect("assignment pattern")
});

/// Code: only a quoted string is a literal; an optional type annotation (`: &str`,
/// `: &[u8; 32]`), a `String::from(` or `Some(` wrapper and a byte or raw string prefix
/// (`b"…"`, `rb'…'`) may stand between the key and the string. `=>` is a match arm in Rust,
/// not an assignment.
static CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<key>[A-Za-z_][A-Za-z0-9_.]*)["'\]]*[ \t]*(?::[ \t]*&?(?:'static[ \t]+)?(?:[A-Za-z_][\w<>\[\]:']*|\[[\w; ]*\])[ \t]*)?(?P<op>:=|=|:)[ \t]*(?:String::from\(|Some\(|SecretString::new\()?(?:[bBrR]|[rR][bB]|[bB][rR])?(?P<value>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"#,
    )
    .expect("code assignment pattern")
});

/// Assignments on the lines that hold one of `key_words` (and, in YAML and JSON, `name` and
/// `value` lines, since `- name: SECRET` makes the `value:` beside it an assignment to SECRET,
/// as do ECS task definitions' `{"name": "SECRET", "value": …}`).
pub fn assignments(
    kind: FileKind,
    text: &str,
    lines: &LineIndex<'_>,
    key_words: &Regex,
) -> Vec<Assignment> {
    let mut candidates = lines.lines_of(key_words.find_iter(text).map(|found| found.start()));
    let pair_words: &[&[u8]] = match kind {
        FileKind::Yaml => &[b"value:", b"name:", b"Value:", b"Name:"],
        FileKind::Json => &[b"\"value\"", b"\"name\"", b"\"Value\"", b"\"Name\""],
        _ => &[],
    };
    if !pair_words.is_empty() {
        for word in pair_words {
            candidates.extend(lines.lines_of(memchr::memmem::find_iter(text.as_bytes(), word)));
        }
        candidates.sort_unstable();
        candidates.dedup();
    }
    match kind {
        FileKind::EnvFile => env_file(text, lines, &candidates),
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
                parent: None,
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
        let mut at = 0;
        while let Some(captures) = pattern.captures_at(line_text, at) {
            let whole = captures.get(0).expect("group 0 is the match");
            at = whole.end().max(at + 1);
            let (Some(key), Some(op), Some(value)) = (
                captures.name("key"),
                captures.name("op"),
                captures.name("value"),
            ) else {
                continue;
            };
            // `"…\npassword = x…"`: the `n` of an escape is not part of the key.
            let escaped = line_text[..key.start()].ends_with('\\');
            let key_at = key.start() + usize::from(escaped);
            let prefix = &line_text[..key.start()];
            let in_flow = kind == FileKind::Yaml && opens_flow_entry(prefix);
            if kind.keys_at_line_start_only() && !is_structural_prefix(prefix) && !in_flow {
                continue;
            }
            // `a == b`, `a != b`, `a <= b`: comparisons, not assignments.
            let before_op = line_text[..op.start()].chars().next_back();
            if value.as_str().starts_with('=') || matches!(before_op, Some('!' | '<' | '>' | '=')) {
                continue;
            }
            // `jwt_secret: {env: …, min_length: 32}`: a YAML flow mapping or sequence opens
            // there; its own pairs are read as assignments of their own.
            if kind == FileKind::Yaml && value.as_str().starts_with(['{', '[']) {
                at = value.start() + 1;
                continue;
            }
            if kind == FileKind::Text
                && op.as_str() == ":"
                && is_prose_after(value.as_str(), &line_text[value.end()..])
            {
                continue;
            }
            let (inner, offset) = unquote(value.as_str());
            let inner = if prefix.ends_with(['"', '\'']) {
                // `- "KEY=value"` in a YAML list: the closing quote is the item's.
                inner.trim_end_matches(['"', '\''])
            } else if in_flow {
                // `{password: v}`: the closing bracket is the mapping's.
                inner.trim_end_matches(['}', ']'])
            } else {
                inner
            };
            let start = line_start + value.start() + offset;
            found.push(Assignment {
                key: line_text[key_at..key.end()].to_string(),
                value: inner.to_string(),
                start,
                end: start + inner.len(),
                key_start: line_start + key_at,
                parent: None,
            });
        }
    }
    found
}

/// `KEY: several words` in prose is a sentence (`- JWT_SECRET: permission denied …`), not an
/// assignment; a comment may follow a value.
fn is_prose_after(value: &str, after: &str) -> bool {
    let after = after.trim();
    !value.starts_with(['"', '\''])
        && !after.is_empty()
        && !after.starts_with('#')
        && !after.starts_with("//")
}

/// What may stand before a key at the start of a line: indentation, a list dash, a comment
/// marker, `export`/`set`/`ENV`/`ARG`, and a command's start, where a shell reads
/// `PGPASSWORD=… psql` as an assignment for that command (`$ `, `RUN `, `… && `, `… ; `).
fn is_structural_prefix(prefix: &str) -> bool {
    let rest = prefix.trim_start_matches([' ', '\t', '-', '#', '/', '*', '>', '"', '\'']);
    let rest = [
        "export ",
        "set ",
        "ENV ",
        "ARG ",
        "RUN ",
        "$ ",
        "env ",
        "readonly ",
        "declare -x ",
        "local ",
    ]
    .iter()
    .find_map(|word| rest.strip_prefix(word))
    .unwrap_or(rest);
    let rest = rest.trim();
    rest.is_empty() || rest.ends_with("&&") || rest.ends_with(';')
}

/// A key inside a YAML flow mapping on one line: `db: {user: a, password: …}`.
fn opens_flow_entry(prefix: &str) -> bool {
    let rest = prefix.trim_end();
    rest.ends_with(['{', ',']) && rest.contains('{')
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
            [pair("name", "DB_PASSWORD"), pair("value", "v")]
        );
        assert_eq!(
            pairs(FileKind::Rust, "const KEY: &[u8; 4] = b\"v\";\n"),
            [pair("KEY", "v")]
        );
        assert_eq!(
            pairs(FileKind::Text, "$ PGPASSWORD=v psql\nA: some words here\n"),
            [pair("PGPASSWORD", "v")]
        );
        assert_eq!(
            pairs(FileKind::Text, "the password: must be long\npassword: v\n"),
            [pair("password", "v")]
        );
        assert!(pairs(FileKind::Shell, "if [ \"$a\" == x ]; then b != c; fi").is_empty());
    }

    #[test]
    fn a_yaml_flow_mapping_is_not_the_value_of_its_key() {
        assert_eq!(
            pairs(
                FileKind::Yaml,
                "secrets:\n  jwt_secret: {env: CRONOS_AI_JWT_SECRET, min_length: 32}\n"
            ),
            [
                pair("env", "CRONOS_AI_JWT_SECRET"),
                pair("min_length", "32")
            ]
        );
        assert_eq!(
            pairs(FileKind::Yaml, "db: {password: hunter2-literal}\n"),
            [pair("password", "hunter2-literal")]
        );
    }
}
