//! `install DIR`: copy this binary into DIR, for the Kubernetes init container that shares it
//! with the app's container (the image is `FROM scratch`: there is no `cp` to do it).

use std::path::PathBuf;

use crate::cli::InstallArgs;
use crate::error::Error;
use crate::output;
use crate::problem::Problem;
use crate::stderr::errln;

pub fn install(args: &InstallArgs) -> Result<i32, Error> {
    let executable = std::env::current_exe()
        .and_then(std::fs::read)
        .map_err(|error| {
            Problem::new("install", format!("cannot read this executable: {error}"))
        })?;
    let directory = &args.destination;
    if !directory.exists() {
        // `install /cronos/bin` in an empty emptyDir: the directory, not a file named `bin`.
        std::fs::create_dir_all(directory).map_err(|error| {
            Problem::new(
                directory.display().to_string(),
                format!("cannot create the directory: {error}"),
            )
            .with_hint("choose a writable directory, such as an emptyDir volume's mount path")
        })?;
    } else if !directory.is_dir() {
        return Err(Problem::new(
            directory.display().to_string(),
            "not a directory: install copies cronos-secrets into a directory",
        )
        .with_hint("name the directory, e.g. cronos-secrets install /cronos/bin")
        .into());
    }
    let destination: PathBuf = directory.join("cronos-secrets");
    output::write_atomically(&destination, &executable, 0o755).map_err(Problem::from)?;
    errln!("cronos-secrets: installed {}", destination.display());
    Ok(0)
}
