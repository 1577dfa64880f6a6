//! `set NAME`: write a new version from stdin (never from argv, which other users can read).

use std::io::Read;

use crate::api::{SecretsManager, block_on};
use crate::backend::StoreOptions;
use crate::cli::SetArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::problem::Problem;
use crate::secret::SecretString;

pub fn set(settings: &LaunchSettings, env: Environment, args: &SetArgs) -> Result<i32, Error> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|error| Problem::new("stdin", format!("cannot read the new value: {error}")))?;
    // `echo "$VALUE" | cronos-secrets set NAME` adds a newline that is not part of the value.
    let value = SecretString::new(bytes).trim_one_trailing_newline();
    if value.is_empty() {
        return Err(Problem::new(&args.name, "no value on stdin")
            .with_hint("cronos-secrets generate | cronos-secrets set NAME")
            .into());
    }
    let config = launch::load_config(settings, &env)?;
    let manager = SecretsManager::new(config, env).with_timeout(settings.timeout);
    let reference = manager.reference(&args.name)?;
    let metadata = block_on(manager.store(
        &reference,
        &value,
        StoreOptions {
            create: args.create,
        },
    ))?;
    match metadata.version {
        Some(version) => eprintln!("cronos-secrets: stored {reference} (version {version})"),
        None => eprintln!("cronos-secrets: stored {reference}"),
    }
    Ok(0)
}
