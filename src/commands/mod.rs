//! One file per subcommand: glue between the CLI and the library.

mod backup;
mod check;
mod doctor;
mod export;
mod generate;
mod get;
mod install;
mod man_and_completions;
mod migrate;
mod policy;
mod render;
mod restore;
mod rotate;
mod run;
mod scan;
mod set;
mod watch;

use std::path::PathBuf;

use clap::CommandFactory;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config;
use crate::env_vars::{self, Environment};
use crate::error::Error;
use crate::launch::LaunchSettings;
use crate::logging::{self, LogSettings};
use crate::plan::EnvFiles;
use crate::problem::Problem;

/// Runs a parsed command line; the `Ok` value is the exit code.
pub fn dispatch(cli: Cli) -> Result<i32, Error> {
    crate::interrupt::exit_on_terminating_signals();
    if let Some(kind) = cli.generate {
        if cli.command.is_some() {
            Cli::command()
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    "--generate takes no command",
                )
                .exit();
        }
        return man_and_completions::print(kind);
    }
    let Some(command) = cli.command else {
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingSubcommand,
                "a command is required: run, check, render, export, get, set, generate, install, scan, rotate, policy, doctor, backup, restore or migrate",
            )
            .exit();
    };
    let env = Environment::capture();
    let global = &cli.global;
    let audit_log = global
        .audit_log
        .clone()
        .or_else(|| reads_secrets(&command).then(|| configured_audit_log(global, &env))?);
    logging::init(&LogSettings {
        verbose: global.verbose,
        quiet: global.quiet,
        format: global.log_format,
        audit_log: audit_log.as_deref(),
        directives: env.get_str(env_vars::RUST_LOG),
        audit_by_default: audits_by_default(&command),
    })?;
    let settings = launch_settings(global);
    match command {
        Command::Run(args) => {
            let settings = LaunchSettings {
                keep_launcher_env: args.keep_launcher_env,
                ..settings
            };
            run::run(&settings, env, args)
        }
        Command::Render(args) => render::render(&settings, env, &args),
        Command::Export(args) => export::export(&settings, env, &args),
        Command::Check(args) => check::check(&settings, env, &args),
        Command::Doctor(args) => doctor::doctor(&settings, env, &args, global.audit_log.as_deref()),
        Command::Get(args) => get::get(&settings, env, &args),
        Command::Set(args) => set::set(&settings, env, &args),
        Command::Generate(args) => generate::generate(&args),
        Command::Install(args) => install::install(&args),
        Command::Scan(args) => scan::scan(&settings, env, &args),
        Command::Rotate(args) => rotate::rotate(&settings, env, args),
        Command::Policy(args) => policy::policy(&settings, env, &args),
        Command::Backup(args) => backup::backup(&settings, env, &args),
        Command::Restore(args) => restore::restore(&settings, env, &args),
        Command::Migrate(args) => migrate::migrate(&settings, env, &args),
    }
}

/// The config's `audit_log` (or `CRONOS_SECRETS_AUDIT_LOG`), read before logging starts so
/// that the first audit event goes there; a config that cannot be read is reported by the
/// command itself, which reads it again.
fn configured_audit_log(global: &GlobalArgs, env: &Environment) -> Option<PathBuf> {
    let path = config::locate(global.config.as_deref(), env);
    config::load(path.as_deref(), env).ok()?.audit_log
}

/// Whether a command reads or writes secrets, and so writes audit events (the others need
/// no audit log, nor the config read early to find one).
fn reads_secrets(command: &Command) -> bool {
    !matches!(
        command,
        Command::Generate(_) | Command::Install(_) | Command::Scan(_) | Command::Policy(_)
    )
}

/// Whether a command's audit events reach stderr without `-v`: not for those whose output
/// already is what was read (see [`LogSettings::audit_by_default`]). `render --watch` is a
/// resident sidecar, whose stderr is its log, like `run`'s.
fn audits_by_default(command: &Command) -> bool {
    match command {
        Command::Check(_) | Command::Get(_) | Command::Export(_) | Command::Doctor(_) => false,
        Command::Render(args) => args.watch.watch,
        _ => true,
    }
}

fn launch_settings(global: &GlobalArgs) -> LaunchSettings {
    let env_files = if global.no_env_file {
        EnvFiles::Skip
    } else if global.env_files.is_empty() {
        EnvFiles::Default
    } else {
        EnvFiles::Explicit(global.env_files.clone())
    };
    LaunchSettings {
        config_path: global.config.clone(),
        env_files,
        override_env: global.override_env,
        strict: global.strict,
        timeout: global.timeout,
        jitter: global.jitter,
        revoke_token: global.revoke_token,
        keep_launcher_env: false,
        resolve_inherited: !global.no_resolve_env,
    }
}

fn working_dir() -> Result<PathBuf, Problem> {
    std::env::current_dir().map_err(|error| {
        Problem::new("working directory", format!("cannot read it: {error}"))
            .with_hint("run cronos-secrets from an existing directory")
    })
}
