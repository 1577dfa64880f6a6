use std::io::{self, Write};

use crate::scan::finding::Finding;

pub fn write(findings: &[Finding], out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, findings)?;
    writeln!(out)
}
