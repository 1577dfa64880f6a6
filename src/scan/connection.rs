//! Passwords inside URLs: `postgresql://user:pass@host`, `redis://:pass@host`. The password
//! part is judged like any value, so `${DB_PASSWORD}` or `$DB_PASSWORD` in the URL is fine.

use std::sync::LazyLock;

use regex::Regex;

use super::position::LineIndex;
use super::value::literal_text;
use crate::placeholder::Syntax;
use crate::reference::Reference;

static URL_WITH_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://[^\s:/@'"<>]*:(?P<password>[^\s@'"<>]+)@[A-Za-z0-9\[\]._\-${}]"#)
        .expect("URL pattern")
});

/// Words that docs put where the password goes.
const STAND_INS: &[&str] = &["password", "pass", "passwd", "pwd", "secret"];

pub struct UrlPassword<'a> {
    pub start: usize,
    pub end: usize,
    pub password: &'a str,
}

pub fn url_passwords<'a>(
    text: &'a str,
    lines: &LineIndex<'_>,
    syntax: Syntax,
) -> Vec<UrlPassword<'a>> {
    // Only lines holding `://`: the pattern starts with a class, slow to search for.
    let candidates = lines.lines_of(memchr::memmem::find_iter(text.as_bytes(), b"://"));
    candidates
        .into_iter()
        .flat_map(|line| {
            let (start, end) = lines.line_range(line);
            URL_WITH_PASSWORD
                .captures_iter(&text[start..end])
                .map(move |captures| (start, captures))
        })
        .filter_map(|(line_start, captures)| {
            let scheme = captures.name("scheme")?;
            let password = captures.name("password")?;
            let (scheme_start, password_start, password_end) = (
                line_start + scheme.start(),
                line_start + password.start(),
                line_start + password.end(),
            );
            if Reference::is_reference(&text[scheme_start..]) {
                return None;
            }
            let literal = literal_text(password.as_str(), syntax)?;
            if STAND_INS.contains(&literal.to_ascii_lowercase().as_str()) {
                return None;
            }
            Some(UrlPassword {
                start: password_start,
                end: password_end,
                password: &text[password_start..password_end],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        url_passwords(text, &LineIndex::new(text), Syntax::EnvFile)
            .iter()
            .map(|url| url.password)
            .collect()
    }

    #[test]
    fn literal_passwords_in_urls() {
        assert_eq!(found("postgresql://u:Xy7pQ2@db:5432/app"), ["Xy7pQ2"]);
        assert_eq!(found("redis://:Xy7pQ2@redis:6379"), ["Xy7pQ2"]);
        assert!(found("postgresql://u:${DB_PASSWORD}@db/app").is_empty());
        assert!(found("postgresql://u:$DB_PASSWORD@db/app").is_empty());
        assert!(found("postgresql://u:password@localhost/app").is_empty());
        assert!(found("postgresql://u@db/app").is_empty());
        assert!(found("https://example.com:8443/x").is_empty());
    }
}
