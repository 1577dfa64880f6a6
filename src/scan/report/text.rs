use std::io::{self, Write};

use crate::scan::finding::Finding;

/// `path:line:column: category [rule] message (fingerprint …)`, one finding a line.
pub fn write(findings: &[Finding], out: &mut impl Write) -> io::Result<()> {
    for finding in findings {
        writeln!(
            out,
            "{}:{}:{}: {} [{}] {} (fingerprint {})",
            finding.path,
            finding.line,
            finding.column,
            finding.category.id(),
            finding.rule,
            finding.message,
            finding.fingerprint
        )?;
    }
    Ok(())
}
