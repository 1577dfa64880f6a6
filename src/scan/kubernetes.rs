//! Kubernetes `Secret` manifests: every entry of `data:` (base64) and `stringData:` holding a
//! literal is a finding, whatever its key is called.

use base64::Engine;

use super::assignment::Assignment;
use super::position::LineIndex;

/// The entries of every `kind: Secret` document's `data:` and `stringData:` maps; `data:`
/// values are base64-decoded so that an encoded placeholder is still a placeholder.
pub fn secret_entries(text: &str, lines: &LineIndex<'_>) -> Vec<Assignment> {
    let mut found = Vec::new();
    let mut document_start = 1;
    for line in 1..=lines.line_count() + 1 {
        let at_end = line > lines.line_count();
        if at_end || lines.line_text(line).starts_with("---") {
            if is_secret_document(lines, document_start, line) {
                found.extend(data_entries(text, lines, document_start, line));
            }
            document_start = line + 1;
        }
    }
    found
}

fn is_secret_document(lines: &LineIndex<'_>, from: usize, to: usize) -> bool {
    (from..to).any(|line| {
        let text = lines.line_text(line);
        text.strip_prefix("kind:")
            .is_some_and(|kind| kind.trim().trim_matches(['"', '\'']) == "Secret")
    })
}

fn data_entries(text: &str, lines: &LineIndex<'_>, from: usize, to: usize) -> Vec<Assignment> {
    let mut found = Vec::new();
    let mut base64_values = None;
    let mut line = from;
    while line < to {
        let current = lines.line_text(line);
        line += 1;
        let indent = current.len() - current.trim_start().len();
        let trimmed = current.trim();
        if indent == 0 {
            base64_values = match trimmed {
                "data:" => Some(true),
                "stringData:" => Some(false),
                _ => None,
            };
            continue;
        }
        let Some(base64_values) = base64_values else {
            continue;
        };
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = trimmed.split_once(':') else {
            continue;
        };
        let raw = raw.trim();
        let key_start = lines.line_start(line - 1) + indent;
        let value_start = key_start + key.len() + 1 + (trimmed.len() - key.len() - 1 - raw.len());
        let mut value = raw.trim_matches(['"', '\'']).to_string();
        let mut start = value_start + usize::from(raw.starts_with(['"', '\'']));
        let mut end = start + value.len();
        if raw.starts_with(['|', '>']) {
            // A block scalar: the more-indented lines below.
            let mut block = Vec::new();
            while line < to {
                let next = lines.line_text(line);
                let next_indent = next.len() - next.trim_start().len();
                if !next.trim().is_empty() && next_indent <= indent {
                    break;
                }
                block.push(next.trim());
                line += 1;
            }
            value = block.join("\n").trim().to_string();
            start = lines.line_start(line - block.len().max(1));
            end = start + lines.line_text(line - block.len().max(1)).len();
        }
        if base64_values
            && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(value.trim())
            && let Ok(decoded) = String::from_utf8(decoded)
        {
            value = decoded;
        }
        found.push(Assignment {
            key: key.trim().trim_matches(['"', '\'']).to_string(),
            value,
            start,
            end: end.min(text.len()),
            key_start,
            parent: None,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_data_and_string_data_of_secrets_only() {
        let text = "kind: ConfigMap\ndata:\n  a: b\n---\napiVersion: v1\nkind: Secret\nstringData:\n  api-key: \"x\"\ndata:\n  db: PGZyb20tc2VjcmV0cy1tYW5hZ2VyPg==\n  pem: |\n    line1\n    line2\nmetadata:\n  name: n\n";
        let lines = LineIndex::new(text);
        let entries: Vec<_> = secret_entries(text, &lines)
            .into_iter()
            .map(|entry| (entry.key, entry.value))
            .collect();
        assert_eq!(
            entries,
            [
                ("api-key".to_string(), "x".to_string()),
                ("db".to_string(), "<from-secrets-manager>".to_string()),
                ("pem".to_string(), "line1\nline2".to_string()),
            ]
        );
    }
}
