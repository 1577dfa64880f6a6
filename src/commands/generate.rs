//! `generate`: a strong secret from the OS CSPRNG.

use crate::cli::GenerateArgs;
use crate::error::Error;
use crate::random::random_secret;
use crate::stdout;

use zeroize::Zeroize;

pub fn generate(args: &GenerateArgs) -> Result<i32, Error> {
    let mut secret = random_secret(usize::from(args.length), args.encoding)?;
    let written = stdout::write(secret.as_bytes()).and_then(|()| stdout::write(b"\n"));
    secret.zeroize();
    written?;
    Ok(0)
}
