//! Randomness from the operating system's CSPRNG: for generated secrets (`generate`,
//! `rotate`) and for jitter.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

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

/// The alphabets of generated values (`generate --encoding`; rotate uses `Base64url`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    /// A-Z a-z 0-9 + /
    Base64,
    /// A-Z a-z 0-9 - _ (URL and filename safe)
    Base64url,
    /// 0-9 a-f
    Hex,
    /// A-Z a-z 0-9
    Alnum,
}

/// `length` characters, each uniformly drawn from the encoding's alphabet.
pub fn random_secret(length: usize, encoding: Encoding) -> Result<String, Problem> {
    match encoding {
        // Every full 6-bit group is uniform; extra bytes ensure we never keep the last,
        // partially filled character of the encoding.
        Encoding::Base64 | Encoding::Base64url => {
            let bytes = random_bytes(length * 3 / 4 + 3)?;
            let engine = if encoding == Encoding::Base64 {
                STANDARD_NO_PAD
            } else {
                URL_SAFE_NO_PAD
            };
            Ok(engine.encode(bytes)[..length].to_string())
        }
        Encoding::Hex => {
            let bytes = random_bytes(length.div_ceil(2))?;
            let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
            Ok(hex[..length].to_string())
        }
        Encoding::Alnum => {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            let mut secret = String::with_capacity(length);
            while secret.len() < length {
                for byte in random_bytes(length)? {
                    // Rejection sampling: 248 = 62 * 4, so accepted bytes map uniformly.
                    if byte < 248 && secret.len() < length {
                        secret.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
                    }
                }
            }
            Ok(secret)
        }
    }
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

    #[test]
    fn lengths_and_alphabets() {
        for length in [1, 16, 43, 44, 45, 64, 100] {
            let base64 = random_secret(length, Encoding::Base64).unwrap();
            assert_eq!(base64.len(), length);
            assert!(
                base64
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
            );
            let url = random_secret(length, Encoding::Base64url).unwrap();
            assert!(
                url.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            let hex = random_secret(length, Encoding::Hex).unwrap();
            assert_eq!(hex.len(), length);
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
            let alnum = random_secret(length, Encoding::Alnum).unwrap();
            assert_eq!(alnum.len(), length);
            assert!(alnum.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn two_secrets_differ() {
        assert_ne!(
            random_secret(44, Encoding::Base64).unwrap(),
            random_secret(44, Encoding::Base64).unwrap()
        );
    }
}
