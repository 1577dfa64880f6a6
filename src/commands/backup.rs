//! `backup -o FILE`: every secret the deployment uses, age-encrypted, written 0600.

use crate::api::SecretsManager;
use crate::backup::crypt::{self, Seal};
use crate::backup::{keys, select, take};
use crate::cli::{BackupArgs, PassphraseArgs};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::exec::ChildEnvOptions;
use crate::launch::{self, LaunchSettings, Prepared};
use crate::output;
use crate::problem::Problem;
use crate::resolve::PlaceholderValue;
use crate::stderr::errln;
use crate::template::{self, LaunchVariables, Template};

pub fn backup(
    settings: &LaunchSettings,
    env: Environment,
    args: &BackupArgs,
) -> Result<i32, Error> {
    // The keys are checked before anything is read.
    let seal = seal(args, &env)?;
    let working_dir = super::working_dir()?;
    let prepared = launch::prepare(settings, env, &working_dir)?;
    let templates = templates(&prepared, &args.template)?;
    let wanted = select::wanted(&prepared.config, &prepared.plan, &templates);
    let manager = SecretsManager::new(prepared.config.clone(), prepared.env.clone())
        .with_timeout(settings.timeout);
    let backup = manager.block_on(take::take(
        &manager,
        prepared.config.backend,
        &prepared.plan,
        &wanted,
    ))?;
    take::refuse_empty(&backup)?;
    let sealed = crypt::encrypt(&backup.to_json(), seal, args.armor)?;
    output::write_atomically(&args.output, &sealed, output::PRIVATE_MODE).map_err(Problem::from)?;
    let names: Vec<&str> = backup
        .secrets
        .iter()
        .map(|entry| entry.name.as_str())
        .collect();
    errln!(
        "cronos-secrets: backed up {} secrets to {}: {}",
        names.len(),
        args.output.display(),
        names.join(", ")
    );
    Ok(0)
}

/// The templates' placeholders, as `render` reads them.
pub(super) fn templates(
    prepared: &Prepared,
    paths: &[std::path::PathBuf],
) -> Result<Vec<PlaceholderValue>, Error> {
    let working_dir = super::working_dir()?;
    let variables = LaunchVariables {
        plan: &prepared.plan,
        env: &prepared.env,
        options: ChildEnvOptions::default(),
    };
    let loaded = paths
        .iter()
        .map(|path| Template::load(path, &working_dir, &variables))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(template::extras_of(&loaded))
}

fn seal(args: &BackupArgs, env: &Environment) -> Result<Seal, Problem> {
    let recipients = keys::recipients(&args.recipient, &args.recipients_file)?;
    match (passphrase_source(&args.passphrase), recipients.is_empty()) {
        (Some(_), false) => Err(Problem::new("backup", "a backup is sealed either to recipients or with a passphrase, not both")
            .with_hint("drop --recipient/--recipients-file, or the --passphrase option")),
        (Some(source), true) => Ok(Seal::Passphrase(keys::passphrase(&source, env, true)?)),
        (None, false) => Ok(Seal::Recipients(recipients)),
        (None, true) => Err(Problem::new("backup", "no one to encrypt the backup for")
            .with_hint("pass --recipient age1… (from age-keygen), --recipients-file FILE, or --passphrase-file FILE")),
    }
}

/// Which passphrase option was given, if any (clap allows at most one).
pub(super) fn passphrase_source(args: &PassphraseArgs) -> Option<keys::PassphraseSource> {
    if let Some(file) = &args.passphrase_file {
        Some(keys::PassphraseSource::File(file.clone()))
    } else if let Some(name) = &args.passphrase_env {
        Some(keys::PassphraseSource::Variable(name.clone()))
    } else if args.passphrase {
        Some(keys::PassphraseSource::Terminal)
    } else {
        None
    }
}
