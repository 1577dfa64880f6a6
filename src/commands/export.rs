//! `export`: the resolved set in a format other tools read.

use crate::cli::{ExportArgs, ExportFormat};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::export;
use crate::launch::{self, LaunchSettings};
use crate::output;
use crate::problem::Problem;

pub fn export(
    settings: &LaunchSettings,
    env: Environment,
    args: &ExportArgs,
) -> Result<i32, Error> {
    if args.output.as_deref().is_none_or(output::is_stdout) {
        output::refuse_terminal_stdout(
            "export",
            args.force,
            "write it to a file with -o FILE, pipe it, eval it, or pass --force",
        )?;
    }
    let prepared = launch::prepare(settings, env, &super::working_dir()?)?;
    let ready = launch::resolve_for_program(&prepared, settings, &[])?;
    let entries = export::exported_set(&prepared.plan, &prepared.env, ready.values);
    let written = match args.format {
        ExportFormat::Dotenv => export::dotenv(&entries),
        ExportFormat::Json => export::json(&entries),
        ExportFormat::Shell => export::shell(&entries),
        ExportFormat::K8sSecret => export::k8s_secret(&entries, &args.name),
    }
    .map_err(|error| Problem::new("export", error.to_string()).with_hint(error.hint()))?;
    output::write_to(args.output.as_deref(), written.expose(), args.mode)?;
    Ok(0)
}
