//! One finding: where, what kind, which rule, and a fingerprint. Never the value or the line.

use serde::Serialize;

use super::category::Category;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// As given or as git names it (relative to the repository's top level).
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub category: Category,
    pub rule: &'static str,
    pub fingerprint: String,
    /// What was found and what to do; never holds the value.
    pub message: String,
}
