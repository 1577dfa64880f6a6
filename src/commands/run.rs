//! `run`: resolve, validate, exec.

use crate::cli::RunArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::exec::{self, ChildEnvOptions};
use crate::launch::{self, LaunchSettings};

pub fn run(settings: &LaunchSettings, env: Environment, args: RunArgs) -> Result<i32, Error> {
    let prepared = launch::prepare(settings, env, &super::working_dir()?)?;
    let outcome = launch::resolve_and_validate(&prepared, settings)?;
    let errors = launch::finding_problems(outcome.errors());
    if !errors.is_empty() {
        return Err(Error::Problems(errors));
    }
    for warning in launch::finding_problems(outcome.warnings()) {
        tracing::warn!("{warning}");
    }
    let resolved: Vec<_> = outcome
        .resolved
        .into_iter()
        .filter_map(|var| Some((var.planned.name, var.value.ok()?)))
        .collect();
    let child_env = exec::child_environment(
        &prepared.env,
        &resolved,
        &prepared.plan.inherited,
        ChildEnvOptions {
            pristine: args.pristine,
            keep_launcher_env: args.keep_launcher_env,
        },
    );
    let (program, program_args) = args
        .command
        .split_first()
        .expect("clap requires at least the program");
    tracing::debug!(program = %program.to_string_lossy(), variables = resolved.len(), "exec");
    Err(exec::exec(program, program_args, &child_env).into())
}
