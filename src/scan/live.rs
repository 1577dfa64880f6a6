//! `scan --live`: the launch's actual current values, compared with file contents in memory.
//! The values stay in [`SecretString`]s; only their variable names reach a finding.

use memchr::memmem;

use super::category::Category;
use super::fingerprint::fingerprint;
use crate::secret::SecretString;

/// Shorter values would match ordinary text by chance (`true`, `8080`); none of the required
/// secrets may be this short anyway.
pub const MIN_LIVE_LENGTH: usize = 8;

struct LiveValue {
    variable: String,
    value: SecretString,
    category: Category,
    fingerprint: String,
}

#[derive(Default)]
pub struct LiveValues {
    values: Vec<LiveValue>,
}

pub struct Occurrence<'a> {
    pub variable: &'a str,
    pub category: Category,
    pub fingerprint: &'a String,
    pub start: usize,
    pub end: usize,
}

impl LiveValues {
    /// Adds a value unless it is too short to compare; says whether it was added.
    pub fn add(&mut self, variable: &str, value: SecretString) -> bool {
        if value.char_len() < MIN_LIVE_LENGTH {
            return false;
        }
        let fingerprint = fingerprint("live-value", value.expose());
        self.values.push(LiveValue {
            variable: variable.to_string(),
            category: Category::of_name(variable),
            value,
            fingerprint,
        });
        true
    }

    pub fn occurrences<'a>(&'a self, text: &str) -> Vec<Occurrence<'a>> {
        let mut found = Vec::new();
        for live in &self.values {
            let needle = live.value.expose();
            for start in memmem::find_iter(text.as_bytes(), needle) {
                found.push(Occurrence {
                    variable: &live.variable,
                    category: live.category,
                    fingerprint: &live.fingerprint,
                    start,
                    end: start + needle.len(),
                });
            }
        }
        found
    }
}
