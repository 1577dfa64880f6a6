//! `install DIR`: copy this binary into DIR, for the Kubernetes init container that shares it
//! with the app's container (the image is `FROM scratch`: there is no `cp` to do it).

use std::path::PathBuf;

use crate::cli::InstallArgs;
use crate::error::Error;
use crate::output;
use crate::problem::Problem;

pub fn install(args: &InstallArgs) -> Result<i32, Error> {
    let executable = std::env::current_exe()
        .and_then(std::fs::read)
        .map_err(|error| {
            Problem::new("install", format!("cannot read this executable: {error}"))
        })?;
    let destination: PathBuf = if args.destination.is_dir() {
        args.destination.join("cronos-secrets")
    } else {
        args.destination.clone()
    };
    output::write_atomically(&destination, &executable, 0o755).map_err(Problem::from)?;
    eprintln!("cronos-secrets: installed {}", destination.display());
    Ok(0)
}
