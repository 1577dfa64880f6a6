//! `render TEMPLATE`: the template with the launch's resolved values, to stdout or a file.

use crate::cli::RenderArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::exec::ChildEnvOptions;
use crate::launch::{self, LaunchSettings};
use crate::output;
use crate::template::{self, LaunchVariables, Template};

pub fn render(
    settings: &LaunchSettings,
    env: Environment,
    args: &RenderArgs,
) -> Result<i32, Error> {
    if args.output.as_deref().is_none_or(output::is_stdout) {
        output::refuse_terminal_stdout(
            &args.template.display().to_string(),
            args.force,
            "write it to a file with -o FILE, pipe it, or pass --force",
        )?;
    }
    let working_dir = super::working_dir()?;
    let prepared = launch::prepare(settings, env, &working_dir)?;
    let variables = LaunchVariables {
        plan: &prepared.plan,
        env: &prepared.env,
        options: ChildEnvOptions::default(),
    };
    let template = Template::load(&args.template, &working_dir, &variables)?;
    if args.watch.watch {
        return super::watch::render(settings, prepared, args, template);
    }
    let templates = vec![template];
    let ready = launch::resolve_for_program(&prepared, settings, &template::extras_of(&templates))?;
    let rendered = template::render_all(&templates, ready.extras).remove(0);
    output::write_to(args.output.as_deref(), rendered.expose(), args.mode)?;
    Ok(0)
}
