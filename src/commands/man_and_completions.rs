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
    if shell == Shell::Bash {
        text = repair_bash_subcommand_arms(&String::from_utf8_lossy(&text)).into_bytes();
    }
    stdout::write(&text)?;
    Ok(0)
}

/// clap_complete (4.6.12) names the bash `case` arms of a hyphenated binary's subcommands
/// `cronos__subcmd__secrets__subcmd__rotate`, while its loop over the typed words sets
/// `cronos__secrets__subcmd__rotate`: no arm matches, so nothing after a subcommand completes
/// (clap-rs/clap#6421, #6529). The arms get the name the loop sets; once clap_complete is
/// fixed, this replaces nothing and the test of completion after a subcommand still holds.
fn repair_bash_subcommand_arms(script: &str) -> String {
    script.replace(
        "cronos__subcmd__secrets__subcmd__",
        "cronos__secrets__subcmd__",
    )
}
