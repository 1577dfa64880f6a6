use std::io::{self, Write};

use crate::scan::finding::Finding;
use crate::untrusted_text::escaped;

/// `path:line:column: category [rule] message (fingerprint …)`, one finding a line. The path
/// and the message (which may name a key from the file) are the repository's text: escaped,
/// so that a file name holding a newline or an escape sequence cannot forge a line.
pub fn write(findings: &[Finding], out: &mut impl Write) -> io::Result<()> {
    for finding in findings {
        writeln!(
            out,
            "{}:{}:{}: {} [{}] {} (fingerprint {})",
            escaped(&finding.path),
            finding.line,
            finding.column,
            finding.category.id(),
            finding.rule,
            escaped(&finding.message),
            finding.fingerprint
        )?;
    }
    Ok(())
}
