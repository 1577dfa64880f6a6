//! The Prometheus text exposition format (0.0.4), as node exporter's textfile collector reads
//! it: `# HELP` and `# TYPE` lines, then one sample per line. Label values are escaped as the
//! format requires, so a backend-supplied text (a version id) cannot end its label early, add
//! a label or start a sample line of its own. Values are numbers the caller computed: a secret
//! value has no way in, since nothing here accepts one.

use std::fmt::Write as _;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        }
    }
}

/// One metric: its name (`cronos_secrets_…`, with the unit suffix), help text, type and
/// samples. A family without samples is left out of the text.
#[derive(Debug)]
pub struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

impl Family {
    pub fn gauge(name: &'static str, help: &'static str) -> Family {
        Family::new(name, help, Kind::Gauge)
    }

    pub fn counter(name: &'static str, help: &'static str) -> Family {
        Family::new(name, help, Kind::Counter)
    }

    fn new(name: &'static str, help: &'static str, kind: Kind) -> Family {
        debug_assert!(valid_name(name), "metric name {name}");
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    /// Adds a sample; label names are ours (static), label values may be anyone's.
    pub fn sample(&mut self, labels: &[(&'static str, &str)], value: f64) -> &mut Family {
        debug_assert!(labels.iter().all(|(name, _)| valid_name(name)));
        let labels = labels
            .iter()
            .map(|(name, value)| (*name, (*value).to_string()))
            .collect();
        self.samples.push((labels, value));
        self
    }
}

/// The text of `families`, in order, each with its HELP and TYPE lines.
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families.iter().filter(|family| !family.samples.is_empty()) {
        let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(family.help));
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.as_str());
        for (labels, value) in &family.samples {
            out.push_str(family.name);
            if !labels.is_empty() {
                out.push('{');
                for (index, (name, value)) in labels.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label_value(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", number(*value));
        }
    }
    out
}

/// Seconds since the Unix epoch, for `_timestamp_seconds` metrics (millisecond precision).
pub fn unix_seconds(time: SystemTime) -> f64 {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_millis() as f64) / 1000.0
}

/// The format's three escapes in a label value: backslash, double quote and line feed.
fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text escapes backslash and line feed (not the double quote).
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Go's `ParseFloat` forms, which the format uses: `+Inf`, `-Inf`, `NaN`; integers without
/// a fraction.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        value.to_string()
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`: the names the format allows (label names also lack `:`).
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_help_type_and_escaped_labels() {
        let mut versions = Family::gauge(
            "cronos_secrets_test_info",
            "A test metric.\nSecond line \\ here.",
        );
        versions.sample(
            &[("version", "7\"} 1\nforged_metric 2"), ("path", "a\\b")],
            1.0,
        );
        let empty = Family::counter("cronos_secrets_never_total", "Never sampled.");
        let mut timestamp = Family::gauge("cronos_secrets_when_timestamp_seconds", "When.");
        timestamp.sample(&[], 1_700_000_000.25);
        timestamp.sample(&[("x", "")], f64::INFINITY);
        assert_eq!(
            render(&[versions, empty, timestamp]),
            "# HELP cronos_secrets_test_info A test metric.\\nSecond line \\\\ here.\n\
             # TYPE cronos_secrets_test_info gauge\n\
             cronos_secrets_test_info{version=\"7\\\"} 1\\nforged_metric 2\",path=\"a\\\\b\"} 1\n\
             # HELP cronos_secrets_when_timestamp_seconds When.\n\
             # TYPE cronos_secrets_when_timestamp_seconds gauge\n\
             cronos_secrets_when_timestamp_seconds 1700000000.25\n\
             cronos_secrets_when_timestamp_seconds{x=\"\"} +Inf\n"
        );
    }

    #[test]
    fn names_follow_the_format() {
        assert!(valid_name("cronos_secrets_rotation_age_seconds"));
        assert!(!valid_name("9lives"));
        assert!(!valid_name("with-dash"));
        assert!(!valid_name(""));
    }

    #[test]
    fn timestamps_are_seconds_with_milliseconds() {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_234_567);
        assert_eq!(unix_seconds(time), 1234.567);
    }
}
