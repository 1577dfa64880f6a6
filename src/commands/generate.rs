//! `generate`: a strong secret from the OS CSPRNG.

use crate::cli::GenerateArgs;
use crate::error::Error;
use crate::random::random_secret;
use crate::schema::cronos_ai_defaults;
use crate::stderr::errln;
use crate::stdout;

use zeroize::Zeroize;

pub fn generate(args: &GenerateArgs) -> Result<i32, Error> {
    let length = usize::from(args.length);
    let mut secret = random_secret(length, args.encoding)?;
    warn_if_shorter_than_any_minimum(length);
    let written = stdout::write(secret.as_bytes()).and_then(|()| {
        stdout::write(
            b"
",
        )
    });
    secret.zeroize();
    written?;
    Ok(0)
}

/// Printed, not refused: a short value may be for something else (a PIN, a test), but one
/// meant for a required secret would only fail validation at the next launch.
fn warn_if_shorter_than_any_minimum(length: usize) {
    let table = cronos_ai_defaults();
    let minimums = table.iter().map(|secret| secret.min_length);
    let (Some(smallest), Some(largest)) = (minimums.clone().min(), minimums.max()) else {
        return;
    };
    if length < smallest {
        errln!(
            "cronos-secrets: warning: {length} characters is shorter than every required secret's minimum ({smallest} to {largest}): such a value fails validation\n  hint: use the default length (44), or at least --length {largest}"
        );
    }
}
