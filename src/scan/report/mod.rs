//! Findings as text (for people), JSON (for scripts) or SARIF (for code-scanning UIs). No
//! format holds a value or a line's text: only where, what kind, which rule and a fingerprint.

mod json;
mod sarif;
mod text;

use std::io::{self, Write};

use super::finding::Finding;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

pub fn write(format: Format, findings: &[Finding], out: &mut impl Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(findings, out),
        Format::Json => json::write(findings, out),
        Format::Sarif => sarif::write(findings, out),
    }
}
