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
    // The launch's plan (env files included): on the env backend, `secret://NAME` is what the
    // program of `run` would get, as `check` shows it.
    let prepared = launch::prepare(settings, env, &super::working_dir()?)?;
    let manager = SecretsManager::new(prepared.config, prepared.env).with_timeout(settings.timeout);
    let reference = manager.reference(&args.name)?;
    let fetched = block_on(manager.read(&reference, &prepared.plan))?;
    // The exact bytes, with no newline added: `$(…)` and pipes get the value as stored.
    stdout::write(fetched.value.expose())?;
    Ok(0)
}
