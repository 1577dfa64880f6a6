//! `.cronos-secrets-ignore`: files a scan does not read, kept in the repository where everyone
//! sees them (a fuzz corpus, a scanner's own test corpus). One pattern a line, `#` comments:
//! `dir/` excludes everything below `dir`, a pattern holding `/` is matched against the path
//! from the top of the repository, one without `/` against the file name at any depth; `*`
//! matches within one path segment, `**` across segments, `?` one character.
//!
//! Patterns become one regex of the `regex` crate the scan already has, rather than a glob
//! crate: the static binary has a size budget, and this subset of gitignore is small.

use std::path::Path;

use regex::Regex;

use crate::problem::Problem;

/// Looked for at the top of the repository (or the current directory with PATHs).
pub const IGNORE_FILE: &str = ".cronos-secrets-ignore";

pub struct Exclusions {
    /// Each pattern as written, with its line, and the regex it became.
    patterns: Vec<(usize, String, Regex)>,
}

impl Exclusions {
    /// The root's ignore file, or no exclusions when there is none.
    pub fn load(root: &Path) -> Result<Exclusions, Problem> {
        let path = root.join(IGNORE_FILE);
        if !path.is_file() {
            return Ok(Exclusions {
                patterns: Vec::new(),
            });
        }
        let text = fs_err::read_to_string(&path).map_err(|error| {
            Problem::new(path.display().to_string(), error.to_string())
                .with_hint("make the file readable, or remove it to scan every file")
        })?;
        Exclusions::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, origin: &str) -> Result<Exclusions, Problem> {
        let mut patterns = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let pattern = line.trim();
            if pattern.is_empty() || pattern.starts_with('#') {
                continue;
            }
            if pattern.starts_with('!') {
                return Err(Problem::new(
                    format!("{origin}:{}", index + 1),
                    format!("\"{pattern}\": re-including with `!` is not supported"),
                )
                .with_hint("list only what to exclude; narrow a pattern instead of negating it"));
            }
            let regex = Regex::new(&to_regex(pattern)).map_err(|error| {
                Problem::new(
                    format!("{origin}:{}", index + 1),
                    format!("\"{pattern}\" is not a usable pattern: {error}"),
                )
                .with_hint("write a path such as `fuzz/corpus/` or a glob such as `*.min.js`")
            })?;
            patterns.push((index + 1, pattern.to_string(), regex));
        }
        Ok(Exclusions { patterns })
    }

    /// Why `name` (a path from the root) is excluded: `.cronos-secrets-ignore:LINE (PATTERN)`.
    pub fn reason(&self, name: &str, root: &Path) -> Option<String> {
        let relative = Path::new(name)
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .unwrap_or(name);
        let relative = relative.strip_prefix("./").unwrap_or(relative);
        self.patterns
            .iter()
            .find(|(_, _, regex)| regex.is_match(relative))
            .map(|(line, pattern, _)| format!("excluded by {IGNORE_FILE}:{line} ({pattern})"))
    }
}

fn to_regex(pattern: &str) -> String {
    let directory = pattern.ends_with('/');
    let body = pattern.trim_end_matches('/');
    let anchored = body.contains('/');
    let body = body.trim_start_matches('/');
    let mut regex = String::from(if anchored { "^" } else { "(?:^|/)" });
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    regex.push_str("(?:.*/)?");
                } else {
                    regex.push_str(".*");
                }
            }
            '*' => regex.push_str("[^/]*"),
            '?' => regex.push_str("[^/]"),
            other => regex.push_str(&regex::escape(&other.to_string())),
        }
    }
    // A directory pattern matches what is below it; a file pattern the file, or a directory.
    regex.push_str(if directory { "/" } else { "(?:$|/)" });
    regex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &str, name: &str) -> bool {
        Exclusions::parse(patterns, "ignore")
            .unwrap()
            .reason(name, Path::new("/repo"))
            .is_some()
    }

    #[test]
    fn patterns_follow_gitignore() {
        assert!(excluded("fuzz/corpus/", "fuzz/corpus/config/03a6"));
        assert!(!excluded("fuzz/corpus/", "fuzz/corpus.rs"));
        assert!(!excluded("fuzz/corpus/", "other/fuzz/corpus/x"));
        assert!(excluded("*.min.js", "web/app.min.js"));
        assert!(excluded("docs/**/*.md", "docs/a/b/c.md"));
        assert!(excluded("docs/**/*.md", "docs/c.md"));
        assert!(!excluded("docs/*.md", "docs/a/c.md"));
        assert!(excluded("vendor", "src/vendor/x.py"));
        assert!(excluded("# a comment\n\nfuzz/", "/repo/fuzz/x"));
        assert!(!excluded("a?c", "abbc"));
    }

    #[test]
    fn negation_is_refused_with_its_line() {
        let problem = Exclusions::parse("fuzz/\n!fuzz/keep\n", "ignore")
            .err()
            .unwrap();
        assert_eq!(problem.location, "ignore:2");
        assert!(problem.hint.is_some());
    }
}
