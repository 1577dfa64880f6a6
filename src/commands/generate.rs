//! `generate`: a strong secret from the OS CSPRNG.

use crate::cli::GenerateArgs;
use crate::error::Error;
use crate::random::random_secret;

pub fn generate(args: &GenerateArgs) -> Result<i32, Error> {
    let secret = random_secret(usize::from(args.length), args.encoding)?;
    println!("{secret}");
    Ok(0)
}
