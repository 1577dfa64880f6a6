//! cronos-secrets: the CRONOS AI secrets manager as an exec wrapper, and as a library.
//!
//! ```no_run
//! let db_password = cronos_secrets::get_secret("database_password")?;
//! # Ok::<(), cronos_secrets::Error>(())
//! ```
//!
//! How a launch flows, module by module (each depends only on those before it):
//!
//! 1. `config`: the YAML file, `CRONOS_SECRETS_*` overrides and `${VAR}` → one `Config`
//!    (backend settings and the required-secrets table of `schema`).
//! 2. `envfile`: env files as docker compose reads them → entries with file and line.
//! 3. `placeholder` and `reference`: the one `${…}` grammar and the `scheme://` references,
//!    shared by env files, config values, templates and inherited values; `expand` turns
//!    them into text and references still to fetch.
//! 4. `plan`: which variable the program gets from where (precedence, aliases, inherited
//!    values), fetching nothing (`check --plan` stops here).
//! 5. `resolve`: every distinct reference fetched once, per `backend`, concurrently, under
//!    one deadline; all or nothing.
//! 6. `validate`: lengths, weak values, NUL, size, every problem at once.
//! 7. `exec`: the program's environment (launcher credentials stripped) and `execve`; or
//!    `template` / `export` / `output` write files instead.
//!
//! `launch` runs steps 1–6 for every command; `commands` holds one file per subcommand and
//! `cli` what the user may type.

// The config and references parse every backend's settings in every build (so a config that
// names a backend left out of this build gets a clear error, not a typo warning); a build
// without some backends leaves their settings unread.
#![cfg_attr(
    not(all(feature = "vault", feature = "aws", feature = "azure")),
    allow(dead_code)
)]

mod api;
mod backend;
mod backup;
mod bounded;
mod cli;
mod commands;
mod config;
mod doctor;
mod duration;
mod env_vars;
mod envfile;
mod error;
mod exec;
mod expand;
mod export;
#[doc(hidden)]
pub mod fuzzing;
mod inherited_signals;
mod interrupt;
mod launch;
mod logging;
mod loopback;
mod metrics;
mod output;
mod placeholder;
mod plan;
mod policy;
mod problem;
mod random;
mod reference;
mod resolve;
mod rotate;
mod runtime;
mod scan;
mod schema;
mod secret;
mod stderr;
mod stdout;
mod suggest;
mod supervise;
mod table;
mod template;
#[cfg(test)]
mod test_inputs;
mod tls;
mod untrusted_text;
mod validate;

pub use api::{Failure, FailureKind, SecretDetails, SecretRead, SecretsManager, get_secret};
pub use backend::Version;
pub use error::Error;
pub use logging::{AUDIT_TARGET, OWN_TARGET, audit_file_layer};
pub use problem::Problem;
pub use secret::SecretString;

/// The `cronos-secrets` command line: parses `std::env::args_os`, runs the command, and
/// returns the process's exit code (`run` returns only when the program could not start).
pub fn main_with_args() -> i32 {
    use clap::Parser;
    // Before any handler is installed: the program gets back what the launcher inherited.
    inherited_signals::record();
    let cli = cli::Cli::parse();
    // A line the reader never got is no error; a line that failed otherwise is (see stdout).
    let finished = commands::dispatch(cli)
        .and_then(|code| stdout::finish().map(|()| code).map_err(Error::from));
    match finished {
        Ok(code) => code,
        Err(error) => {
            stderr::errln!("cronos-secrets: error: {error}");
            error.exit_code()
        }
    }
}
