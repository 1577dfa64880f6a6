//! `restore FILE`: a backup's secrets written back through `set`'s checks and writes.

use crate::api::SecretsManager;
use crate::backup::crypt::{self, Opener};
use crate::backup::keys;
use crate::backup::layout::Backup;
use crate::backup::restore::{self, Outcome, Report};
use crate::bounded;
use crate::cli::{RestoreArgs, TargetArgs, TargetBackend};
use crate::config::{self, BackendKind};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::problem::Problem;
use crate::reference::Scheme;
use crate::stderr::errln;
use crate::stdout::outln;

pub fn restore(
    settings: &LaunchSettings,
    env: Environment,
    args: &RestoreArgs,
) -> Result<i32, Error> {
    let file = args.file.display().to_string();
    let opener = opener(args, &env)?;
    let bytes =
        bounded::read_input_file(&args.file, bounded::INPUT_FILE_LIMIT).map_err(|error| {
            Problem::new(&file, format!("cannot read the backup: {error}"))
                .with_optional_hint(error.hint())
        })?;
    let json = crypt::decrypt(&file, &bytes, &opener)?;
    let backup = Backup::from_json(&file, &json)?;
    let entries = restore::select(&backup, &args.target.only, &file)?;
    let (target, backend) = target(settings, &env, &args.target)?;
    let reports = target.block_on(restore::restore(
        &target,
        backend,
        &entries,
        super::restore::options(&args.target),
    ))?;
    Ok(report(&target, &reports, args.target.dry_run))
}

fn opener(args: &RestoreArgs, env: &Environment) -> Result<Opener, Problem> {
    match (super::backup::passphrase_source(&args.passphrase), args.identity.is_empty()) {
        (Some(_), false) => Err(Problem::new("restore", "pass either --identity or a passphrase option, not both")
            .with_hint("a backup is sealed either to keys or with a passphrase")),
        (Some(source), true) => Ok(Opener::Passphrase(keys::passphrase(&source, env, false)?)),
        (None, false) => Ok(Opener::Identities(keys::identities(&args.identity)?)),
        (None, true) => Err(Problem::new("restore", "no identity to open the backup with")
            .with_hint("pass --identity KEY (the file age-keygen wrote), or --passphrase-file FILE for a passphrase backup")),
    }
}

/// The manager that writes: `--to-config`'s config, or the launch's, with `--backend`'s
/// backend instead of the configured one; and that backend.
pub(super) fn target(
    settings: &LaunchSettings,
    env: &Environment,
    args: &TargetArgs,
) -> Result<(SecretsManager, BackendKind), Error> {
    let mut config = match &args.to_config {
        Some(path) => config::load(Some(path), env)?,
        None => launch::load_config(settings, env)?,
    };
    if let Some(backend) = args.backend {
        config.backend = match backend {
            TargetBackend::Vault => BackendKind::Vault,
            TargetBackend::AwsSecretsManager => BackendKind::AwsSecretsManager,
            TargetBackend::AzureKeyVault => BackendKind::AzureKeyVault,
        };
    }
    let backend = config.backend;
    let manager = SecretsManager::new(config, env.clone()).with_timeout(settings.timeout);
    Ok((manager, backend))
}

/// How restore and migrate write, from their flags.
pub(super) fn options(args: &TargetArgs) -> restore::Options {
    restore::Options {
        dry_run: args.dry_run,
        force: args.force,
    }
}

/// One line per secret on stdout (never a value), the reasons for refusals on stderr; 1 when
/// one was refused.
pub(super) fn report(target: &SecretsManager, reports: &[Report], dry_run: bool) -> i32 {
    let mut refused = 0;
    for report in reports {
        let backend = match report.reference.scheme {
            Scheme::Secret => target.backend_name(),
            scheme => scheme.as_str(),
        };
        let outcome = match (&report.outcome, dry_run) {
            (Outcome::Created, true) => "would create".to_string(),
            (Outcome::Updated, true) => "would update".to_string(),
            (outcome, _) => outcome.to_string(),
        };
        outln!(
            "{outcome:<12} {:<24} {} ({backend})",
            report.name,
            report.reference
        );
        if let Outcome::Refused(why) = &report.outcome {
            refused += 1;
            errln!("cronos-secrets: {} refused: {why}", report.name);
        }
    }
    if dry_run {
        errln!("cronos-secrets: dry run: nothing was written");
    }
    i32::from(refused > 0)
}
