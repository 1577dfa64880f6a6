//! One row of the checklist: the guide's item, pass / fail / unknown, what was seen, and for a
//! failure the fix, for an unknown what would prove it. A check is made of parts (a launch
//! log and a server's audit devices), each judged alone; the row takes the worst.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Unknown,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Unknown => "unknown",
            Status::Fail => "fail",
        }
    }
}

/// One observation: what was seen, and what to do (a fix when it failed, what would prove it
/// when it is unknown).
#[derive(Debug, Clone)]
pub struct Part {
    pub status: Status,
    pub seen: String,
    pub next: Option<String>,
}

impl Part {
    pub fn pass(seen: impl Into<String>) -> Part {
        Part {
            status: Status::Pass,
            seen: seen.into(),
            next: None,
        }
    }

    pub fn fail(seen: impl Into<String>, fix: impl Into<String>) -> Part {
        Part {
            status: Status::Fail,
            seen: seen.into(),
            next: Some(fix.into()),
        }
    }

    pub fn unknown(seen: impl Into<String>, proof: impl Into<String>) -> Part {
        Part {
            status: Status::Unknown,
            seen: seen.into(),
            next: Some(proof.into()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The guide's words: "Pre-commit hooks installed".
    pub item: &'static str,
    /// A short name for scripts and the README's table: `hooks`.
    pub check: &'static str,
    pub status: Status,
    /// What was seen, one line each.
    pub details: Vec<String>,
    /// When it fails: what to do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fix: Vec<String>,
    /// When it is unknown: what would prove it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to_prove: Vec<String>,
}

impl Row {
    pub fn new(item: &'static str, check: &'static str, parts: Vec<Part>) -> Row {
        let status = parts
            .iter()
            .map(|part| part.status)
            .max()
            .unwrap_or(Status::Unknown);
        let next = |wanted: Status| -> Vec<String> {
            let mut lines: Vec<String> = Vec::new();
            for next in parts
                .iter()
                .filter(|part| part.status == wanted)
                .filter_map(|part| part.next.as_ref())
            {
                if !lines.contains(next) {
                    lines.push(next.clone());
                }
            }
            lines
        };
        Row {
            item,
            check,
            status,
            fix: next(Status::Fail),
            to_prove: next(Status::Unknown),
            details: parts.into_iter().map(|part| part.seen).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_its_worst_part_and_keeps_each_remedy_once() {
        let row = Row::new(
            "Audit logging enabled",
            "audit",
            vec![
                Part::pass("a"),
                Part::unknown("b", "prove"),
                Part::fail("c", "fix it"),
                Part::fail("d", "fix it"),
            ],
        );
        assert_eq!(row.status, Status::Fail);
        assert_eq!(row.fix, ["fix it"]);
        assert_eq!(row.to_prove, ["prove"]);
        assert_eq!(row.details, ["a", "b", "c", "d"]);
        let empty = Row::new("x", "x", Vec::new());
        assert_eq!(empty.status, Status::Unknown);
    }
}
