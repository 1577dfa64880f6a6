//! `doctor`: the checklist's rows, printed in the chosen format. Exit 0 when nothing fails
//! (with `--strict`, nothing unknown either), 1 otherwise.

use crate::cli::{DoctorArgs, DoctorFormat};
use crate::doctor::{self, Format, Request};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::LaunchSettings;
use crate::stdout;

pub fn doctor(
    settings: &LaunchSettings,
    env: Environment,
    args: &DoctorArgs,
    audit_log: Option<&std::path::Path>,
) -> Result<i32, Error> {
    let cwd = super::working_dir()?;
    let rows = doctor::examine(Request {
        settings,
        env,
        cwd: &cwd,
        audit_log,
    })?;
    let passed = doctor::passed(&rows, settings.strict);
    let format = match args.format {
        DoctorFormat::Text => Format::Text,
        DoctorFormat::Json => Format::Json,
        DoctorFormat::Markdown => Format::Markdown,
    };
    stdout::write(doctor::write(format, &rows, passed, settings.strict).as_bytes())?;
    Ok(if passed { 0 } else { 1 })
}
