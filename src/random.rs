//! Randomness from the operating system's CSPRNG: for generated secrets and for jitter.

use std::time::Duration;

use crate::problem::Problem;

pub fn random_bytes(count: usize) -> Result<Vec<u8>, Problem> {
    let mut bytes = vec![0u8; count];
    getrandom::fill(&mut bytes).map_err(|error| {
        Problem::new(
            "random",
            format!("the operating system's random source failed: {error}"),
        )
    })?;
    Ok(bytes)
}

/// A uniformly random duration in `[0, max]`; zero if the random source fails (jitter only).
pub fn duration_up_to(max: Duration) -> Duration {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return Duration::ZERO;
    }
    let fraction = (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64;
    max.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_stay_within_bounds_and_vary() {
        let max = Duration::from_millis(100);
        let samples: Vec<Duration> = (0..200).map(|_| duration_up_to(max)).collect();
        assert!(samples.iter().all(|sample| *sample <= max));
        assert!(samples.iter().any(|sample| *sample < max / 2));
        assert!(samples.iter().any(|sample| *sample > max / 2));
    }
}
