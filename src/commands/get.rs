//! `get NAME`: print one secret, for scripts.

use crate::api::SecretsManager;
use crate::cli::GetArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::output;
use crate::stdout;

pub fn get(settings: &LaunchSettings, env: Environment, args: &GetArgs) -> Result<i32, Error> {
    output::refuse_terminal_stdout(
        &args.name,
        args.force,
        "pipe or capture it (VALUE=$(cronos-secrets get NAME)), or pass --force",
    )?;
    let config = launch::load_config(settings, &env)?;
    let manager = SecretsManager::new(config, env).with_timeout(settings.timeout);
    let read = manager.read_secrets(&[args.name.as_str()])?;
    // The exact bytes, with no newline added: `$(…)` and pipes get the value as stored.
    stdout::write(read[0].value.expose())?;
    Ok(0)
}
