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

/// A value in a secret's shape that a vendor documents as an example (AWS's
/// `AKIAIOSFODNN7EXAMPLE`): not a finding, but named with --verbose, so that the skip is seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub path: String,
    pub line: usize,
    pub column: usize,
    /// Which example it is, never the value.
    pub what: String,
}
