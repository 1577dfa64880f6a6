//! `set NAME`: write a new version from stdin (never from argv, which other users can read).

use std::io::IsTerminal;

use crate::api::{Backing, SecretsManager};
use crate::backend::StoreOptions;
use crate::bounded;
use crate::cli::SetArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::problem::Problem;
use crate::runtime::block_on;
use crate::secret::SecretString;
use crate::stderr::errln;

pub fn set(settings: &LaunchSettings, env: Environment, args: &SetArgs) -> Result<i32, Error> {
    let stdin = std::io::stdin();
    // Typed at a terminal, the value would be echoed and stay in the scrollback.
    if stdin.is_terminal() {
        return Err(Problem::new(
            &args.name,
            "refusing to read a secret from a terminal, which echoes it into the scrollback",
        )
        .with_hint("pipe it in: cronos-secrets generate | cronos-secrets set NAME, or: read -rs V && printf %s \"$V\" | cronos-secrets set NAME")
        .into());
    }
    let bytes = bounded::read_limited(stdin.lock(), bounded::STDIN_LIMIT).map_err(|error| {
        Problem::new("stdin", format!("cannot read the new value: {error}"))
            .with_hint("pipe in the value alone")
    })?;
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
    // A required secret is read as `secret://NAME`: what it stores, every launch validates.
    manager.check_new_value(&args.name, &reference, &value, args.force)?;
    let options = StoreOptions {
        create: args.create,
    };
    let metadata = block_on(async {
        let stored = manager
            .store(&reference, &value, options, Backing::PerCall)
            .await;
        stored.map_err(Error::from)
    })?;
    match metadata.version {
        Some(version) => errln!("cronos-secrets: stored {reference} (version {version})"),
        None => errln!("cronos-secrets: stored {reference}"),
    }
    Ok(0)
}
