//! Passwords inside URLs: `postgresql://user:pass@host`, `redis://:pass@host`. The password
//! part is judged like any value, so `${DB_PASSWORD}` or `$DB_PASSWORD` in the URL is fine.

use std::sync::LazyLock;

use regex::Regex;

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

pub fn url_passwords(text: &str, syntax: Syntax) -> Vec<UrlPassword<'_>> {
    URL_WITH_PASSWORD
        .captures_iter(text)
        .filter_map(|captures| {
            let scheme = captures.name("scheme")?;
            let password = captures.name("password")?;
            if Reference::is_reference(&text[scheme.start()..]) {
                return None;
            }
            let literal = literal_text(password.as_str(), syntax)?;
            if STAND_INS.contains(&literal.to_ascii_lowercase().as_str()) {
                return None;
            }
            Some(UrlPassword {
                start: password.start(),
                end: password.end(),
                password: password.as_str(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        url_passwords(text, Syntax::EnvFile)
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
