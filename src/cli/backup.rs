//! The arguments of `backup`, `restore` and `migrate`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// How a backup is sealed or opened with a passphrase (never given in argv).
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct PassphraseArgs {
    /// Read the passphrase from FILE (its first trailing newline dropped); `<(pass show …)` works
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    /// Read the passphrase from the environment variable VAR
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,

    /// Ask for the passphrase on the terminal (not echoed)
    #[arg(long)]
    pub passphrase: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The encrypted backup file, written atomically with mode 0600 (never a symlink or device)
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,

    /// Encrypt to this age public key (age1…) or SSH public key; repeatable
    #[arg(long, value_name = "RECIPIENT")]
    pub recipient: Vec<String>,

    /// Encrypt to each recipient listed in FILE (one a line, # comments); repeatable
    #[arg(long, value_name = "FILE")]
    pub recipients_file: Vec<PathBuf>,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,

    /// Write ASCII-armored text (-----BEGIN AGE ENCRYPTED FILE-----) instead of binary
    #[arg(long)]
    pub armor: bool,

    /// A template whose references the deployment also uses; repeatable
    #[arg(long, value_name = "FILE")]
    pub template: Vec<PathBuf>,
}

/// Where restore and migrate write.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Write into the backend of this config file (its table checks the values)
    #[arg(long, value_name = "CONFIG", conflicts_with = "backend")]
    pub to_config: Option<PathBuf>,

    /// Write into this backend, its settings from the environment (VAULT_ADDR, AWS_REGION, …)
    #[arg(long, value_enum, value_name = "NAME")]
    pub backend: Option<TargetBackend>,

    /// Only these secrets (names as the backup lists them); repeatable or comma-separated
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Show what would be created, updated or left unchanged; write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Write values well known to be weak too, as set --force does (too short, empty or NUL never)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetBackend {
    Vault,
    // Spelled as the config's `backend:` values.
    #[value(name = "aws_secrets_manager")]
    AwsSecretsManager,
    #[value(name = "azure_key_vault")]
    AzureKeyVault,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file (binary or armored age)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// An age identity file (age-keygen's) or unencrypted SSH private key; repeatable
    #[arg(long, value_name = "KEY")]
    pub identity: Vec<PathBuf>,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,

    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Then rewrite FILE's entries of the migrated table secrets to VAR=secret://NAME (atomic; FILE.bak keeps the old one)
    #[arg(long, value_name = "FILE")]
    pub rewrite_env_file: Option<PathBuf>,

    /// A template whose references the deployment also uses; repeatable
    #[arg(long, value_name = "FILE")]
    pub template: Vec<PathBuf>,
}
