//! What the user may type. Doc comments are the help text; nothing here has behaviour.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::duration::parse_wait;
use crate::logging::LogFormat;
use crate::output::parse_mode;
use crate::random::Encoding;

mod backup;
pub use backup::{BackupArgs, MigrateArgs, PassphraseArgs, RestoreArgs, TargetArgs, TargetBackend};

/// Put secrets into a program's environment, then get out of the way.
///
/// Reads the config (config/cronos_ai.production.yaml) and env files (.env.production), resolves
/// the secret references in them (secret://, env://, file://, vault://, aws-sm://, azure-kv://),
/// validates the CRONOS AI required secrets, and execs the program with them in its environment
/// only: never on disk, in argv or in a log.
#[derive(Debug, Parser)]
#[command(name = "cronos-secrets", version, max_term_width = 100)]
#[command(after_help = "Examples:\n  \
    cronos-secrets run -- python -m cronos_ai.server\n  \
    cronos-secrets check --env-file .env.production\n  \
    cronos-secrets generate --length 64 --encoding base64url\n\n\
    Exit codes: 0 success; 1 check found problems, scan found a secret, rotate refused or a\n\
    step failed, rotate --status found a secret overdue or pending, restore or migrate refused\n\
    a secret, doctor found a row failing; 2 usage error; 125 cronos-secrets failed (config,\n\
    resolution, validation, backend); 126 program not executable; 127 program not found;\n\
    otherwise (run) the program's own status.")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Print the man page or a shell's completions, generated from this definition, and exit
    /// (e.g. --generate complete-bash > /usr/share/bash-completion/completions/cronos-secrets)
    #[arg(long, value_enum, value_name = "KIND")]
    pub generate: Option<Generate>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `--generate` prints (ripgrep's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    /// The man page, in roff
    Man,
    CompleteBash,
    CompleteZsh,
    CompleteFish,
    CompletePowershell,
    CompleteElvish,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Config file [default: $CRONOS_SECRETS_CONFIG, else config/cronos_ai.$CRONOS_AI_ENV.yaml if it exists, else built-in]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Env file to read (repeatable; a later file wins) [default: .env.$CRONOS_AI_ENV if it exists]
    #[arg(long = "env-file", global = true, value_name = "FILE")]
    pub env_files: Vec<PathBuf>,

    /// Read no env file, not even the default one
    #[arg(long, global = true, conflicts_with = "env_files")]
    pub no_env_file: bool,

    /// Let env files win over the launcher's environment (by default the environment wins)
    #[arg(long = "override", global = true)]
    pub override_env: bool,

    /// Treat weak-secret warnings as errors (doctor: an unknown row fails too)
    #[arg(long, global = true)]
    pub strict: bool,

    /// Deadline for fetching all secrets: 30s, 2m, 500ms; a bare number is seconds
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Sleep a random time up to DURATION before the first request to a secrets server, so a
    /// rollout of many pods does not reach Vault in the same second (e.g. 5s)
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_timeout)]
    pub jitter: Option<Duration>,

    /// Resolve no reference in inherited environment variables: pass them byte for byte
    ///
    /// By default an inherited value is resolved when it is unambiguously a secret reference
    /// (secret://, vault://, aws-sm://, azure-kv://, a Secrets Manager ARN, or a ${scheme://…}
    /// placeholder), or when the variable is a declared secret (the required secrets and their
    /// aliases), whose env:// and file:// values are resolved too.
    #[arg(long, global = true)]
    pub no_resolve_env: bool,

    /// Revoke the Vault token obtained by login once the secrets are read, before exec
    #[arg(long, global = true)]
    pub revoke_token: bool,

    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors on stderr; no audit events there
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Format of log lines on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Append audit events (one per secret read: name, source, location; never a value) to FILE as JSON lines, instead of stderr
    #[arg(long, global = true, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve and validate the secrets, then exec PROGRAM with them in its environment
    ///
    /// The launcher becomes the program (same PID; signals reach it directly; its exit status is
    /// the exit status). Nothing is started unless every required secret resolved and validated.
    #[command(after_help = "Examples:\n  \
        cronos-secrets run -- python -m cronos_ai.server\n  \
        cronos-secrets run --env-file .env.production --pristine -- ./server --port 8080\n  \
        cronos-secrets run --render app.yaml.tmpl:/run/app/app.yaml -- ./server\n  \
        ENTRYPOINT [\"cronos-secrets\", \"run\", \"--\"]   (Dockerfile)")]
    Run(RunArgs),

    /// Render a config template with the resolved secrets, to stdout or to a private file
    ///
    /// The template is any text: `${VAR}`, `${VAR:-default}` and `${secret://…}` (or any other
    /// reference) are replaced; `$$` is a literal `$`; a bare `$NAME` and everything else are
    /// copied byte for byte. `${VAR}` is a variable the program of `run` would get. The whole
    /// launch resolves and validates first; nothing is written unless everything resolved.
    #[command(after_help = "Examples:\n  \
        cronos-secrets render templates/cronos_ai.production.yaml -o config/cronos_ai.production.yaml\n  \
        cronos-secrets render templates/kubernetes/secret.yaml | kubectl apply -f -\n  \
        cronos-secrets render app.conf.tmpl -o /run/app/app.conf --mode 0640")]
    Render(RenderArgs),

    /// Write the resolved variables as dotenv, JSON, shell or a Kubernetes Secret
    ///
    /// The required secrets and every env-file entry (not the rest of the environment), each
    /// quoted to read back exactly. Written to stdout, or to a private file with -o.
    #[command(after_help = "Examples:\n  \
        vars=$(cronos-secrets --env-file .env.development export --format shell) || exit 1\n  \
        eval \"$vars\"    # two lines: eval \"$(…)\" hides a failure\n  \
        cronos-secrets export --format dotenv -o /run/app/.env\n  \
        cronos-secrets export --format k8s-secret --name cronos-ai-secrets | kubectl apply -f -")]
    Export(ExportArgs),

    /// Resolve and validate without starting anything; never prints a value
    ///
    /// One row per variable: name, where it came from, length, status. Exit 0 when all is
    /// well, 1 otherwise.
    #[command(after_help = "Examples:\n  \
        cronos-secrets check\n  \
        cronos-secrets check --format json --strict\n  \
        cronos-secrets check --plan   (fetches nothing: which variable comes from where)")]
    Check(CheckArgs),

    /// Check the guide's production checklist: one row per item, pass, fail (with the fix) or
    /// unknown (with what would prove it)
    ///
    /// Scans the tracked files, runs the launch as `check` does, asks the secrets manager for
    /// each secret's rotation schedule (and Vault for its audit devices), and looks at the
    /// pre-commit hook, the newest backup, the env files' git status and modes, the audit log,
    /// the alert rules and the recovery runbook that the config's `checklist:` names. Exit 0
    /// when nothing fails, 1 otherwise; with --strict an unknown row fails too.
    #[command(after_help = "Examples:\n  \
        cronos-secrets doctor\n  \
        cronos-secrets doctor --strict --format json\n  \
        cronos-secrets doctor --format markdown > doctor.md   (a pull-request comment)")]
    Doctor(DoctorArgs),

    /// Print one secret's value to stdout, for scripts (exact bytes, no newline added)
    #[command(after_help = "Examples:\n  \
        DB_PASSWORD=$(cronos-secrets get database_password)\n  \
        cronos-secrets get vault://secret/cronos-ai/production/jwt_secret#value | sha256sum")]
    Get(GetArgs),

    /// Write a new version of a secret, reading the value from stdin (never from argv)
    #[command(after_help = "Examples:\n  \
        cronos-secrets generate | cronos-secrets set jwt_secret\n  \
        cronos-secrets set --create api_key < new-key.txt")]
    Set(SetArgs),

    /// Print a strong random secret from the operating system's CSPRNG
    #[command(after_help = "Examples:\n  \
        cronos-secrets generate                       (like openssl rand -base64 32)\n  \
        cronos-secrets generate --encoding base64url  (like secrets.token_urlsafe(32))\n  \
        cronos-secrets generate --length 64 --encoding alnum")]
    Generate(GenerateArgs),

    /// Copy this binary into a directory, for a Kubernetes init container (the image has no cp)
    #[command(after_help = "Examples:\n  \
        cronos-secrets install /cronos/bin   (then: /cronos/bin/cronos-secrets run -- app)")]
    Install(InstallArgs),

    /// Find literal secrets in files before git records them (the pre-commit hook runs this)
    ///
    /// Knows this tool's syntax: a reference (secret://, vault://, aws-sm://, azure-kv://, an
    /// ARN, env://, file://) or a placeholder (${VAR}, ${VAR:?msg}, <from-secrets-manager>) is
    /// never a finding; ${VAR:-default} is judged by its default; a literal for a declared secret
    /// (the required secrets, their aliases, the config's secrets:) always is. Also: AWS keys,
    /// private keys, passwords in URLs, JWTs, GitHub/Slack/Stripe/Google/npm tokens, and
    /// random-looking values of secret-named keys, in comments too. Prints file, line, column,
    /// category, rule and a fingerprint, never the value. Exit 0 clean, 1 findings, 2 usage.
    ///
    /// Allow one line with a `# cronos-secrets: allow` comment; accept the current findings with
    /// --update-baseline (keyed by file, rule and value fingerprint, not by line).
    #[command(after_help = "Examples:\n  \
        cronos-secrets scan                       (the work tree's tracked files)\n  \
        cronos-secrets scan --staged              (what the next commit would record)\n  \
        cronos-secrets scan deploy/ .env.production --format sarif > scan.sarif\n  \
        cronos-secrets scan --live --env-file .env.production   (also the current values)\n  \
        cronos-secrets scan --update-baseline     (accept today's findings)")]
    Scan(ScanArgs),

    /// Rotate secrets crash-safely: a pending slot, check-and-set promote, resumable after kill -9
    ///
    /// Each rotation generates a new value, stores it in a pending slot that launches never
    /// read (AWS: a version staged AWSPENDING; Vault KV v2: NAME.pending; Key Vault:
    /// NAME-pending), makes it current in one check-and-set step, then removes the slot. A run
    /// killed at any point leaves the slot: a later rotation refuses, naming it, until
    /// --resume completes it with the pending value or --abort removes it. The database and
    /// Redis passwords are refused: this build cannot change them where they are checked.
    #[command(after_help = "Examples:\n  \
        cronos-secrets rotate --all --dry-run\n  \
        cronos-secrets rotate --jwt --api-key --backend vault --yes\n  \
        cronos-secrets rotate --status              (exit 1 when something is overdue: for cron and CI)\n  \
        cronos-secrets rotate --all --due --yes --then kubectl rollout restart deployment/cronos-ai\n  \
        cronos-secrets rotate --resume jwt_secret   (after a crash: finish with the pending value)")]
    Rotate(RotateArgs),

    /// Print the least-privilege access policy for exactly the secrets this deployment reads
    ///
    /// The secrets are those a launch reads (the required-secrets table, the config's
    /// secrets:, every reference in the env files and --template files, previous values
    /// included), or for --for rotate those rotate touches; each named exactly as the backend
    /// reads it. Vault: an HCL (or JSON) policy; AWS: an IAM policy document; Key Vault:
    /// `az role assignment create` lines at each secret's scope. Notes (what the policy could
    /// not know) go to stderr.
    #[command(after_help = "Examples:\n  \
        cronos-secrets policy --for run > cronos-ai.hcl && bao policy write cronos-ai cronos-ai.hcl\n  \
        cronos-secrets policy --for watch --template app.yaml.tmpl\n  \
        cronos-secrets policy --for rotate --backend aws_secrets_manager --aws-account 123456789012\n  \
        cronos-secrets policy --for run --backend azure_key_vault --assignee \"$PRINCIPAL_ID\" | sh")]
    Policy(PolicyArgs),

    /// Write every secret the deployment uses into one age-encrypted file
    ///
    /// The required-secrets table, and every secret-store reference in the env files, the
    /// environment and the templates given, with version, date and kept previous value. The
    /// plaintext never touches the disk. See docs/backup.md for the recovery runbook.
    #[command(after_help = "Examples:\n  \
        cronos-secrets backup -o backup.age --recipient age1…\n  \
        cronos-secrets backup -o backup.age --recipients-file ops-keys.txt --armor\n  \
        cronos-secrets backup -o backup.age --passphrase-file /run/secrets/backup-passphrase")]
    Backup(BackupArgs),

    /// Write a backup's secrets back, through set's checks; idempotent
    ///
    /// Every value is checked against the target's table before the first write; a secret
    /// already equal gets no new version, a missing one is created. Reports created, updated,
    /// unchanged or refused per secret; exit 1 when one was refused.
    #[command(after_help = "Examples:\n  \
        cronos-secrets restore backup.age --identity backup.key --dry-run\n  \
        cronos-secrets restore backup.age --identity backup.key\n  \
        cronos-secrets restore backup.age --identity backup.key --to-config config/aws.yaml --only jwt_secret")]
    Restore(RestoreArgs),

    /// Copy the deployment's secrets into another backend: a backup and a restore, in memory
    #[command(after_help = "Examples:\n  \
        cronos-secrets --env-file .env.production migrate --to-config config/cronos_ai.production.yaml --dry-run\n  \
        VAULT_ADDR=… VAULT_TOKEN=… cronos-secrets --env-file .env.production migrate --backend vault")]
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Start the program with an empty environment plus the resolved entries
    #[arg(long)]
    pub pristine: bool,

    /// Also pass the launcher's credentials (VAULT_TOKEN, VAULT_ROLE_ID, VAULT_SECRET_ID, AZURE_CLIENT_SECRET) and CRONOS_SECRETS_* to the program
    #[arg(long)]
    pub keep_launcher_env: bool,

    /// Render template SRC to file DEST (mode 0600) before starting the program; repeatable
    #[arg(long = "render", value_name = "SRC:DEST", value_parser = parse_render_pair)]
    pub render: Vec<(PathBuf, PathBuf)>,

    #[command(flatten)]
    pub watch: RunWatchArgs,

    /// The program and its arguments, after `--`
    // No allow_hyphen_values: before `--` (or the program's name) an unknown option such as
    // `--unknown-flag` is a usage error, not a program to execute.
    #[arg(required = true, trailing_var_arg = true, value_name = "PROGRAM")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The template file; `file://` references in it are relative to its directory
    pub template: PathBuf,

    /// Write to FILE atomically (a temporary file in the same directory, then renamed) instead of stdout; `-` is stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Permission bits of the --output file
    #[arg(long, value_name = "MODE", default_value = "0600", value_parser = parse_mode)]
    pub mode: u32,

    /// Print even when stdout is a terminal
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub watch: RenderWatchArgs,
}

/// `run --watch`: supervise the program and restart it on a validated change.
#[derive(Debug, Args)]
#[command(next_help_heading = "Watch (supervise mode)")]
pub struct RunWatchArgs {
    /// Stay up as the program's parent (PID 1 in a container): forward signals to its process
    /// group, reap zombies, exit with its status, and deliver changed secrets with --on-change
    /// once they resolved and validated in full
    #[arg(long)]
    pub watch: bool,

    #[command(flatten)]
    pub timing: WatchTimingArgs,

    #[command(flatten)]
    pub metrics: WatchMetricsArgs,

    /// What a validated change does: restart, signal:SIG (files from --render rewritten first),
    /// exec:CMD (a hook with the new environment), none (log only)
    #[arg(long, value_name = "ACTION", default_value = "restart", value_parser = crate::supervise::OnChange::parse, requires = "watch")]
    pub on_change: crate::supervise::OnChange,

    /// Signal that asks the program to stop for a restart (nginx and php-fpm want QUIT)
    #[arg(long, value_name = "SIG", default_value = "TERM", value_parser = crate::supervise::parse_signal, requires = "watch")]
    pub stop_signal: nix::sys::signal::Signal,

    /// Time the program gets to stop for a restart before SIGKILL
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout, requires = "watch")]
    pub stop_timeout: Duration,

    /// At most N restarts per --restart-window; a change beyond waits (the program keeps its
    /// values) until the window allows one, and the wait is logged as an error
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..), requires = "watch")]
    pub max_restarts: u32,

    /// The window of --max-restarts
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_timeout, requires = "watch")]
    pub restart_window: Duration,
}

/// `render --watch`: keep the file current (a sidecar).
#[derive(Debug, Args)]
#[command(next_help_heading = "Watch (sidecar mode)")]
pub struct RenderWatchArgs {
    /// Stay up and rewrite --output (atomically) whenever the secrets change and validate in
    /// full; ends cleanly (0) on SIGTERM, SIGINT or SIGQUIT
    #[arg(long, requires = "output")]
    pub watch: bool,

    #[command(flatten)]
    pub timing: WatchTimingArgs,

    #[command(flatten)]
    pub metrics: WatchMetricsArgs,

    /// Write this file (empty) once the first render is complete: a readiness probe for
    /// Kubernetes native sidecars (`test -e FILE`)
    #[arg(long, value_name = "FILE", requires = "watch")]
    pub ready_file: Option<PathBuf>,

    /// After each rewrite, send --signal to the process whose pid FILE holds (a regular file;
    /// a pid above 1 whose process started before FILE was last written)
    #[arg(long, value_name = "FILE", requires = "watch")]
    pub signal_pidfile: Option<PathBuf>,

    /// The signal for --signal-pidfile
    #[arg(long, value_name = "SIG", default_value = "HUP", value_parser = crate::supervise::parse_signal, requires = "signal_pidfile")]
    pub signal: nix::sys::signal::Signal,

    /// After each rewrite, run CMD (split like a shell would, not run by one; without the
    /// secrets in its environment)
    #[arg(long = "exec", value_name = "CMD", requires = "watch")]
    pub exec: Option<String>,
}

/// How often to look and how long to wait, for both watch modes.
#[derive(Debug, Args)]
pub struct WatchTimingArgs {
    /// Time between polls of the secrets' versions (metadata only; values are read only when a
    /// version changed)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_interval, requires = "watch")]
    pub interval: Duration,

    /// Quiet period after a change before acting, so secrets rotated together (a user name and
    /// its password) cause one restart
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_timeout, requires = "watch")]
    pub debounce: Duration,

    /// Wait a random time up to DURATION before acting on a change, so instances do not all
    /// restart at once
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout, requires = "watch")]
    pub splay: Option<Duration>,
}

/// The watcher's metrics, for both watch modes.
#[derive(Debug, Args)]
pub struct WatchMetricsArgs {
    /// Rewrite FILE (atomically, mode 0644) after each poll with Prometheus metrics: last
    /// successful poll, poll failures, restarts, each secret's version id (never a value); put it
    /// in node exporter's textfile-collector directory, named FILE.prom
    #[arg(long, value_name = "FILE", requires = "watch")]
    pub metrics_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ExportFormat::Dotenv)]
    pub format: ExportFormat,

    /// Write to FILE atomically (a temporary file in the same directory, then renamed) instead of stdout; `-` is stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// metadata.name of the k8s-secret manifest
    #[arg(long, value_name = "NAME", default_value = "cronos-ai-secrets")]
    pub name: String,

    /// Permission bits of the --output file
    #[arg(long, value_name = "MODE", default_value = "0600", value_parser = parse_mode)]
    pub mode: u32,

    /// Print even when stdout is a terminal
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// KEY='value' lines, for --env-file, docker compose's env_file and `. ./file`
    Dotenv,
    /// One JSON object of strings
    Json,
    /// export KEY='value' lines, for eval
    Shell,
    /// A v1/Secret manifest with stringData, for kubectl apply and envFrom
    K8sSecret,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = DoctorFormat::Text)]
    pub format: DoctorFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    Text,
    Json,
    /// A table for a pull-request comment
    Markdown,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,

    /// Fetch nothing: show which variable would come from which source and location
    #[arg(long)]
    pub plan: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; a directory is walked, hidden files included, `.git/`
    /// skipped [default: the files git tracks under the current directory]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Scan the index, what the next commit records: the staged content of every added,
    /// changed, renamed or type-changed file (of the PATHs only, when given), not the work tree
    #[arg(long)]
    pub staged: bool,

    /// Output format (findings on stdout; the summary on stderr)
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,

    /// Accepted findings [default: .cronos-secrets-baseline.json at the top of the repository
    /// (or of the current directory with PATHs), when it exists]
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write every current finding to the baseline, accepting them, and exit 0
    #[arg(long)]
    pub update_baseline: bool,

    /// Also resolve the launch as `check` does and report any file holding one of the current
    /// secret values, whatever its shape (compared in memory; values of 8 characters or more)
    #[arg(long)]
    pub live: bool,

    /// Skip files larger than this many bytes (counted in the summary and named with
    /// --verbose, as are binary files)
    #[arg(long, value_name = "BYTES", default_value_t = crate::scan::DEFAULT_MAX_FILE_BYTES)]
    pub max_file_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning UIs
    Sarif,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Secret name (secret://NAME in the configured backend) or any reference
    pub name: String,

    /// Print even when stdout is a terminal
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Secret name (secret://NAME in the configured backend) or a vault:// or aws-sm:// reference
    pub name: String,

    /// Create the secret if it does not exist yet (AWS Secrets Manager)
    #[arg(long)]
    pub create: bool,

    /// Store a value that is well known to be weak (a default, one repeated character); a
    /// value too short, empty or holding NUL is never stored
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").args(["status", "dry_run", "resume", "abort", "retire"])))]
pub struct RotateArgs {
    /// Secret names of the required-secrets table (jwt_secret, api_key, …)
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Every secret of the required-secrets table
    #[arg(long)]
    pub all: bool,

    /// The database password (database_password)
    #[arg(long)]
    pub database: bool,

    /// The Redis password (redis_password)
    #[arg(long)]
    pub redis: bool,

    /// The JWT secret (jwt_secret)
    #[arg(long)]
    pub jwt: bool,

    /// The API key (api_key)
    #[arg(long)]
    pub api_key: bool,

    /// The encryption key (encryption_key)
    #[arg(long)]
    pub encryption_key: bool,

    /// Rotate in this backend instead of the configured one
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<RotateBackend>,

    /// Only the selected secrets past their rotate_every (or with an unfinished rotation)
    #[arg(long)]
    pub due: bool,

    /// Print what would be done (versions, ages, due dates, steps) and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// A table of name, backend, version, last rotated, due date and state (all secrets unless
    /// some are selected); exit 1 when one is overdue or has an unfinished rotation
    #[arg(long)]
    pub status: bool,

    /// Output format of --status; prometheus writes node exporter textfile-collector metrics
    /// (age, due time, pending and overdue per secret) and exits 0 whenever it printed them
    #[arg(long, value_enum, default_value_t = crate::rotate::StatusFormat::Table, requires = "status")]
    pub format: crate::rotate::StatusFormat,

    /// Complete the unfinished rotation of the selected secrets with its pending value
    #[arg(long)]
    pub resume: bool,

    /// Remove the pending slot of the selected secrets' unfinished rotation, keeping the current value
    #[arg(long)]
    pub abort: bool,

    /// Drop the selected secrets' previous value, so that launches no longer get
    /// <VARIABLE>_PREVIOUS (the JWT secret's and API key's also end after their grace period;
    /// the encryption key's only here, once the data is re-encrypted)
    #[arg(long)]
    pub retire: bool,

    /// With --database and rotation.database.strategy: alternating, create the second login
    /// role and the group role that holds the privileges (idempotent; sets no password; with
    /// --dry-run, print the SQL)
    #[arg(long, requires = "database", conflicts_with_all = ["status", "resume", "abort", "retire"])]
    pub setup: bool,

    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(short, long)]
    pub yes: bool,

    /// After a successful rotation run CMD (the rest of the line, without a shell), with
    /// CRONOS_SECRETS_ROTATED set to the rotated names, comma-separated
    #[arg(long, value_name = "CMD", num_args = 1.., allow_hyphen_values = true)]
    pub then: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// What the identity does: run (read once), watch (read and poll: run --watch, render
    /// --watch), rotate (every rotate mode), backup (values, previous values, dates)
    #[arg(long = "for", value_name = "PURPOSE", default_value = "run", value_parser = crate::policy::Purpose::parse)]
    pub purpose: crate::policy::Purpose,

    /// The secrets manager whose policy to print [default: the configured backend]
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<RotateBackend>,

    /// Policy language [default: hcl for vault, json for aws_secrets_manager, az for azure_key_vault]
    #[arg(long, value_enum)]
    pub format: Option<crate::policy::Format>,

    /// A template whose references the deployment also reads (as run --render and render
    /// read them); repeatable
    #[arg(long = "template", value_name = "FILE")]
    pub templates: Vec<PathBuf>,

    /// AWS: the account id in the secrets' ARNs [default: any account, `*`]
    #[arg(long, value_name = "ID", value_parser = crate::policy::parse_account)]
    pub aws_account: Option<String>,

    /// AWS: a customer-managed KMS key (ARN) the secrets are encrypted with: adds its kms:
    /// grants, through Secrets Manager only; repeatable
    #[arg(long = "kms-key", value_name = "ARN", value_parser = crate::policy::parse_kms_key)]
    pub kms_keys: Vec<String>,

    /// Key Vault: the object id of the identity the roles are assigned to [default: $ASSIGNEE
    /// when the lines run]
    #[arg(long, value_name = "OBJECT-ID")]
    pub assignee: Option<String>,
}

/// Backends `rotate --backend` and `policy --backend` accept (the config's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum RotateBackend {
    Env,
    Vault,
    AwsSecretsManager,
    AzureKeyVault,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Directory to copy cronos-secrets into, as DIR/cronos-secrets with mode 0755; created when new
    pub destination: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of characters to print
    #[arg(long, default_value_t = 44, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub length: u16,

    /// Alphabet of the secret
    #[arg(long, value_enum, default_value_t = Encoding::Base64)]
    pub encoding: Encoding,
}

fn parse_render_pair(text: &str) -> Result<(PathBuf, PathBuf), String> {
    match text.split_once(':') {
        Some((source, destination)) if !source.is_empty() && !destination.is_empty() => {
            Ok((PathBuf::from(source), PathBuf::from(destination)))
        }
        _ => Err(format!(
            "expected TEMPLATE:OUTPUT, such as app.yaml.tmpl:/run/app/app.yaml, found \"{text}\""
        )),
    }
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    parse_wait(text)
}

/// A poll interval: a wait, and not so short that the watcher would hammer the backends.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = parse_wait(text)?;
    if interval < Duration::from_millis(100) {
        return Err(format!(
            "{:?} is too short to poll at: use 100ms or more (the default is 60s)",
            text.trim()
        ));
    }
    Ok(interval)
}
