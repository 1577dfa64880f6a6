//! `--then CMD…`: the guide's `kubectl rollout restart deployment/cronos-ai`, run without a
//! shell after a successful rotation, with `CRONOS_SECRETS_ROTATED` naming (never holding) the
//! rotated secrets. The launcher's credentials stay out of its environment, as for `run`.

use std::ffi::OsString;
use std::process::Command;

use crate::env_vars::{Environment, is_launcher_variable};
use crate::stderr::errln;

pub const ROTATED: &str = "CRONOS_SECRETS_ROTATED";

/// Runs the command and waits; returns 0, or 1 when it could not start or failed (never its
/// own status, which might be 2, the usage-error code).
pub fn run(command: &[OsString], rotated: &[String], env: &Environment) -> i32 {
    let (program, args) = command.split_first().expect("clap requires a program");
    let mut child = Command::new(program);
    child.args(args).env_clear();
    for (name, value) in env.iter() {
        if !is_launcher_variable(name) {
            child.env(name, value);
        }
    }
    child.env(ROTATED, rotated.join(","));
    let shown = program.to_string_lossy();
    match child.status() {
        Ok(status) if status.success() => {
            errln!("cronos-secrets: --then {shown} succeeded");
            0
        }
        Ok(status) => {
            errln!(
                "cronos-secrets: error: --then {shown} failed ({status}); the rotation itself is complete\n  hint: run it again by hand"
            );
            1
        }
        Err(error) => {
            errln!(
                "cronos-secrets: error: --then {shown} could not start: {error}; the rotation itself is complete\n  hint: check the program's name and PATH"
            );
            1
        }
    }
}
