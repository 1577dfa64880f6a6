//! Passwords inside connection strings: a URL's user part (`postgresql://user:pass@host`,
//! `redis://:pass@host`), a URL's query (JDBC's `?user=app&password=…`) and a `key=value;`
//! list (ADO.NET's `Server=db;User Id=sa;Password=…;`). The password part is judged like any
//! value, so `${DB_PASSWORD}` or `$DB_PASSWORD` in it is fine.

use std::sync::LazyLock;

use regex::Regex;

use super::judge::is_plausible_password;
use super::position::LineIndex;
use super::value::literal_text;
use crate::placeholder::Syntax;
use crate::reference::Reference;

/// A `${…}` placeholder is one unit in the user and password parts, so that the `:` and `@`
/// inside `${secret://name#username}` are not read as the URL's.
static URL_WITH_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?:\$\{[^}\s]*\}|[^\s:/@'"<>{}])*:(?P<password>(?:\$\{[^}\s]*\}|[^\s@'"<>])+)@[A-Za-z0-9\[\]._\-${}]"#,
    )
    .expect("URL pattern")
});

/// `password=…` as one parameter among others: after `?`, `&` or `;`, or followed by `;` or
/// `&` (ADO.NET strings may start with it). `Pwd` is ODBC's spelling.
static PASSWORD_PARAMETER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<before>[?&;][ \t]*|[\s"'`(]|^)(?i-u:password|pwd)[ \t]*=[ \t]*(?P<password>\$\{[^}\s]*\}|[^;&"'`\s<>)]+)(?P<after>[;&]?)"#,
    )
    .expect("password parameter pattern")
});

/// Lines that may hold a password parameter: the pattern needs captures, slow to search for.
static PARAMETER_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i-u:password|pwd)[ \t]*=").expect("parameter line pattern"));

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
    let mut found = user_part_passwords(text, lines, syntax);
    found.extend(parameter_passwords(text, lines, syntax));
    found
}

fn user_part_passwords<'a>(
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
            if Reference::is_reference(&text[line_start + scheme.start()..]) {
                return None;
            }
            let literal = literal_text(password.as_str(), syntax)?;
            if STAND_INS.contains(&literal.to_ascii_lowercase().as_str()) {
                return None;
            }
            Some(at(text, line_start, password))
        })
        .collect()
}

fn parameter_passwords<'a>(
    text: &'a str,
    lines: &LineIndex<'_>,
    syntax: Syntax,
) -> Vec<UrlPassword<'a>> {
    let candidates = lines.lines_of(PARAMETER_LINE.find_iter(text).map(|found| found.start()));
    candidates
        .into_iter()
        .flat_map(|line| {
            let (start, end) = lines.line_range(line);
            PASSWORD_PARAMETER
                .captures_iter(&text[start..end])
                .map(move |captures| (start, captures))
        })
        .filter_map(|(line_start, captures)| {
            let (before, after) = (captures.name("before")?, captures.name("after")?);
            let password = captures.name("password")?;
            // One parameter among others; a lone `password=x` is an assignment, judged there.
            let in_list = before.as_str().starts_with(['?', '&', ';']) || !after.is_empty();
            let literal = literal_text(password.as_str(), syntax)?;
            (in_list && is_plausible_password(&literal)).then(|| at(text, line_start, password))
        })
        .collect()
}

fn at<'a>(text: &'a str, line_start: usize, password: regex::Match<'_>) -> UrlPassword<'a> {
    let (start, end) = (line_start + password.start(), line_start + password.end());
    UrlPassword {
        start,
        end,
        password: &text[start..end],
    }
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
        assert!(
            found("postgresql://${secret://db#username}:${secret://db}@db/app").is_empty(),
            "a reference in the user part"
        );
        assert_eq!(found("postgresql://${DB_USER}:Xy7pQ2@db/app"), ["Xy7pQ2"]);
    }

    #[test]
    fn literal_passwords_in_parameters() {
        assert_eq!(
            found("jdbc:postgresql://db:5432/app?user=app&password=Xy7pQ2Lm"),
            ["Xy7pQ2Lm"]
        );
        assert_eq!(
            found("Server=db;Database=app;User Id=sa;Password=Xy7pQ2Lm;"),
            ["Xy7pQ2Lm"]
        );
        assert_eq!(found("Password=Xy7pQ2Lm;Server=db"), ["Xy7pQ2Lm"]);
        assert!(found("Server=db;User Id=sa;Password=${DB_PASSWORD};").is_empty());
        assert!(found("Server=db;Password={0};").is_empty());
        assert!(found("jdbc:mysql://db/app?user=app&password=").is_empty());
        assert!(found("password=Xy7pQ2Lm").is_empty(), "an assignment");
    }
}
