//! Text that a server or a backend supplied (an error message, a slot's rotation id, a
//! version label) shown on one of our lines: control characters are escaped so that such text
//! cannot forge a log line or move a terminal's cursor, and it is capped so that one answer
//! cannot flood stderr.

use std::fmt::Write as _;

/// The most characters of untrusted text one line of ours shows.
const MAX_CHARS: usize = 300;

/// `text` with every control character (C0, DEL, C1, and the Unicode line and paragraph
/// separators) escaped as `\n`, `\r`, `\t` or `\u{…}`, cut at 300 characters with `…`.
pub(crate) fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS));
    for (count, c) in text.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escaped;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escaped("x\r\u{1b}[2K\u{1b}[1Arotated\n\u{7f}\u{85}\u{2028}"),
            "x\\r\\u{1b}[2K\\u{1b}[1Arotated\\n\\u{7f}\\u{85}\\u{2028}"
        );
        assert_eq!(escaped("a\\nb"), "a\\\\nb");
        assert_eq!(escaped("plain text, ünïcode"), "plain text, ünïcode");
    }

    #[test]
    fn long_text_is_cut() {
        let out = escaped(&"x".repeat(1000));
        assert_eq!(out.chars().count(), 301);
        assert!(out.ends_with('…'));
    }
}
