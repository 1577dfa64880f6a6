//! `doctor` on a repository set up as the README's checklist section shows, against the real
//! OpenBao, git, pre-commit, age and promtool: it passes; then each failing condition, one
//! test each, turns its row (and only that row's item) to fail; JSON and Markdown parse; no
//! secret value reaches any output.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::openbao::{OpenBao, ROOT_TOKEN};
use common::*;
use tempfile::TempDir;

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

/// The guide's five secrets, as stored in Vault.
const STORED: [(&str, &str); 5] = [
    ("database_password", DB_PASSWORD),
    ("redis_password", REDIS_PASSWORD),
    ("jwt_secret", JWT_SECRET),
    ("encryption_key", ENCRYPTION_KEY),
    ("api_key", API_KEY),
];

/// A value planted in files the tests break things with: never to be printed either.
const LITERAL: &str = "planted-literal-Qw3rTy8uI0pLk2J";

/// The alert rules this repository ships (examples/monitoring/), as the README's set-up copies them.
const RULES: &str = include_str!("../examples/monitoring/cronos-secrets-alerts.yml");

/// One repository per test, each with its own Vault path.
struct Repo {
    dir: TempDir,
    /// Outside the work tree: HOME, pre-commit's cache, the age identity.
    home: TempDir,
    vault_path: String,
    token: String,
    /// The `secrets_manager:` section's settings (Vault unless a test moves to AWS).
    manager: String,
    /// More variables for every command (an AWS test's credentials).
    env: Vec<(String, String)>,
}

impl Repo {
    /// The README's set-up: a config naming Vault and the checklist's paths, an env file of
    /// references (committed), the pre-commit hook installed, the secrets in Vault, a fresh
    /// age-encrypted backup, the alert rules, the runbook.
    fn set_up() -> Repo {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let repo = Repo {
            dir: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
            vault_path: format!(
                "doctor/{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
            token: ROOT_TOKEN.to_string(),
            manager: String::new(),
            env: Vec::new(),
        };
        let manager = format!(
            "  enabled: true\n  backend: vault\n  vault_addr: \"${{VAULT_ADDR}}\"\n  vault_token: \"${{VAULT_TOKEN}}\"\n  vault_path: {}\n",
            repo.vault_path
        );
        let repo = Repo { manager, ..repo };
        for (name, value) in STORED {
            repo.store(name, value);
        }
        repo.write("config/cronos_ai.production.yaml", &repo.config(""));
        repo.write(
            ".env.production",
            "LOG_LEVEL=info\nCRONOS_AI_JWT_SECRET=secret://jwt_secret\n",
        );
        repo.write(".gitignore", ".env.local\nlogs/\nbackups/\n");
        repo.write("monitoring/alerts.yml", RULES);
        repo.write(
            "docs/runbook.md",
            "# Recovery\n\nRestore the newest backup in backups/ with the age identity.\n",
        );
        repo.write(
            ".pre-commit-config.yaml",
            &format!(
                "repos:\n  - repo: local\n    hooks:\n      - id: cronos-secrets-scan\n        name: cronos-secrets scan\n        entry: {} scan\n        language: system\n        pass_filenames: true\n",
                binary().display()
            ),
        );
        std::fs::create_dir_all(repo.path("logs")).unwrap();
        repo.ok("git", &["init", "-q", "."]);
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "set-up"]);
        repo.ok("pre-commit", &["install"]);
        repo.backup("backups/secrets-1.age");
        repo
    }

    fn config(&self, extra: &str) -> String {
        format!(
            "secrets_manager:\n{}checklist:\n  backups: backups\n  max_backup_age: 2d\n  alert_rules: monitoring/alerts.yml\n  runbook: docs/runbook.md\n  audit_log: logs/audit.jsonl\n{extra}",
            self.manager
        )
    }

    fn store(&self, name: &str, value: &str) {
        bao().put(
            "secret",
            &format!("{}/{name}", self.vault_path),
            &[("value", value)],
        );
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, contents: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn chmod(&self, relative: &str, mode: u32) {
        std::fs::set_permissions(self.path(relative), PermissionsExt::from_mode(mode)).unwrap();
    }

    /// A backup as the README's set-up makes it: `cronos-secrets backup` of the secrets in
    /// Vault, to a recipient whose identity stays outside the repo.
    fn backup(&self, relative: &str) {
        let identity = self.home.path().join("identity.txt");
        if !identity.exists() {
            self.ok("age-keygen", &["-o", identity.to_str().unwrap()]);
        }
        let recipient = self.ok("age-keygen", &["-y", identity.to_str().unwrap()]);
        std::fs::create_dir_all(self.path(relative).parent().unwrap()).unwrap();
        self.ok(
            binary().to_str().unwrap(),
            &["backup", "-o", relative, "--recipient", recipient.trim()],
        );
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("PRE_COMMIT_HOME", self.home.path().join("pre-commit"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("VAULT_ADDR", &bao().address)
            .env("VAULT_TOKEN", &self.token)
            .envs(self.env.iter().map(|(name, value)| (name, value)));
        command
    }

    /// Runs a tool that must succeed; its stdout.
    fn ok(&self, program: &str, args: &[&str]) -> String {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run {program}: {error} (bash scripts/test.sh installs it)")
            });
        assert!(
            output.status.success(),
            "{program} {args:?}: {}",
            text(&output)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn git(&self, args: &[&str]) -> String {
        let mut all = vec![
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ];
        all.extend_from_slice(args);
        self.ok("git", &all)
    }

    fn doctor(&self, args: &[&str]) -> Output {
        let output = self
            .command(binary().to_str().unwrap())
            .arg("doctor")
            .args(args)
            .output()
            .unwrap();
        assert_no_value(&text(&output));
        output
    }

    /// `doctor --format json`: the exit code and each row's status by its check name.
    fn rows(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let output = self.doctor(&all);
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", text(&output)));
        (output.status.code().unwrap_or(-1), json)
    }

    /// Asserts that exactly the rows `failing` fail (the rest pass), and the exit code 1.
    fn assert_fails(&self, failing: &[&str], said: &str) -> serde_json::Value {
        let (code, json) = self.rows(&[]);
        let statuses = statuses(&json);
        for (check, status) in &statuses {
            let expected = if failing.contains(&check.as_str()) {
                "fail"
            } else {
                "pass"
            };
            assert_eq!(status, expected, "row {check}: {json:#}");
        }
        assert_eq!(code, 1, "{json:#}");
        let row = row(&json, failing[0]);
        assert!(row.to_string().contains(said), "{said:?} not in {row:#}");
        assert!(!row["fix"].as_array().unwrap().is_empty(), "{row:#}");
        json
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_no_value(output: &str) {
    for value in STORED.iter().map(|(_, value)| *value).chain([LITERAL]) {
        assert!(!output.contains(value), "leaks {value:?}:\n{output}");
    }
}

fn statuses(json: &serde_json::Value) -> Vec<(String, String)> {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["check"].as_str().unwrap().to_string(),
                row["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row<'a>(json: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["check"] == check)
        .unwrap_or_else(|| panic!("no row {check}: {json:#}"))
}

#[test]
fn a_repository_set_up_as_the_readme_shows_passes_every_row() {
    let repo = Repo::set_up();
    let (code, json) = repo.rows(&["--strict"]);
    assert_eq!(code, 0, "{json:#}");
    let checks: Vec<String> = statuses(&json)
        .into_iter()
        .map(|(check, _)| check)
        .collect();
    assert_eq!(
        checks,
        [
            "code",
            "environment",
            "manager",
            "hooks",
            "rotation",
            "backup",
            "access",
            "audit",
            "alerts",
            "recovery"
        ]
    );
    assert!(
        statuses(&json).iter().all(|(_, status)| status == "pass"),
        "{json:#}"
    );
    assert_eq!(json["passed"], true);
    // The evidence names what was seen: OpenBao's audit device, promtool, the age header.
    let all = json.to_string();
    for seen in [
        "requests/ (file)",
        "promtool check rules accepts it",
        "encrypted with age",
    ] {
        assert!(all.contains(seen), "{seen:?} not in {json:#}");
    }

    let output = repo.doctor(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(
        shown.contains("PASS     Pre-commit hooks installed"),
        "{shown}"
    );
    assert!(
        shown.contains("doctor passed: 10 pass, 0 fail, 0 unknown"),
        "{shown}"
    );
    // At trace level too, no value (`doctor` checks every output it returns).
    let traced = repo.doctor(&["-vvv"]);
    assert_eq!(traced.status.code(), Some(0), "{}", text(&traced));
}

/// The same set-up on AWS Secrets Manager (moto): the secrets' dates come from their
/// versions, and the audit row is the launcher's log alone (CloudTrail is not asked).
#[test]
fn the_set_up_on_aws_secrets_manager_passes_every_row() {
    let mut repo = Repo::set_up();
    let prefix = repo.vault_path.replace('/', "-");
    for (name, value) in STORED {
        common::moto::moto().create(&format!("{prefix}/{name}"), value);
    }
    repo.manager =
        format!("  enabled: true\n  backend: aws_secrets_manager\n  aws_prefix: {prefix}\n");
    repo.env = [
        ("AWS_ACCESS_KEY_ID", "AKIDDOCTOR"),
        ("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key"),
        ("AWS_REGION", common::moto::REGION),
        ("AWS_ENDPOINT_URL", common::moto::moto().endpoint.as_str()),
    ]
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .to_vec();
    repo.write("config/cronos_ai.production.yaml", &repo.config(""));
    let (code, json) = repo.rows(&["--strict"]);
    assert_eq!(code, 0, "{json:#}");
    assert!(
        row(&json, "manager")
            .to_string()
            .contains("the aws_secrets_manager backend answered"),
        "{json:#}"
    );
    assert_eq!(row(&json, "audit")["details"].as_array().unwrap().len(), 1);
    // A login AWS refuses fails the row with the guide's own fix.
    repo.env.retain(|(name, _)| name != "AWS_SECRET_ACCESS_KEY");
    repo.env.push(("AWS_ACCESS_KEY_ID".into(), String::new()));
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 1, "{json:#}");
    let manager = row(&json, "manager");
    assert_eq!(manager["status"], "fail", "{json:#}");
    assert!(
        manager.to_string().contains("aws sts get-caller-identity"),
        "{manager:#}"
    );
}

#[test]
fn markdown_is_one_table_row_per_checklist_item() {
    let repo = Repo::set_up();
    repo.write(".env.local", &format!("CRONOS_AI_API_KEY={LITERAL}\n"));
    repo.chmod(".env.local", 0o644);
    let output = repo.doctor(&["--format", "markdown"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let markdown = String::from_utf8_lossy(&output.stdout);
    let table: Vec<&str> = markdown
        .lines()
        .filter(|line| line.starts_with('|'))
        .collect();
    assert_eq!(table.len(), 12, "header, rule and ten rows:\n{markdown}");
    for line in &table {
        // Three cells each: separators inside a cell are escaped.
        let separators = line.matches('|').count() - line.matches("\\|").count();
        assert_eq!(separators, 4, "{line}");
    }
    let access = table
        .iter()
        .find(|line| line.contains("Access controls configured"))
        .unwrap();
    assert!(
        access.contains("**fail**") && access.contains("**fix:** chmod 600 .env.local"),
        "{access}"
    );
}

#[test]
fn a_literal_secret_in_a_tracked_file_fails_the_code_row() {
    let repo = Repo::set_up();
    repo.write("settings.py", &format!("password = \"{LITERAL}\"\n"));
    repo.git(&["add", "settings.py"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "oops"]);
    repo.assert_fails(&["code"], "settings.py:1:");
}

#[test]
fn a_secret_missing_from_vault_fails_the_environment_row() {
    let repo = Repo::set_up();
    bao().run(&[
        "kv",
        "metadata",
        "delete",
        "-mount=secret",
        &format!("{}/redis_password", repo.vault_path),
    ]);
    // The schedule of a secret that is not there is not known either.
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 1);
    assert_eq!(row(&json, "environment")["status"], "fail", "{json:#}");
    assert!(
        row(&json, "environment")
            .to_string()
            .contains("Redis password")
    );
    // Vault answered and accepted the token: the secret is simply not there.
    let manager = row(&json, "manager");
    assert_eq!(manager["status"], "pass", "{json:#}");
    assert!(
        manager
            .to_string()
            .contains("4 of 5 variable(s) read from it; 1 not there"),
        "{manager:#}"
    );
    assert_eq!(row(&json, "rotation")["status"], "unknown", "{json:#}");
}

#[test]
fn the_env_backend_fails_the_secrets_manager_row() {
    let repo = Repo::set_up();
    repo.write(
        "config/cronos_ai.production.yaml",
        &repo
            .config("")
            .replace("  enabled: true\n  backend: vault\n", "  enabled: false\n"),
    );
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 1);
    let manager = row(&json, "manager");
    assert_eq!(manager["status"], "fail", "{json:#}");
    assert!(manager.to_string().contains("env backend"), "{manager:#}");
}

#[test]
fn a_rejected_vault_token_fails_the_secrets_manager_row_with_the_guides_fix() {
    let mut repo = Repo::set_up();
    repo.token = "not-a-valid-token".to_string();
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 1);
    let manager = row(&json, "manager");
    assert_eq!(manager["status"], "fail", "{json:#}");
    assert!(
        manager["fix"][0]
            .as_str()
            .unwrap()
            .contains("vault token lookup"),
        "{manager:#}"
    );
}

#[test]
fn no_scan_hook_in_the_pre_commit_config_fails_the_hooks_row() {
    let repo = Repo::set_up();
    repo.write(
        ".pre-commit-config.yaml",
        "repos:\n  - repo: local\n    hooks:\n      - id: something-else\n        name: x\n        entry: 'true'\n        language: system\n",
    );
    repo.assert_fails(&["hooks"], "no hook with id: cronos-secrets-scan");
}

#[test]
fn git_hook_not_installed_fails_the_hooks_row() {
    let repo = Repo::set_up();
    repo.ok("pre-commit", &["uninstall"]);
    repo.assert_fails(&["hooks"], "hook is not installed");
}

#[test]
fn a_git_hook_that_is_not_executable_fails_the_hooks_row() {
    let repo = Repo::set_up();
    repo.chmod(".git/hooks/pre-commit", 0o644);
    repo.assert_fails(&["hooks"], "not executable, so git skips it");
}

#[test]
fn a_secret_without_a_schedule_fails_the_rotation_row() {
    let repo = Repo::set_up();
    let table = "secrets:\n  jwt_secret:\n    env: CRONOS_AI_JWT_SECRET\n  api_key:\n    env: CRONOS_AI_API_KEY\n    rotate_every: 90d\n";
    repo.write("config/cronos_ai.production.yaml", &repo.config(table));
    repo.assert_fails(&["rotation"], "jwt_secret: no rotation schedule");
}

#[test]
fn an_overdue_secret_fails_the_rotation_row() {
    let repo = Repo::set_up();
    // Stored before doctor starts, so one millisecond of schedule is past when it reads it.
    let table = "secrets:\n  jwt_secret:\n    env: CRONOS_AI_JWT_SECRET\n    rotate_every: 1ms\n  api_key:\n    env: CRONOS_AI_API_KEY\n    rotate_every: 90d\n";
    repo.write("config/cronos_ai.production.yaml", &repo.config(table));
    repo.assert_fails(&["rotation"], "jwt_secret: overdue since");
}

#[test]
fn an_unfinished_rotation_fails_the_rotation_row() {
    let repo = Repo::set_up();
    bao().put(
        "secret",
        &format!("{}/api_key.pending", repo.vault_path),
        &[("value", LITERAL), ("rotation_id", "r-1")],
    );
    repo.assert_fails(&["rotation"], "api_key: rotation pending");
}

#[test]
fn an_old_backup_fails_the_backup_row() {
    let repo = Repo::set_up();
    repo.ok(
        "touch",
        &[
            "-d",
            "3 days ago",
            repo.path("backups/secrets-1.age").to_str().unwrap(),
        ],
    );
    repo.assert_fails(&["backup"], "the newest backup is 3d old");
}

#[test]
fn a_plaintext_backup_fails_the_backup_row() {
    let repo = Repo::set_up();
    repo.write(
        "backups/secrets-2.json",
        &format!("{{\"api_key\": \"{LITERAL}\"}}\n"),
    );
    repo.chmod("backups/secrets-2.json", 0o600);
    repo.assert_fails(&["backup"], "not an age-encrypted file");
}

#[test]
fn a_backup_others_may_read_fails_the_backup_row() {
    let repo = Repo::set_up();
    repo.chmod("backups/secrets-1.age", 0o644);
    repo.assert_fails(&["backup"], "group or others may open it");
}

#[test]
fn an_armored_age_backup_passes() {
    let repo = Repo::set_up();
    let identity = repo.home.path().join("identity.txt");
    let recipient = repo.ok("age-keygen", &["-y", identity.to_str().unwrap()]);
    repo.ok(
        binary().to_str().unwrap(),
        &[
            "backup",
            "--armor",
            "-o",
            "backups/secrets-2.age",
            "--recipient",
            recipient.trim(),
        ],
    );
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 0, "{json:#}");
    assert!(row(&json, "backup").to_string().contains("secrets-2.age"));
}

#[test]
fn a_tracked_env_file_with_a_value_fails_the_access_row() {
    let repo = Repo::set_up();
    repo.write(".env.staging", &format!("CRONOS_AI_API_KEY='{LITERAL}'\n"));
    repo.chmod(".env.staging", 0o600);
    repo.git(&["add", ".env.staging"]);
    // The scan fails too: the value is in a tracked file.
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 1);
    let access = row(&json, "access");
    assert_eq!(access["status"], "fail", "{json:#}");
    assert!(access.to_string().contains("git tracks it"), "{access:#}");
    assert!(
        access.to_string().contains("git rm --cached .env.staging"),
        "{access:#}"
    );
}

#[test]
fn an_env_file_with_a_value_that_git_does_not_ignore_fails_the_access_row() {
    let repo = Repo::set_up();
    repo.write(".env.staging", &format!("CRONOS_AI_API_KEY={LITERAL}\n"));
    repo.chmod(".env.staging", 0o600);
    repo.assert_fails(&["access"], ".gitignore does not exclude it");
}

#[test]
fn an_env_file_with_a_value_others_may_read_fails_the_access_row() {
    let repo = Repo::set_up();
    repo.write(".env.local", &format!("CRONOS_AI_API_KEY={LITERAL}\n"));
    repo.chmod(".env.local", 0o644);
    repo.assert_fails(&["access"], "chmod 600 .env.local");
}

#[test]
fn an_env_file_of_references_may_be_committed_and_readable() {
    let repo = Repo::set_up();
    repo.chmod(".env.production", 0o644);
    repo.write(".env.local", &format!("CRONOS_AI_API_KEY={LITERAL}\n"));
    repo.chmod(".env.local", 0o600);
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 0, "{json:#}");
    assert!(
        row(&json, "access")
            .to_string()
            .contains(".env.local holds the value of CRONOS_AI_API_KEY")
    );
}

#[test]
fn an_audit_log_nobody_can_create_fails_the_audit_row() {
    let repo = Repo::set_up();
    let config = repo.config("").replace(
        "audit_log: logs/audit.jsonl",
        "audit_log: missing/dir/audit.jsonl",
    );
    repo.write("config/cronos_ai.production.yaml", &config);
    repo.assert_fails(&["audit"], "cannot be created");
}

#[test]
fn a_token_that_may_not_list_audit_devices_leaves_the_audit_row_unknown() {
    let mut repo = Repo::set_up();
    let policy = repo.home.path().join("reader.hcl");
    std::fs::write(
        &policy,
        format!(
            "path \"secret/data/{0}/*\" {{ capabilities = [\"read\"] }}\npath \"secret/metadata/{0}/*\" {{ capabilities = [\"read\"] }}\n",
            repo.vault_path
        ),
    )
    .unwrap();
    let name = repo.vault_path.replace('/', "-");
    bao().run(&["policy", "write", &name, policy.to_str().unwrap()]);
    repo.token = bao().run(&[
        "token",
        "create",
        "-field=token",
        &format!("-policy={name}"),
    ]);
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 0, "unknown is not a failure: {json:#}");
    let audit = row(&json, "audit");
    assert_eq!(audit["status"], "unknown", "{json:#}");
    assert!(
        audit["to_prove"][0].as_str().unwrap().contains("sys/audit"),
        "{audit:#}"
    );
    assert_eq!(row(&json, "rotation")["status"], "pass", "{json:#}");
    // --strict: an unknown row fails the run.
    let (code, json) = repo.rows(&["--strict"]);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["passed"], false);
}

#[test]
fn alert_rules_promtool_refuses_fail_the_alerts_row() {
    let repo = Repo::set_up();
    repo.write(
        "monitoring/alerts.yml",
        &RULES.replace(
            "cronos_secrets_rotation_overdue == 1",
            "rate(cronos_secrets_poll_failures_total[5m] > 0",
        ),
    );
    repo.assert_fails(&["alerts"], "promtool check rules refuses it");
}

#[test]
fn alert_rules_without_groups_fail_the_alerts_row() {
    let repo = Repo::set_up();
    repo.write(
        "monitoring/alerts.yml",
        "alert: CronosSecretRotationOverdue\nexpr: up == 0\n",
    );
    repo.assert_fails(&["alerts"], "no groups: list");
}

/// Without promtool the expressions are unchecked: unknown, with how to check them.
#[test]
fn without_promtool_the_alerts_row_is_unknown() {
    let mut repo = Repo::set_up();
    let bin = repo.home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let git = repo.ok("sh", &["-c", "command -v git"]);
    std::os::unix::fs::symlink(git.trim(), bin.join("git")).unwrap();
    repo.env.push(("PATH".into(), bin.display().to_string()));
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 0, "{json:#}");
    let alerts = row(&json, "alerts");
    assert_eq!(alerts["status"], "unknown", "{json:#}");
    assert!(
        alerts["to_prove"][0].as_str().unwrap().contains("promtool"),
        "{alerts:#}"
    );
    assert_eq!(row(&json, "hooks")["status"], "pass", "{json:#}");
}

#[test]
fn missing_alert_rules_fail_the_alerts_row() {
    let repo = Repo::set_up();
    std::fs::remove_file(repo.path("monitoring/alerts.yml")).unwrap();
    repo.assert_fails(&["alerts"], "cannot read it");
}

#[test]
fn a_missing_runbook_fails_the_recovery_row() {
    let repo = Repo::set_up();
    std::fs::remove_file(repo.path("docs/runbook.md")).unwrap();
    repo.assert_fails(&["recovery"], "runbook.md");
}

#[test]
fn nothing_configured_is_unknown_not_a_guess() {
    let repo = Repo::set_up();
    let config = repo.config("");
    let config = &config[..config.find("checklist:").unwrap()];
    repo.write("config/cronos_ai.production.yaml", config);
    std::fs::remove_file(repo.path("docs/runbook.md")).unwrap();
    let (code, json) = repo.rows(&[]);
    assert_eq!(code, 0, "{json:#}");
    for check in ["backup", "alerts", "recovery"] {
        let row = row(&json, check);
        assert_eq!(row["status"], "unknown", "{row:#}");
        assert!(
            row["to_prove"][0].as_str().unwrap().contains("checklist:"),
            "{row:#}"
        );
    }
    // The launcher's log: unknown in the config, proven with doctor's own --audit-log.
    assert_eq!(row(&json, "audit")["status"], "unknown", "{json:#}");
    let (_, json) = repo.rows(&["--audit-log", "logs/doctor.jsonl"]);
    assert_eq!(row(&json, "audit")["status"], "pass", "{json:#}");
}

#[test]
fn a_typo_in_the_checklist_section_is_an_error_with_did_you_mean() {
    let repo = Repo::set_up();
    let config = repo.config("").replace("runbook:", "runbok:");
    repo.write("config/cronos_ai.production.yaml", &config);
    let output = repo.doctor(&[]);
    assert_eq!(output.status.code(), Some(125), "{}", text(&output));
    let said = text(&output);
    assert!(
        said.contains("config/cronos_ai.production.yaml:")
            && said.contains("checklist.runbok")
            && said.contains("did you mean \"runbook\"?"),
        "{said}"
    );
    // And a near miss of the section itself.
    let config = repo.config("").replace("checklist:", "check_list:");
    repo.write("config/cronos_ai.production.yaml", &config);
    let said = text(&repo.doctor(&[]));
    assert!(
        said.contains("unknown top-level key \"check_list\"")
            && said.contains("did you mean \"checklist\"?"),
        "{said}"
    );
}
