//! A launch in a temporary directory, with files, environment and arguments, run as a user would.
#![allow(dead_code)] // each test binary uses a different part of this module

#[cfg(feature = "azure")]
pub mod azure;
pub mod connect_proxy;
pub mod deadline;
pub mod dispositions;
pub mod fake_http;
pub mod moto;
pub mod openbao;
pub mod pg_impostor;
pub mod postgres;
pub mod redis;
pub mod server;
pub mod tls;
pub mod tools;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The five secrets of the guide, long and strong enough to validate.
pub const DB_PASSWORD: &str = "planted-db-password-7fQ2xL9v";
pub const REDIS_PASSWORD: &str = "planted-redis-password-K3m8Zr";
pub const JWT_SECRET: &str = "planted-jwt-secret-9hT4wQ1cX6bN2mV8rL5pD3sF7gJ0kA";
pub const ENCRYPTION_KEY: &str = "planted-encryption-key-Yq2W8eR4tU6iO0pA3sD5fG7hJ9";
pub const API_KEY: &str = "planted-api-key-Zx1Cv3Bn5Mq7Wr9Et2Yu4Io6Pa8Sd0F";

pub const REQUIRED: [(&str, &str); 5] = [
    ("CRONOS_AI_DB_PASSWORD", DB_PASSWORD),
    ("CRONOS_AI_REDIS_PASSWORD", REDIS_PASSWORD),
    ("CRONOS_AI_JWT_SECRET", JWT_SECRET),
    ("CRONOS_AI_ENCRYPTION_KEY", ENCRYPTION_KEY),
    ("CRONOS_AI_API_KEY", API_KEY),
];

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cronos-secrets"))
}

pub struct Launch {
    pub dir: TempDir,
    env: BTreeMap<String, String>,
    args: Vec<String>,
}

impl Launch {
    /// A clean environment (PATH only, no cloud metadata probes) in a fresh directory.
    pub fn new() -> Launch {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = BTreeMap::new();
        env.insert(
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_default(),
        );
        env.insert("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string());
        Launch {
            dir,
            env,
            args: Vec::new(),
        }
    }

    /// With the five required secrets in the launcher's environment.
    pub fn with_required() -> Launch {
        let mut launch = Launch::new();
        for (name, value) in REQUIRED {
            launch = launch.env(name, value);
        }
        launch
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn file(self, relative: &str, contents: &str) -> Launch {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(path, contents).expect("write file");
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Launch {
        self.env.insert(name.to_string(), value.to_string());
        self
    }

    pub fn remove_env(mut self, name: &str) -> Launch {
        self.env.remove(name);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Launch
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_string()));
        self
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(binary());
        command
            .current_dir(self.dir.path())
            .env_clear()
            .envs(&self.env)
            .args(&self.args);
        command
    }

    /// `check --plan` with `config` as the config file and no env file: what would be read
    /// from where, fetching nothing.
    pub fn plan_with_config(self, config: &str) -> Outcome {
        self.file("config.yaml", config)
            .args([
                "--config",
                "config.yaml",
                "--no-env-file",
                "check",
                "--plan",
            ])
            .run()
    }

    /// Runs with `input` on stdin (how `set` takes a value: never from argv).
    pub fn run_with_stdin(&self, input: &[u8]) -> Outcome {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run cronos-secrets");
        let written = child.stdin.take().expect("stdin").write_all(input);
        // A launcher that refuses the input stops reading it: that is its answer, not ours.
        if let Err(error) = written {
            assert_eq!(
                error.kind(),
                std::io::ErrorKind::BrokenPipe,
                "write stdin: {error}"
            );
        }
        Outcome {
            output: child.wait_with_output().expect("wait for cronos-secrets"),
        }
    }

    pub fn run(&self) -> Outcome {
        let output = self.command().output().expect("run cronos-secrets");
        Outcome { output }
    }
}

pub struct Outcome {
    pub output: Output,
}

impl Outcome {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts the exit code, showing stderr when it differs.
    pub fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code(),
            expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr().contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr()
        );
        self
    }

    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout().contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout()
        );
        self
    }

    /// The environment the program received, when it was `env -0`.
    pub fn child_env(&self) -> BTreeMap<String, String> {
        parse_env0(&self.output.stdout)
    }

    /// The line of stdout that starts with `variable` (a row of `check`).
    pub fn row(&self, variable: &str) -> String {
        let stdout = self.stdout();
        let row = stdout.lines().find(|line| line.starts_with(variable));
        row.unwrap_or_else(|| panic!("no row for {variable}:\n{stdout}"))
            .to_string()
    }

    /// Fails if any planted value shows up on stdout or stderr.
    /// Fails if any planted value shows up on stderr (for runs whose stdout is the program's).
    pub fn assert_stderr_no_leak(&self, values: &[&str]) -> &Self {
        for value in values {
            assert!(
                !self.stderr().contains(value),
                "stderr leaks {value:?}:\n{}",
                self.stderr()
            );
        }
        self
    }

    pub fn assert_no_leak(&self, values: &[&str]) -> &Self {
        for value in values {
            assert!(
                !self.stdout().contains(value),
                "stdout leaks {value:?}:\n{}",
                self.stdout()
            );
            assert!(
                !self.stderr().contains(value),
                "stderr leaks {value:?}:\n{}",
                self.stderr()
            );
        }
        self
    }
}

/// `env -0` output as a map.
pub fn parse_env0(output: &[u8]) -> BTreeMap<String, String> {
    output
        .split(|byte| *byte == 0)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| {
            let text = String::from_utf8_lossy(entry);
            let (name, value) = text.split_once('=')?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// Permission bits of a file.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("file exists")
        .permissions()
        .mode()
        & 0o777
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read file")
}
