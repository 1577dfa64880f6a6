//! The `${…}` grammar shared by env files, config values and templates.
//!
//! Parsing only: what a name means is decided by [`crate::expand`].

use thiserror::Error;

use crate::reference::Reference;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Env files: `${NAME}`, `${NAME<op>word}`, `$NAME`, `$$`, and `${scheme://…}` references.
    EnvFile,
    /// Templates and config values: only `${…}` and `$$`; a bare `$NAME` is copied as is,
    /// since config files are full of `$`.
    Template,
    /// Values inherited from the launcher's environment: only `${scheme://…}` with one of our
    /// schemes is a placeholder; every other `$`, `$$`, `${…}` is text, kept byte for byte
    /// (`https://example.com/${HOME}` is someone else's syntax), and nothing is an error.
    Inherited,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Variable {
        name: String,
        fallback: Fallback,
        /// Byte offset of the `$` that starts the placeholder.
        offset: usize,
    },
    /// `${scheme://…}`: the text between `${` and `}`, unparsed.
    Reference {
        raw: String,
        offset: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    None,
    /// `${A:-word}` (if_empty: also when A is empty) or `${A-word}` (only when unset).
    Default {
        if_empty: bool,
        value: Vec<Segment>,
    },
    /// `${A:?message}` or `${A?message}`.
    Required {
        if_empty: bool,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlaceholderError {
    #[error("unclosed `${{` (expected `}}`)")]
    Unclosed { offset: usize },
    #[error("empty placeholder `${{}}` (expected a variable name)")]
    EmptyName { offset: usize },
    #[error(
        "invalid variable name in `${{…}}`: names are letters, digits and `_`, not starting with a digit"
    )]
    InvalidName { offset: usize },
    #[error("unknown operator in `${{{name}…}}` (expected one of `:-`, `-`, `:?`, `?`, or `}}`)")]
    UnknownOperator { name: String, offset: usize },
    #[error("placeholders nested too deeply (at most {MAX_NESTING} levels)")]
    TooDeep { offset: usize },
}

/// Defaults nest (`${A:-${B:-…}}`) and are parsed recursively: bounded, so that no input can
/// exhaust the stack.
const MAX_NESTING: usize = 32;

impl PlaceholderError {
    pub fn offset(&self) -> usize {
        match self {
            PlaceholderError::Unclosed { offset }
            | PlaceholderError::EmptyName { offset }
            | PlaceholderError::InvalidName { offset }
            | PlaceholderError::UnknownOperator { offset, .. }
            | PlaceholderError::TooDeep { offset } => *offset,
        }
    }
}

pub fn parse(input: &str, syntax: Syntax) -> Result<Vec<Segment>, PlaceholderError> {
    let mut parser = Parser {
        input,
        position: 0,
        syntax,
        depth: 0,
    };
    parser.segments(false)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(input: &str, offset: usize) -> (usize, usize) {
    let before = input.get(..offset.min(input.len())).unwrap_or(input);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|index| index + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Whether `text` starts with `scheme://` (letters, digits, `+ . -`, starting with a letter).
pub fn is_reference_start(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

struct Parser<'a> {
    input: &'a str,
    position: usize,
    syntax: Syntax,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.position..]
    }

    /// Segments up to the end, or (nested) up to the `}` that closes a default word.
    fn segments(&mut self, nested: bool) -> Result<Vec<Segment>, PlaceholderError> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        while let Some(c) = self.rest().chars().next() {
            if nested && c == '}' {
                break;
            }
            if c != '$' {
                literal.push(c);
                self.position += c.len_utf8();
                continue;
            }
            let start = self.position;
            let after = &self.rest()[1..];
            if self.syntax == Syntax::Inherited {
                match inherited_reference(after) {
                    Some(raw) => {
                        flush(&mut literal, &mut segments);
                        self.position += 3 + raw.len();
                        segments.push(Segment::Reference {
                            raw: raw.to_string(),
                            offset: start,
                        });
                    }
                    None => {
                        literal.push('$');
                        self.position += 1;
                    }
                }
            } else if after.starts_with('$') {
                literal.push('$');
                self.position += 2;
            } else if after.starts_with('{') {
                flush(&mut literal, &mut segments);
                self.position += 2;
                segments.push(self.braced(start)?);
            } else if self.syntax == Syntax::EnvFile && starts_name(after) {
                flush(&mut literal, &mut segments);
                let name = take_name(after);
                self.position += 1 + name.len();
                segments.push(Segment::Variable {
                    name: name.to_string(),
                    fallback: Fallback::None,
                    offset: start,
                });
            } else {
                literal.push('$');
                self.position += 1;
            }
        }
        flush(&mut literal, &mut segments);
        Ok(segments)
    }

    /// After `${`: a reference, or a variable with an optional operator.
    fn braced(&mut self, start: usize) -> Result<Segment, PlaceholderError> {
        let rest = self.rest();
        if is_reference_start(rest) {
            let end = rest
                .find('}')
                .ok_or(PlaceholderError::Unclosed { offset: start })?;
            let raw = rest[..end].to_string();
            self.position += end + 1;
            return Ok(Segment::Reference { raw, offset: start });
        }
        let name = take_name(rest);
        if name.is_empty() {
            return Err(match rest.chars().next() {
                None => PlaceholderError::Unclosed { offset: start },
                Some('}') => PlaceholderError::EmptyName { offset: start },
                Some(_) => PlaceholderError::InvalidName { offset: start },
            });
        }
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(PlaceholderError::InvalidName { offset: start });
        }
        self.position += name.len();
        let name = name.to_string();
        let operator_text = self.rest();
        let (operator, length) = [(":-", 2), (":?", 2), ("-", 1), ("?", 1), ("}", 1)]
            .into_iter()
            .find(|(operator, _)| operator_text.starts_with(operator))
            .ok_or_else(|| match operator_text.chars().next() {
                None => PlaceholderError::Unclosed { offset: start },
                Some(c) if c.is_whitespace() => PlaceholderError::InvalidName { offset: start },
                Some(_) => PlaceholderError::UnknownOperator {
                    name: name.clone(),
                    offset: start,
                },
            })?;
        self.position += length;
        let fallback = match operator {
            "}" => {
                return Ok(Segment::Variable {
                    name,
                    fallback: Fallback::None,
                    offset: start,
                });
            }
            ":-" | "-" => {
                if self.depth >= MAX_NESTING {
                    return Err(PlaceholderError::TooDeep { offset: start });
                }
                self.depth += 1;
                let value = self.segments(true);
                self.depth -= 1;
                Fallback::Default {
                    if_empty: operator == ":-",
                    value: value?,
                }
            }
            _ => Fallback::Required {
                if_empty: operator == ":?",
                message: self.message(start)?,
            },
        };
        if !self.rest().starts_with('}') {
            return Err(PlaceholderError::Unclosed { offset: start });
        }
        self.position += 1;
        Ok(Segment::Variable {
            name,
            fallback,
            offset: start,
        })
    }

    /// The plain text of a `?message`, up to the matching `}` (left for the caller).
    fn message(&mut self, start: usize) -> Result<String, PlaceholderError> {
        let rest = self.rest();
        let mut depth = 0usize;
        for (index, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    self.position += index;
                    return Ok(rest[..index].to_string());
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        Err(PlaceholderError::Unclosed { offset: start })
    }
}

/// After a `$` of an inherited value: the reference of `{scheme://…}` when the scheme is ours.
fn inherited_reference(after_dollar: &str) -> Option<&str> {
    let inner = after_dollar.strip_prefix('{')?;
    let raw = &inner[..inner.find('}')?];
    Reference::is_reference(raw).then_some(raw)
}

fn starts_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

/// The longest run of name characters (may start with a digit; the caller checks).
fn take_name(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

fn flush(literal: &mut String, segments: &mut Vec<Segment>) {
    if !literal.is_empty() {
        segments.push(Segment::Literal(std::mem::take(literal)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(input: &str) -> Vec<Segment> {
        parse(input, Syntax::EnvFile).unwrap()
    }

    fn literal(text: &str) -> Segment {
        Segment::Literal(text.to_string())
    }

    fn var(name: &str, offset: usize) -> Segment {
        Segment::Variable {
            name: name.to_string(),
            fallback: Fallback::None,
            offset,
        }
    }

    #[test]
    fn inherited_values_hold_only_our_references() {
        let parsed = parse(
            "a$$b ${HOME} $X ${https://x} ${ x-${secret://db#pw}-${",
            Syntax::Inherited,
        );
        assert_eq!(
            parsed.unwrap(),
            vec![
                literal("a$$b ${HOME} $X ${https://x} ${ x-"),
                Segment::Reference {
                    raw: "secret://db#pw".into(),
                    offset: 34,
                },
                literal("-${"),
            ]
        );
    }

    #[test]
    fn plain_text_and_dollars() {
        assert_eq!(env(""), vec![]);
        assert_eq!(env("plain"), vec![literal("plain")]);
        assert_eq!(env("a$$b"), vec![literal("a$b")]);
        assert_eq!(
            env("cost $5 and $ alone$"),
            vec![literal("cost $5 and $ alone$")]
        );
    }

    #[test]
    fn variables_in_both_forms() {
        assert_eq!(env("${A}"), vec![var("A", 0)]);
        assert_eq!(
            env("x$HOME/y"),
            vec![literal("x"), var("HOME", 1), literal("/y")]
        );
        assert_eq!(
            env("é${_B1}é"),
            vec![literal("é"), var("_B1", 2), literal("é")]
        );
    }

    #[test]
    fn template_syntax_leaves_bare_dollars_alone() {
        let segments = parse("$HOME ${A} $$", Syntax::Template).unwrap();
        assert_eq!(
            segments,
            vec![literal("$HOME "), var("A", 6), literal(" $")]
        );
    }

    #[test]
    fn defaults_nest_and_required_keeps_its_message() {
        let segments = env("${A:-${B-x}$C}");
        let Segment::Variable {
            fallback: Fallback::Default { if_empty, value },
            ..
        } = &segments[0]
        else {
            panic!("expected a default: {segments:?}")
        };
        assert!(*if_empty);
        assert_eq!(value.len(), 2);
        assert_eq!(
            env("${A:?set {it} now}"),
            vec![Segment::Variable {
                name: "A".into(),
                fallback: Fallback::Required {
                    if_empty: true,
                    message: "set {it} now".into()
                },
                offset: 0
            }]
        );
    }

    #[test]
    fn references_are_kept_raw() {
        assert_eq!(
            env("pre-${secret://db#key?version=2}-post"),
            vec![
                literal("pre-"),
                Segment::Reference {
                    raw: "secret://db#key?version=2".into(),
                    offset: 4
                },
                literal("-post")
            ]
        );
        assert!(is_reference_start("aws-sm://x"));
        assert!(!is_reference_start("1abc://x"));
        assert!(!is_reference_start("no scheme"));
    }

    #[test]
    fn errors_carry_offsets() {
        let cases = [
            ("ab${A", PlaceholderError::Unclosed { offset: 2 }),
            ("${}", PlaceholderError::EmptyName { offset: 0 }),
            ("x${1A}", PlaceholderError::InvalidName { offset: 1 }),
            ("${A B}", PlaceholderError::InvalidName { offset: 0 }),
            (
                "${A:x}",
                PlaceholderError::UnknownOperator {
                    name: "A".into(),
                    offset: 0,
                },
            ),
            ("${A:-${B}", PlaceholderError::Unclosed { offset: 0 }),
            ("${secret://x", PlaceholderError::Unclosed { offset: 0 }),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input, Syntax::EnvFile), Err(expected), "{input}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "${A:-".repeat(10_000);
        assert!(matches!(
            parse(&deep, Syntax::EnvFile),
            Err(PlaceholderError::TooDeep { .. })
        ));
        let fine = format!(
            "{}x{}",
            "${A:-".repeat(MAX_NESTING),
            "}".repeat(MAX_NESTING)
        );
        assert!(parse(&fine, Syntax::EnvFile).is_ok());
    }

    #[test]
    fn arbitrary_input_never_panics_and_errors_point_at_a_dollar() {
        let pieces = [
            "$", "{", "}", ":", "-", "?", "A", "1", "é", "x://", "env://", " ", "\n",
        ];
        for input in &crate::test_inputs::every_combination(&pieces, 4) {
            for syntax in [Syntax::EnvFile, Syntax::Template, Syntax::Inherited] {
                if let Err(error) = parse(input, syntax) {
                    assert_eq!(
                        input.get(error.offset()..error.offset() + 1),
                        Some("$"),
                        "{input:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn line_and_column_of_offsets() {
        let text = "first\nsé${X";
        let offset = text.find('$').unwrap();
        assert_eq!(line_column(text, offset), (2, 3));
        assert_eq!(line_column(text, 0), (1, 1));
    }
}
