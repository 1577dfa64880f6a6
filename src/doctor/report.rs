//! The rows as text (a terminal), JSON (scripts) or Markdown (a pull-request comment). Every
//! detail is already escaped where it came from outside (file names, server messages); the
//! Markdown form also escapes what Markdown would read as table or markup.

use std::fmt::Write as _;

use serde::Serialize;

use super::row::{Row, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Serialize)]
struct Document<'a> {
    passed: bool,
    strict: bool,
    rows: &'a [Row],
}

pub fn write(format: Format, rows: &[Row], passed: bool, strict: bool) -> String {
    match format {
        Format::Text => text(rows, passed, strict),
        Format::Json => {
            let document = Document {
                passed,
                strict,
                rows,
            };
            let mut json = serde_json::to_string_pretty(&document).expect("rows serialize");
            json.push('\n');
            json
        }
        Format::Markdown => markdown(rows, passed, strict),
    }
}

fn label(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Unknown => "UNKNOWN",
        Status::Fail => "FAIL",
    }
}

/// Under the status column: details, fixes and proofs, their own `hint:` lines included.
const INDENT: &str = "         ";

fn text(rows: &[Row], passed: bool, strict: bool) -> String {
    let mut out = String::new();
    for row in rows {
        let _ = writeln!(out, "{:<8} {}", label(row.status), row.item);
        for detail in &row.details {
            indented(&mut out, "", detail);
        }
        for fix in &row.fix {
            indented(&mut out, "fix: ", fix);
        }
        for proof in &row.to_prove {
            indented(&mut out, "to prove it: ", proof);
        }
    }
    let _ = writeln!(out, "{}", summary(rows, passed, strict));
    out
}

fn indented(out: &mut String, prefix: &str, text: &str) {
    let text = text.replace('\n', &format!("\n{INDENT}"));
    let _ = writeln!(out, "{INDENT}{prefix}{text}");
}

fn summary(rows: &[Row], passed: bool, strict: bool) -> String {
    let count = |status: Status| rows.iter().filter(|row| row.status == status).count();
    let verdict = match (passed, strict) {
        (true, _) => "passed",
        (false, true) => "failed (--strict: unknown fails too)",
        (false, false) => "failed",
    };
    format!(
        "doctor {verdict}: {} pass, {} fail, {} unknown",
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Unknown)
    )
}

fn markdown(rows: &[Row], passed: bool, strict: bool) -> String {
    let mut out = String::from(
        "### cronos-secrets doctor\n\n| Checklist item | Status | Details |\n|---|---|---|\n",
    );
    for row in rows {
        let mut cell: Vec<String> = row.details.iter().map(|detail| cell_text(detail)).collect();
        cell.extend(
            row.fix
                .iter()
                .map(|fix| format!("**fix:** {}", cell_text(fix))),
        );
        cell.extend(
            row.to_prove
                .iter()
                .map(|proof| format!("**to prove it:** {}", cell_text(proof))),
        );
        let _ = writeln!(
            out,
            "| {} | **{}** | {} |",
            cell_text(row.item),
            row.status.as_str(),
            cell.join("<br>")
        );
    }
    let _ = writeln!(out, "\n{}", cell_text(&summary(rows, passed, strict)));
    out
}

/// Text inside a table cell: no raw line breaks (a `hint:` line becomes `<br>`), no cell
/// separators, no HTML, links, images or code spans. An underscore is left alone: GitHub does
/// not read one inside a word (`CRONOS_AI_DB_PASSWORD`) as emphasis.
fn cell_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for c in lines.join("\n").chars() {
        match c {
            '\n' => out.push_str("<br>"),
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => out.push(' '),
            '*' | '`' | '[' | ']' | '\\' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::row::Part;

    #[test]
    fn markdown_cells_cannot_break_the_table_or_inject_markup() {
        let row = Row::new(
            "Access controls configured",
            "access",
            vec![Part::fail("a|b\n<img src=x>[link](y)", "chmod 600 .env")],
        );
        let out = markdown(&[row], false, false);
        let line = out.lines().find(|line| line.contains("Access")).unwrap();
        // Four unescaped separators: the row's own.
        assert_eq!(
            line.matches('|').count() - line.matches("\\|").count(),
            4,
            "{line}"
        );
        assert!(!line.contains("<img") && line.contains("&lt;img"), "{line}");
        assert!(line.contains("\\[link\\]"), "{line}");
    }
}
