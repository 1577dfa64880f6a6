//! The README, CONTRIBUTING.md and the manual in `docs/`: every relative link names a file
//! that exists, and every `#anchor` a heading of that page (GitHub's slugs).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown pages whose links are checked.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![repo().join("README.md"), repo().join("CONTRIBUTING.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "md"))
        .collect();
    docs.sort();
    assert!(docs.len() >= 9, "the manual's pages: {docs:?}");
    pages.extend(docs);
    pages
}

/// The text outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(page: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(page).unwrap();
    prose(&text)
        .into_iter()
        .filter_map(|line| {
            let heading = line.trim_start_matches('#');
            (line.starts_with('#') && heading.starts_with(' ')).then(|| slug(heading))
        })
        .collect()
}

/// `(target)` of every `[text](target)` on the line.
fn targets(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        found.push(after[..end].to_string());
        rest = &after[end..];
    }
    found
}

#[test]
fn every_relative_link_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for (number, line) in prose(&text).iter().enumerate() {
            for target in targets(line) {
                if target.starts_with("http://")
                    || target.starts_with("https://")
                    || target.starts_with("mailto:")
                {
                    continue;
                }
                checked += 1;
                let (file, anchor) = match target.split_once('#') {
                    Some((file, anchor)) => (file, Some(anchor)),
                    None => (target.as_str(), None),
                };
                let linked = if file.is_empty() {
                    page.clone()
                } else {
                    page.parent().unwrap().join(file)
                };
                let name = page.strip_prefix(repo()).unwrap().display().to_string();
                if !linked.exists() {
                    broken.push(format!(
                        "{name} (prose line {}): {target}: no such file",
                        number + 1
                    ));
                    continue;
                }
                if let Some(anchor) = anchor
                    && linked
                        .extension()
                        .is_some_and(|extension| extension == "md")
                    && !anchors(&linked).contains(anchor)
                {
                    broken.push(format!(
                        "{name} (prose line {}): {target}: no such heading",
                        number + 1
                    ));
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} relative links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The checker itself: a heading's slug, and a link that names no file.
#[test]
fn the_checker_knows_github_slugs_and_link_syntax() {
    assert_eq!(
        slug(" Watching: `run --watch` and `render --watch`"),
        "watching-run---watch-and-render---watch"
    );
    assert_eq!(
        slug(" Security: what it refuses"),
        "security-what-it-refuses"
    );
    assert_eq!(
        targets("see [a](docs/a.md#x) and [b](#y), not [c]"),
        ["docs/a.md#x", "#y"]
    );
}
