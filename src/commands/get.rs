//! `get NAME`: print one secret, for scripts.

use std::io::{IsTerminal, Write};

use crate::api::{SecretsManager, block_on};
use crate::cli::GetArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::problem::Problem;

pub fn get(settings: &LaunchSettings, env: Environment, args: &GetArgs) -> Result<i32, Error> {
    let mut stdout = std::io::stdout().lock();
    if stdout.is_terminal() && !args.force {
        return Err(Problem::new(
            &args.name,
            "refusing to print a secret to a terminal, where it stays in the scrollback",
        )
        .with_hint("pipe or capture it (VALUE=$(cronos-secrets get NAME)), or pass --force")
        .into());
    }
    let config = launch::load_config(settings, &env)?;
    let manager = SecretsManager::new(config, env).with_timeout(settings.timeout);
    let reference = manager.reference(&args.name)?;
    let fetched = block_on(manager.fetch(&reference))?;
    // The exact bytes, with no newline added: `$(…)` and pipes get the value as stored.
    stdout
        .write_all(fetched.value.expose())
        .and_then(|()| stdout.flush())
        .map_err(|error| Problem::new("stdout", format!("cannot write: {error}")))?;
    Ok(0)
}
