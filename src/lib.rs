//! cronos-secrets: the CRONOS AI secrets manager as an exec wrapper, and as a library.
//!
//! ```no_run
//! let db_password = cronos_secrets::get_secret("database_password")?;
//! # Ok::<(), cronos_secrets::Error>(())
//! ```

pub mod backend;
pub mod bounded;
pub mod cli;
pub mod commands;
pub mod config;
pub mod duration;
pub mod env_vars;
pub mod envfile;
pub mod error;
pub mod exec;
pub mod expand;
pub mod export;
pub mod interrupt;
pub mod launch;
pub mod logging;
pub mod output;
pub mod placeholder;
pub mod plan;
pub mod problem;
pub mod random;
pub mod reference;
pub mod resolve;
pub mod scan;
pub mod schema;
pub mod secret;
pub mod suggest;
pub mod template;
#[cfg(test)]
mod test_inputs;
pub mod validate;

pub mod api;

pub use api::{SecretsManager, get_secret};
pub use error::Error;
pub use problem::Problem;
pub use secret::SecretString;
