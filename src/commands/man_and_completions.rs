//! `--generate`: the man page and shell completions, from the one clap definition, so that
//! `--help`, the man page and completions cannot drift apart.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, Generate};
use crate::error::Error;
use crate::problem::Problem;
use crate::stdout;

pub fn print(kind: Generate) -> Result<i32, Error> {
    let mut command = Cli::command();
    // Rendered in memory first: clap_complete panics on a write error (`| head`).
    let mut text = Vec::new();
    let shell = match kind {
        Generate::Man => {
            clap_mangen::Man::new(command)
                .render(&mut text)
                .map_err(|error| Problem::new("man page", format!("cannot render: {error}")))?;
            stdout::write(&text)?;
            return Ok(0);
        }
        Generate::CompleteBash => Shell::Bash,
        Generate::CompleteZsh => Shell::Zsh,
        Generate::CompleteFish => Shell::Fish,
        Generate::CompletePowershell => Shell::PowerShell,
        Generate::CompleteElvish => Shell::Elvish,
    };
    clap_complete::generate(shell, &mut command, "cronos-secrets", &mut text);
    stdout::write(&text)?;
    Ok(0)
}
