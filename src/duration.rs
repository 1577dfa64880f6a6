//! Durations as users write them in config and flags: `90d`, `12h`, `30s`, `500ms`, `2w`.

use std::time::Duration;

/// What a bare number (no unit) means: seconds for `--timeout`, days for `rotate_every`.
#[derive(Debug, Clone, Copy)]
pub enum BareUnit {
    Seconds,
    Days,
}

/// Parses `<number><unit>` with unit one of `ms`, `s`, `m`, `h`, `d`, `w`; a bare number uses `bare`.
pub fn parse_duration(text: &str, bare: BareUnit) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let expected = "expected a number with a unit, like 500ms, 30s, 5m, 12h, 90d or 2w";
    let amount: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: {expected}"))?;
    let seconds_per_unit = |secs: u64| Duration::from_secs(amount.saturating_mul(secs));
    let duration = match unit.trim() {
        "" => match bare {
            BareUnit::Seconds => seconds_per_unit(1),
            BareUnit::Days => seconds_per_unit(86_400),
        },
        "ms" => Duration::from_millis(amount),
        "s" => seconds_per_unit(1),
        "m" => seconds_per_unit(60),
        "h" => seconds_per_unit(3_600),
        "d" => seconds_per_unit(86_400),
        "w" => seconds_per_unit(7 * 86_400),
        other => {
            return Err(format!(
                "invalid duration unit {other:?} in {text:?}: {expected}"
            ));
        }
    };
    Ok(duration)
}

/// The longest `--timeout` or `--jitter`: a day. Longer is a typo, and a deadline of 2^64
/// seconds would overflow the clock.
pub const MAX_WAIT: Duration = Duration::from_secs(86_400);

/// [`parse_duration`] for a time the launcher waits, at most [`MAX_WAIT`].
pub fn parse_wait(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text, BareUnit::Seconds)?;
    if duration > MAX_WAIT {
        return Err(format!(
            "{:?} is longer than the limit of {}: use a shorter duration, like 30s or 5m",
            text.trim(),
            format_duration(MAX_WAIT)
        ));
    }
    Ok(duration)
}

/// An age in its largest whole unit, rounded down (`42m`, `5h`, `3d`): `check`'s AGE column
/// and `doctor`'s backups.
pub fn rough_age(age: Duration) -> String {
    let seconds = age.as_secs();
    match seconds {
        0..3_600 => format!("{}m", seconds / 60),
        3_600..86_400 => format!("{}h", seconds / 3_600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// Formats a duration with the largest unit that divides it exactly (`90d`, `36h`, `1500ms`).
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    let units: [(&str, u128); 6] = [
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    for (name, size) in units {
        if millis >= size && millis.is_multiple_of(size) {
            return format!("{}{name}", millis / size);
        }
    }
    "0s".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        let day = 86_400;
        assert_eq!(
            parse_duration("90d", BareUnit::Seconds),
            Ok(Duration::from_secs(90 * day))
        );
        assert_eq!(
            parse_duration("2w", BareUnit::Seconds),
            Ok(Duration::from_secs(14 * day))
        );
        assert_eq!(
            parse_duration("12h", BareUnit::Seconds),
            Ok(Duration::from_secs(43_200))
        );
        assert_eq!(
            parse_duration("5m", BareUnit::Seconds),
            Ok(Duration::from_secs(300))
        );
        assert_eq!(
            parse_duration("30s", BareUnit::Seconds),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(
            parse_duration("500ms", BareUnit::Seconds),
            Ok(Duration::from_millis(500))
        );
    }

    #[test]
    fn bare_numbers_use_the_callers_unit() {
        assert_eq!(
            parse_duration("30", BareUnit::Seconds),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(
            parse_duration("90", BareUnit::Days),
            Ok(Duration::from_secs(90 * 86_400))
        );
    }

    #[test]
    fn rejects_garbage_with_the_expected_form() {
        for bad in ["", "d", "10y", "-5s", "1.5h"] {
            let error = parse_duration(bad, BareUnit::Seconds).unwrap_err();
            assert!(
                error.contains("expected a number with a unit"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn waits_longer_than_a_day_are_refused_not_overflowed() {
        assert_eq!(parse_wait("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_wait("1d"), Ok(MAX_WAIT));
        for absurd in [
            "18446744073709551615",
            "9223372036854775807",
            "30000000000000000w",
            "25h",
        ] {
            let error = parse_wait(absurd).unwrap_err();
            assert!(
                error.contains("longer than the limit of 1d"),
                "{absurd}: {error}"
            );
        }
    }

    #[test]
    fn formats_with_the_largest_exact_unit() {
        assert_eq!(format_duration(Duration::from_secs(90 * 86_400)), "90d");
        assert_eq!(format_duration(Duration::from_secs(14 * 86_400)), "2w");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }
}
