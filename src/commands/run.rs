//! `run`: resolve, validate, render `--render` templates, exec.

use crate::cli::RunArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::exec::{self, ChildEnvOptions};
use crate::launch::{self, LaunchSettings};
use crate::output::{self, PRIVATE_MODE};
use crate::problem::Problem;
use crate::template::{self, LaunchVariables, Template};

pub fn run(settings: &LaunchSettings, env: Environment, args: RunArgs) -> Result<i32, Error> {
    let working_dir = super::working_dir()?;
    let prepared = launch::prepare(settings, env, &working_dir)?;
    let options = ChildEnvOptions {
        pristine: args.pristine,
        keep_launcher_env: args.keep_launcher_env,
    };
    let templates = load_templates(&args, &prepared, options, &working_dir)?;
    if args.watch.watch {
        return super::watch::run(settings, prepared, args, templates, options);
    }
    // Templates' references join the launch's: one fetch batch for everything.
    let ready = launch::resolve_for_program(&prepared, settings, &template::extras_of(&templates))?;
    write_rendered(&args, &templates, ready.extras)?;
    let child_env = exec::child_environment(
        &prepared.env,
        &ready.values,
        &prepared.plan.inherited,
        options,
    );
    let (program, program_args) = args
        .command
        .split_first()
        .expect("clap requires at least the program");
    tracing::debug!(program = %program.to_string_lossy(), variables = ready.values.len(), "exec");
    Err(exec::exec(program, program_args, &child_env).into())
}

fn load_templates(
    args: &RunArgs,
    prepared: &launch::Prepared,
    options: ChildEnvOptions,
    working_dir: &std::path::Path,
) -> Result<Vec<Template>, Error> {
    let variables = LaunchVariables {
        plan: &prepared.plan,
        env: &prepared.env,
        options,
    };
    let sources = args.render.iter().map(|(source, _)| source.as_path());
    Ok(template::load_all(sources, working_dir, &variables)?)
}

/// Every file in place, or none: the program starts only when all are.
fn write_rendered(
    args: &RunArgs,
    templates: &[Template],
    values: Vec<crate::secret::SecretString>,
) -> Result<(), Problem> {
    let rendered = template::render_all(templates, values);
    let files = args
        .render
        .iter()
        .zip(&rendered)
        .map(|((_, destination), contents)| (destination.as_path(), contents.expose()));
    Ok(output::write_all_or_nothing(files, PRIVATE_MODE)?)
}
