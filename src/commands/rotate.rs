//! `rotate`: the command line turned into a `rotate::Request`, and the confirmation rule.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::{RotateArgs, RotateBackend};
use crate::config::BackendKind;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::rotate::{self, Action, Request, SELECTORS};
use crate::runtime::block_on;
use crate::stderr::errln;

pub fn rotate(settings: &LaunchSettings, env: Environment, args: RotateArgs) -> Result<i32, Error> {
    let action = if args.setup {
        Action::Setup {
            dry_run: args.dry_run,
        }
    } else if args.status {
        Action::Status {
            format: args.format,
        }
    } else if args.dry_run {
        Action::DryRun
    } else if args.resume {
        Action::Resume
    } else if args.abort {
        Action::Abort
    } else if args.retire {
        Action::Retire
    } else {
        Action::Rotate
    };
    let flags = [
        args.database,
        args.redis,
        args.jwt,
        args.api_key,
        args.encryption_key,
    ];
    let mut names: Vec<String> = SELECTORS
        .iter()
        .zip(flags)
        .filter(|(_, on)| *on)
        .map(|((_, name), _)| name.to_string())
        .collect();
    names.extend(args.names.iter().cloned());
    if names.is_empty() && !args.all && !args.status {
        usage(
            "select what to rotate: --all, --database, --redis, --jwt, --api-key, --encryption-key or secret names",
        );
    }
    if !args.then.is_empty() && action != Action::Rotate && action != Action::Resume {
        usage(
            "--then runs after a rotation: it does not go with --status, --dry-run, --abort or --retire",
        );
    }
    let config = launch::load_config(settings, &env)?;
    if matches!(
        action,
        Action::Rotate
            | Action::Resume
            | Action::Abort
            | Action::Retire
            | Action::Setup { dry_run: false }
    ) && !args.yes
    {
        let what = if args.all {
            "every selected secret".to_string()
        } else {
            names.join(", ")
        };
        if !confirmed(action, &what) {
            errln!(
                "cronos-secrets: error: not confirmed: nothing was changed\n  hint: pass --yes (required when stdin is not a terminal: cron, CI)"
            );
            return Ok(1);
        }
    }
    let request = Request {
        all: args.all,
        names,
        backend: args.backend.map(backend_kind),
        due_only: args.due,
        action,
        then: args.then,
        timeout: settings.timeout,
    };
    block_on(rotate::rotate(config, env, request))
}

/// Asks on the terminal; without one, there is nobody to ask.
fn confirmed(action: Action, what: &str) -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return false;
    }
    let verb = match action {
        Action::Resume => "Complete the unfinished rotation of",
        Action::Abort => "Abort the unfinished rotation of",
        Action::Retire => "Drop the previous value of",
        Action::Setup { .. } => "Create the login roles and the group (strategy: alternating) for",
        _ => "Rotate",
    };
    // A prompt nobody can read is dropped, not a panic (see crate::stderr).
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{verb} {what}? [y/N] ").and_then(|()| stderr.flush());
    drop(stderr);
    let mut answer = String::new();
    if stdin.lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
}

/// A usage error of `rotate`, shown with rotate's own usage line (not the top level's).
fn usage(message: &str) -> ! {
    use clap::CommandFactory;
    let mut cli = crate::cli::Cli::command();
    // Building sets each subcommand's bin name ("cronos-secrets rotate") for its usage line.
    cli.build();
    let rotate = cli
        .find_subcommand_mut("rotate")
        .expect("rotate is a subcommand");
    rotate
        .error(clap::error::ErrorKind::MissingRequiredArgument, message)
        .exit()
}

pub(super) fn backend_kind(backend: RotateBackend) -> BackendKind {
    match backend {
        RotateBackend::Env => BackendKind::Env,
        RotateBackend::Vault => BackendKind::Vault,
        RotateBackend::AwsSecretsManager => BackendKind::AwsSecretsManager,
        RotateBackend::AzureKeyVault => BackendKind::AzureKeyVault,
    }
}
