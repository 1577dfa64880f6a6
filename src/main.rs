use clap::Parser;

fn main() {
    let cli = cronos_secrets::cli::Cli::parse();
    let code = match cronos_secrets::commands::dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cronos-secrets: error: {error}");
            error.exit_code()
        }
    };
    std::process::exit(code);
}
