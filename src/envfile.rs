//! The dotenv format as docker compose reads it: text in, entries with their line out. No I/O.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    /// 1-based line where the entry starts.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Single-quoted: taken literally.
    Literal(String),
    /// Unquoted or double-quoted: text for `placeholder::parse(_, Syntax::EnvFile)`. Escapes are
    /// processed, except that `\$` becomes `$$`, which the placeholder parser reads as `$`.
    Interpolated(String),
    /// `KEY` alone: passed through from the launcher's environment when set.
    Inherit,
}

/// Why a line is not an entry. The caller prefixes `path:line: `; values are never echoed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnvFileError {
    #[error("expected KEY=VALUE, found {found}")]
    NotAnEntry { line: usize, found: String },
    /// The key is described, not shown: a line starting with a digit or `-` is often a stray
    /// token (hex, `generate --encoding alnum`), not a key.
    #[error(
        "invalid key (it starts with {starts_with}; not shown, in case it holds a value): keys are letters, digits, \"_\", \".\" and \"-\", not starting with a digit"
    )]
    InvalidKey {
        line: usize,
        starts_with: &'static str,
    },
    #[error("unterminated {kind}-quoted value (opened here; expected a closing {quote})")]
    Unterminated {
        line: usize,
        kind: &'static str,
        quote: char,
    },
    #[error("unexpected text after the closing quote (expected only a # comment)")]
    TrailingText { line: usize },
    #[error("NUL byte in the file")]
    Nul { line: usize },
}

impl EnvFileError {
    pub fn line(&self) -> usize {
        match self {
            EnvFileError::NotAnEntry { line, .. }
            | EnvFileError::InvalidKey { line, .. }
            | EnvFileError::Unterminated { line, .. }
            | EnvFileError::TrailingText { line }
            | EnvFileError::Nul { line } => *line,
        }
    }
}

pub fn parse(text: &str) -> Result<Vec<Entry>, EnvFileError> {
    if let Some(index) = text.find('\0') {
        return Err(EnvFileError::Nul {
            line: text[..index].matches('\n').count() + 1,
        });
    }
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    let mut entries = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line_number = index + 1;
        let line = lines[index].trim_start();
        index += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = strip_export(line);
        let key_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .unwrap_or(line.len());
        let (key, after_key) = line.split_at(key_end);
        let after_key = after_key.trim_start();
        let Some(raw_value) = after_key.strip_prefix('=') else {
            let alone = after_key.is_empty() || after_key.starts_with('#');
            if !key.is_empty() && key != "export" && alone {
                check_key(key, line_number)?;
                entries.push(Entry {
                    key: key.to_string(),
                    value: Value::Inherit,
                    line: line_number,
                });
                continue;
            }
            return Err(EnvFileError::NotAnEntry {
                line: line_number,
                found: first_word(line),
            });
        };
        check_key(key, line_number)?;
        let raw_value = raw_value.trim_start();
        let value = match raw_value.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let (value, consumed) = quoted(&lines, index - 1, raw_value, quote, line_number)?;
                index += consumed;
                value
            }
            _ => Value::Interpolated(unquoted(raw_value)),
        };
        entries.push(Entry {
            key: key.to_string(),
            value,
            line: line_number,
        });
    }
    Ok(entries)
}

fn strip_export(line: &str) -> &str {
    match line.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => line,
    }
}

fn check_key(key: &str, line: usize) -> Result<(), EnvFileError> {
    let valid = key
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
    if valid {
        Ok(())
    } else {
        let starts_with = match key.chars().next() {
            Some(first) if first.is_ascii_digit() => "a digit",
            Some('-') => "\"-\"",
            Some('.') => "\".\"",
            _ => "a character that is not a letter or \"_\"",
        };
        Err(EnvFileError::InvalidKey { line, starts_with })
    }
}

/// Describes a line that is not an entry without echoing it: it may be a stray secret.
fn first_word(line: &str) -> String {
    if line.trim() == "export" {
        "\"export\" with no KEY=VALUE".to_string()
    } else {
        "a line without \"=\" (not shown, in case it holds a value)".to_string()
    }
}

/// An unquoted value: up to a ` #` comment, trimmed; `\$` becomes `$$`.
fn unquoted(raw: &str) -> String {
    let mut end = raw.len();
    let mut previous_is_space = false;
    for (index, c) in raw.char_indices() {
        if c == '#' && previous_is_space {
            end = index;
            break;
        }
        // Docker compose starts a comment only at " #": after a tab, `#` is part of the value.
        previous_is_space = c == ' ';
    }
    raw[..end].trim_end().replace("\\$", "$$")
}

/// A quoted value that may span lines. Returns the value and how many extra lines it used.
fn quoted(
    lines: &[&str],
    first: usize,
    raw: &str,
    quote: char,
    line_number: usize,
) -> Result<(Value, usize), EnvFileError> {
    let mut value = String::new();
    let mut current = &raw[1..];
    let mut extra_lines = 0;
    loop {
        let mut chars = current.char_indices();
        while let Some((index, c)) = chars.next() {
            if c == quote {
                let trailing = current[index + 1..].trim_start();
                if !(trailing.is_empty() || trailing.starts_with('#')) {
                    return Err(EnvFileError::TrailingText {
                        line: line_number + extra_lines,
                    });
                }
                let value = if quote == '\'' {
                    Value::Literal(value)
                } else {
                    Value::Interpolated(value)
                };
                return Ok((value, extra_lines));
            }
            if c == '\\' && quote == '"' {
                match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 'r')) => value.push('\r'),
                    Some((_, 't')) => value.push('\t'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '$')) => value.push_str("$$"),
                    Some((_, other)) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => value.push('\\'),
                }
                continue;
            }
            value.push(c);
        }
        extra_lines += 1;
        match lines.get(first + extra_lines) {
            Some(next) => {
                value.push('\n');
                current = next;
            }
            None => {
                let kind = if quote == '"' { "double" } else { "single" };
                return Err(EnvFileError::Unterminated {
                    line: line_number,
                    kind,
                    quote,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of(text: &str) -> Value {
        let entries = parse(text).unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries[0].value.clone()
    }

    fn interpolated(text: &str) -> Value {
        Value::Interpolated(text.to_string())
    }

    #[test]
    fn unquoted_values() {
        assert_eq!(value_of("A=b"), interpolated("b"));
        assert_eq!(value_of("A=  spaced value  "), interpolated("spaced value"));
        assert_eq!(value_of("A=b # comment"), interpolated("b"));
        assert_eq!(value_of("A=b#c"), interpolated("b#c"));
        assert_eq!(value_of("A=v\t# x"), interpolated("v\t# x"));
        assert_eq!(value_of("A=b=c"), interpolated("b=c"));
        assert_eq!(value_of("A="), interpolated(""));
        assert_eq!(value_of("A=\\$x \\n"), interpolated("$$x \\n"));
        assert_eq!(value_of("A = b"), interpolated("b"));
        assert_eq!(value_of("export A=b"), interpolated("b"));
        assert_eq!(value_of("a.b-c=1"), interpolated("1"));
    }

    #[test]
    fn double_quoted_values() {
        assert_eq!(
            value_of(r#"A="a\nb\t\"c\" \\ \$ \q""#),
            interpolated("a\nb\t\"c\" \\ $$ \\q")
        );
        assert_eq!(
            value_of("A=\"has # hash\" # comment"),
            interpolated("has # hash")
        );
        assert_eq!(value_of("A=\"\""), interpolated(""));
    }

    #[test]
    fn single_quoted_values_are_literal() {
        assert_eq!(
            value_of(r"A='$B \n ${C}'"),
            Value::Literal(r"$B \n ${C}".into())
        );
    }

    #[test]
    fn multi_line_values_keep_line_numbers_right() {
        let entries = parse("A=\"one\ntwo\"\nB='x\r\ny'\nC=3\r\n").unwrap();
        assert_eq!(entries[0].value, interpolated("one\ntwo"));
        assert_eq!(entries[0].line, 1);
        assert_eq!(entries[1].value, Value::Literal("x\ny".into()));
        assert_eq!(entries[1].line, 3);
        assert_eq!(entries[2].line, 5);
    }

    #[test]
    fn comments_blanks_and_inherit() {
        let entries = parse("# c\n\n   # indented\nKEY\nexport OTHER # note\nA=1\nA=2\n").unwrap();
        let keys: Vec<_> = entries
            .iter()
            .map(|entry| (entry.key.as_str(), entry.line))
            .collect();
        assert_eq!(keys, [("KEY", 4), ("OTHER", 5), ("A", 6), ("A", 7)]);
        assert_eq!(entries[0].value, Value::Inherit);
    }

    #[test]
    fn errors_name_their_line() {
        let cases = [
            ("A=1\nexport\n", 2, "expected KEY=VALUE, found \"export\""),
            ("A=1\nthis is wrong\n", 2, "found a line without \"=\""),
            ("1A=x\n", 1, "invalid key (it starts with a digit"),
            (
                "A=1\nB=\"open\nC=2\n",
                2,
                "unterminated double-quoted value",
            ),
            ("B='open\n", 1, "unterminated single-quoted value"),
            (
                "A=\"x\" trailing\n",
                1,
                "unexpected text after the closing quote",
            ),
            ("A=1\nB=\0\n", 2, "NUL byte"),
        ];
        for (text, line, message) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line(), line, "{text:?}");
            assert!(error.to_string().contains(message), "{text:?}: {error}");
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let pieces = [
            "A", "=", "\"", "'", "\\", "#", " ", "\n", "\r", "export ", "é", "$",
        ];
        for input in &crate::test_inputs::every_combination(&pieces, 4) {
            if let Err(error) = parse(input) {
                assert!(
                    error.line() >= 1 && error.line() <= input.split('\n').count(),
                    "{input:?}"
                );
            }
        }
    }

    #[test]
    fn errors_never_echo_values() {
        let error = parse("A=\"secret-value\" oops-secret\n").unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
        // A hex token alone on a line, or `-TOKEN=x`, is not echoed as a "key".
        for text in [
            "9f86d081884c7d659a2feaa0c55ad015\n",
            "0123abcd=x\n",
            "-SECRETX=1\n",
        ] {
            let error = parse(text).unwrap_err();
            for fragment in ["9f86d0", "0123abcd", "SECRETX"] {
                assert!(!error.to_string().contains(fragment), "{error}");
            }
        }
    }
}
