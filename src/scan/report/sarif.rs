//! SARIF 2.1.0, the format GitHub code scanning and other UIs read.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::json;

use crate::scan::finding::Finding;
use crate::scan::rules::RULES;

pub fn write(findings: &[Finding], out: &mut impl Write) -> io::Result<()> {
    let rule_index: BTreeMap<&str, usize> = RULES
        .iter()
        .enumerate()
        .map(|(index, rule)| (rule.id, index))
        .collect();
    let rules: Vec<_> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "shortDescription": { "text": rule.description },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let results: Vec<_> = findings
        .iter()
        .map(|finding| {
            json!({
                "ruleId": finding.rule,
                "ruleIndex": rule_index.get(finding.rule),
                "level": "error",
                "message": { "text": format!("{}: {}", finding.category.title(), finding.message) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": finding.path },
                        "region": { "startLine": finding.line, "startColumn": finding.column },
                    }
                }],
                "partialFingerprints": { "cronosSecretsValue/v1": finding.fingerprint },
                "properties": { "category": finding.category.id() },
            })
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cronos-secrets",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &sarif)?;
    writeln!(out)
}
