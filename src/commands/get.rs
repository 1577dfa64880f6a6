//! `get NAME`: print one secret, for scripts.

use crate::api::SecretsManager;
use crate::cli::GetArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::output;
use crate::runtime::block_on;
use crate::stdout;

pub fn get(settings: &LaunchSettings, env: Environment, args: &GetArgs) -> Result<i32, Error> {
    output::refuse_terminal_stdout(
        &args.name,
        args.force,
        "pipe or capture it (VALUE=$(cronos-secrets get NAME)), or pass --force",
    )?;
    let config = launch::load_config(settings, &env)?;
    let manager = SecretsManager::new(config, env).with_timeout(settings.timeout);
    let reference = manager.reference(&args.name)?;
    let fetched = block_on(manager.read(&reference))?;
    // The exact bytes, with no newline added: `$(…)` and pipes get the value as stored.
    stdout::write(fetched.value.expose())?;
    Ok(0)
}
