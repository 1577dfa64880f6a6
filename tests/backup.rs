//! `backup`, `restore` and `migrate` against the real servers (OpenBao, moto, the Key Vault
//! fake), and the recovery drill of docs/backup.md: back up, lose the server, restore into an
//! empty one, launch with identical values. Every output and every file of the tests'
//! directories is searched for the planted values.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::moto::{REGION, moto};
use common::openbao::{OpenBao, ROOT_TOKEN};
use common::*;
use tempfile::TempDir;

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

/// A table of three secrets named after the test (servers are shared between tests), each
/// with its variable and a planted value.
struct Table {
    secrets: Vec<(String, String, String)>,
}

impl Table {
    fn new(test: &str) -> Table {
        let secrets = ["db", "jwt", "api"]
            .iter()
            .map(|kind| {
                (
                    format!("{test}_{kind}"),
                    format!("{}_{}", test.to_uppercase(), kind.to_uppercase()),
                    format!("planted-{test}-{kind}-value-Q7w2E9r4T6y1U3i5"),
                )
            })
            .collect();
        Table { secrets }
    }

    /// The `secrets:` section.
    fn yaml(&self) -> String {
        let mut yaml = "secrets:\n".to_string();
        for (name, env, _) in &self.secrets {
            yaml.push_str(&format!("  {name}: {{env: {env}, min_length: 16}}\n"));
        }
        yaml
    }

    fn values(&self) -> Vec<&str> {
        self.secrets
            .iter()
            .map(|(_, _, value)| value.as_str())
            .collect()
    }

    /// A launch's environment has exactly the planted values.
    fn assert_launch_gets_them(&self, launch: Launch) {
        let launch = launch.args(["run", "--", "env", "-0"]);
        let outcome = launch.run();
        outcome.assert_code(0).assert_stderr_no_leak(&self.values());
        assert_tree_clean(launch.dir.path(), &self.values());
        let env = outcome.child_env();
        for (name, variable, value) in &self.secrets {
            assert_eq!(env.get(variable), Some(value), "{name}");
        }
    }
}

fn vault_config(path: &str, table: &Table) -> String {
    format!(
        "secrets_manager:\n  enabled: true\n  backend: vault\n  vault_addr: \"${{VAULT_ADDR}}\"\n  vault_token: \"${{VAULT_TOKEN}}\"\n  vault_mount_point: secret\n  vault_path: {path}\n{}",
        table.yaml()
    )
}

fn aws_config(prefix: &str, table: &Table) -> String {
    format!(
        "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\n  aws_prefix: {prefix}\n{}",
        table.yaml()
    )
}

/// A launch against `bao` with `config` as its config file (and `.env.production`, the default
/// env file, when a test writes one), logging at trace level.
fn on_vault(bao: &OpenBao, config: &str) -> Launch {
    Launch::new()
        .env("VAULT_ADDR", &bao.address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .file("config.yaml", config)
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        // Every log line there is, so that the leak checks see them all.
        .env("RUST_LOG", "trace")
}

/// moto's endpoint and keys beside any launch (an access key of the test's own).
fn with_aws(launch: Launch, test: &str) -> Launch {
    launch
        .env(
            "AWS_ACCESS_KEY_ID",
            &format!("AKIDBACKUP{}", test.to_uppercase()),
        )
        .env("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
        .env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", &moto().endpoint)
}

/// Where the operator keeps the key and the backup: apart from any launch's directory.
struct Ops {
    dir: TempDir,
    recipient: String,
    /// The planted values: no launch's directory may hold one after it ran.
    planted: Vec<String>,
}

impl Ops {
    /// A new age identity (`age-keygen`), as the runbook makes one.
    fn new(table: &Table) -> Ops {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("backup.key");
        let made = Command::new("age-keygen")
            .arg("-o")
            .arg(&key)
            .output()
            .expect("age-keygen is installed (Debian package age)");
        assert!(made.status.success(), "{made:?}");
        let public = Command::new("age-keygen")
            .arg("-y")
            .arg(&key)
            .output()
            .unwrap();
        let recipient = String::from_utf8(public.stdout).unwrap().trim().to_string();
        assert!(recipient.starts_with("age1"), "{recipient}");
        let planted = table
            .values()
            .iter()
            .map(|value| value.to_string())
            .collect();
        Ops {
            dir,
            recipient,
            planted,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn key(&self) -> String {
        self.path("backup.key").display().to_string()
    }

    fn file(&self) -> String {
        self.path("backup.age").display().to_string()
    }

    /// `backup -o backup.age --recipient age1…` from `launch`.
    fn backup(&self, launch: Launch) -> Outcome {
        self.run(launch.args(["backup", "-o", &self.file(), "--recipient", &self.recipient]))
    }

    /// Runs `launch`, then searches its directory and ours for the planted values.
    fn run(&self, launch: Launch) -> Outcome {
        let outcome = launch.run();
        let planted: Vec<&str> = self.planted.iter().map(String::as_str).collect();
        outcome.assert_no_leak(&planted);
        assert_tree_clean(launch.dir.path(), &planted);
        assert_tree_clean(self.dir.path(), &planted);
        outcome
    }

    /// `restore backup.age --identity backup.key ARGS…` from `launch`.
    fn restore(&self, launch: Launch, args: &[&str]) -> Outcome {
        self.run(
            launch
                .args(["restore", &self.file(), "--identity", &self.key()])
                .args(args),
        )
    }
}

/// No file under `dir` holds any of `values` (the backups are encrypted, the logs name secrets,
/// never values).
fn assert_tree_clean(dir: &Path, values: &[&str]) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            assert_tree_clean(&path, values);
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for value in values {
            assert!(!text.contains(value), "{} holds {value:?}", path.display());
        }
    }
}

/// Restore's per-secret lines: `(outcome, name)`, sorted.
fn outcomes(outcome: &Outcome) -> Vec<(String, String)> {
    let mut lines: Vec<(String, String)> = outcome
        .stdout()
        .lines()
        .filter_map(|line| {
            let line = line
                .strip_prefix("would ")
                .map_or(line.to_string(), |rest| format!("would-{rest}"));
            // OUTCOME NAME… REFERENCE (BACKEND)
            let words: Vec<&str> = line.split_whitespace().collect();
            let name = words.get(1..words.len().checked_sub(2)?)?.join(" ");
            Some((words.first()?.to_string(), name))
        })
        .collect();
    lines.sort();
    lines
}

fn all(outcome: &str, table: &Table) -> Vec<(String, String)> {
    let mut expected: Vec<(String, String)> = table
        .secrets
        .iter()
        .map(|(name, _, _)| (outcome.to_string(), name.clone()))
        .collect();
    expected.sort();
    expected
}

/// The drill of docs/backup.md: back up from OpenBao, lose the server, start an empty one,
/// restore, and a launch gets identical values; a second restore changes nothing.
#[test]
fn openbao_drill_backup_lose_the_server_restore_into_an_empty_one() {
    let table = Table::new("drill");
    let config = vault_config("cronos-ai/drill", &table);
    let mut ops = Ops::new(&table);
    let first = OpenBao::start(false);
    for (name, _, value) in &table.secrets {
        first.put(
            "secret",
            &format!("cronos-ai/drill/{name}"),
            &[("value", value)],
        );
    }
    // jwt was rotated: its previous value is kept beside it (Vault's `previous` field).
    let previous = "planted-drill-previous-jwt-Z3x5C7v9B1n3M5";
    ops.planted.push(previous.to_string());
    first.put(
        "secret",
        "cronos-ai/drill/drill_jwt",
        &[("value", &table.secrets[1].2), ("previous", previous)],
    );
    // The env file names one more secret by an explicit reference.
    let extra = "planted-drill-extra-token-P0o9I8u7Y6t5";
    ops.planted.push(extra.to_string());
    first.put("secret", "drill-extra", &[("token", extra)]);
    let env_file = "EXTRA_TOKEN=vault://secret/drill-extra#token\n";
    let backup = ops.backup(on_vault(&first, &config).file(".env.production", env_file));
    backup.assert_code(0).assert_no_leak(&table.values());
    assert_eq!(mode(&ops.path("backup.age")), 0o600);
    drop(first);

    let second = OpenBao::start(false);
    let restored = ops.restore(on_vault(&second, &config), &[]);
    restored.assert_code(0).assert_no_leak(&table.values());
    let mut expected = all("created", &table);
    expected.push(("created".to_string(), "drill_jwt (previous)".to_string()));
    expected.push((
        "created".to_string(),
        "vault://secret/drill-extra#token".to_string(),
    ));
    expected.sort();
    assert_eq!(outcomes(&restored), expected);
    table.assert_launch_gets_them(on_vault(&second, &config));
    let launch = on_vault(&second, &config)
        .file(".env.production", env_file)
        .args(["run", "--", "env", "-0"]);
    let outcome = launch.run();
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["EXTRA_TOKEN"], extra);
    let kept = second.run(&[
        "kv",
        "get",
        "-mount=secret",
        "-field=previous",
        "cronos-ai/drill/drill_jwt",
    ]);
    assert_eq!(kept, previous, "the previous value is kept again");

    // Run again (after an interruption, say): nothing left to do, no new version.
    let again = ops.restore(on_vault(&second, &config), &[]);
    again.assert_code(0);
    let mut expected = all("unchanged", &table);
    expected.push(("unchanged".to_string(), "drill_jwt (previous)".to_string()));
    expected.push((
        "unchanged".to_string(),
        "vault://secret/drill-extra#token".to_string(),
    ));
    expected.sort();
    assert_eq!(outcomes(&again), expected);
    let versions = second.run(&[
        "kv",
        "metadata",
        "get",
        "-mount=secret",
        "-format=json",
        "cronos-ai/drill/drill_db",
    ]);
    let versions: serde_json::Value = serde_json::from_str(&versions).unwrap();
    assert_eq!(versions["data"]["current_version"], 1, "{versions}");
}

/// From AWS (moto) to OpenBao: a backup of one backend restores into another's config.
#[test]
fn moto_backup_restores_into_openbao() {
    let table = Table::new("fromaws");
    let ops = Ops::new(&table);
    for (name, _, value) in &table.secrets {
        moto().create(&format!("backup-fromaws/{name}"), value);
    }
    let source = with_aws(Launch::new(), "fromaws")
        .file("aws.yaml", &aws_config("backup-fromaws", &table))
        .args(["--no-env-file", "--config", "aws.yaml"]);
    ops.backup(source)
        .assert_code(0)
        .assert_no_leak(&table.values());

    let config = vault_config("cronos-ai/fromaws", &table);
    let restored = ops.restore(on_vault(bao(), &config), &[]);
    restored.assert_code(0).assert_no_leak(&table.values());
    assert_eq!(outcomes(&restored), all("created", &table));
    table.assert_launch_gets_them(on_vault(bao(), &config));
    assert_tree_clean(ops.dir.path(), &table.values());
}

/// From the Key Vault fake (names with `-`) to moto, where missing secrets are created.
#[cfg(feature = "azure")]
#[test]
fn key_vault_backup_restores_into_moto() {
    let table = Table::new("fromkv");
    let fake = common::azure::shared();
    for (name, _, value) in &table.secrets {
        fake.plant(0, &name.replace('_', "-"), value, serde_json::json!({}));
    }
    let ops = Ops::new(&table);
    let source = fake
        .launch_with_secret("backup-fromkv")
        .file("config/cronos_ai.production.yaml", &format!(
            "secrets_manager:\n  enabled: true\n  backend: azure_key_vault\n  azure_vault_url: \"{}/\"\n  azure_verify_challenge_resource: false\n{}",
            fake.vaults[0],
            table.yaml()
        ))
        .args(["--no-env-file"]);
    ops.backup(source)
        .assert_code(0)
        .assert_no_leak(&table.values());

    let target = || {
        with_aws(Launch::new(), "fromkv")
            .file("aws.yaml", &aws_config("backup-fromkv", &table))
            .args(["--no-env-file", "--config", "aws.yaml"])
    };
    let restored = ops.restore(target(), &[]);
    restored.assert_code(0).assert_no_leak(&table.values());
    assert_eq!(outcomes(&restored), all("created", &table));
    table.assert_launch_gets_them(target());
    assert_tree_clean(ops.dir.path(), &table.values());
}

/// The guide's path to production: the env backend's values into OpenBao with
/// `migrate`; `--dry-run` first shows the plan and writes nothing.
#[test]
fn env_backend_migrates_into_openbao() {
    let table = Table::new("migrate");
    let vault = vault_config("cronos-ai/migrate", &table);
    // The values in the launcher's environment, as the env backend reads them (an env file
    // would be a plaintext file in the directory searched for them).
    let source = || {
        let mut launch = Launch::new()
            .env("VAULT_ADDR", &bao().address)
            .env("VAULT_TOKEN", ROOT_TOKEN)
            .file("env.yaml", &table.yaml())
            .file("vault.yaml", &vault)
            .args(["--config", "env.yaml", "--no-env-file"]);
        for (_, variable, value) in &table.secrets {
            launch = launch.env(variable, value);
        }
        launch
    };
    let ops = Ops::new(&table);
    let dry = ops.run(source().args(["migrate", "--to-config", "vault.yaml", "--dry-run"]));
    dry.assert_code(0)
        .assert_stderr_contains("3 secrets read from the env backend, written to the vault backend")
        .assert_stderr_contains("dry run: nothing was written");
    assert_eq!(outcomes(&dry), all("would-create", &table));
    assert!(
        dry.stdout().contains("would create migrate_db"),
        "{}",
        dry.stdout()
    );
    let writes_before = bao()
        .requests()
        .iter()
        .filter(|(operation, path)| {
            operation != "read" && path.starts_with("secret/data/cronos-ai/migrate/")
        })
        .count();
    assert_eq!(writes_before, 0, "a dry run writes nothing");

    let migrated = ops.run(source().args(["migrate", "--to-config", "vault.yaml"]));
    migrated.assert_code(0);
    assert_eq!(outcomes(&migrated), all("created", &table));
    table.assert_launch_gets_them(on_vault(bao(), &vault));
}

/// A backup altered by one byte, cut short, or opened with another key is refused before
/// anything is written, and says why.
#[test]
fn damaged_or_foreign_backups_are_refused_and_nothing_is_written() {
    let table = Table::new("damaged");
    let config = vault_config("cronos-ai/damaged-source", &table);
    for (name, _, value) in &table.secrets {
        bao().put(
            "secret",
            &format!("cronos-ai/damaged-source/{name}"),
            &[("value", value)],
        );
    }
    let ops = Ops::new(&table);
    ops.backup(on_vault(bao(), &config)).assert_code(0);
    let good = std::fs::read(ops.path("backup.age")).unwrap();
    let target = vault_config("cronos-ai/damaged-target", &table);
    let nothing_written = || {
        let writes = bao()
            .requests()
            .iter()
            .filter(|(_, path)| path.starts_with("secret/data/cronos-ai/damaged-target/"))
            .count();
        assert_eq!(writes, 0, "no request reached the target");
    };

    let mut corrupted = good.clone();
    let middle = corrupted.len() - 20;
    corrupted[middle] ^= 0x01;
    std::fs::write(ops.path("backup.age"), &corrupted).unwrap();
    ops.restore(on_vault(bao(), &target), &[])
        .assert_code(125)
        .assert_stderr_contains("altered or cut short")
        .assert_no_leak(&table.values());
    nothing_written();

    std::fs::write(ops.path("backup.age"), &good[..good.len() - 40]).unwrap();
    ops.restore(on_vault(bao(), &target), &[])
        .assert_code(125)
        .assert_stderr_contains("nothing was written")
        .assert_no_leak(&table.values());
    nothing_written();

    std::fs::write(ops.path("backup.age"), &good).unwrap();
    let other = Ops::new(&table);
    ops.run(on_vault(bao(), &target).args(["restore", &ops.file(), "--identity", &other.key()]))
        .assert_code(125)
        .assert_stderr_contains("not made for this identity")
        .assert_no_leak(&table.values());
    nothing_written();

    // A value the target's table refuses (too short for it) stops the whole restore.
    let strict = target.replace("min_length: 16", "min_length: 100");
    ops.restore(on_vault(bao(), &strict), &[])
        .assert_code(125)
        .assert_stderr_contains("nothing was written")
        .assert_no_leak(&table.values());
    nothing_written();
    assert_tree_clean(ops.dir.path(), &table.values());
}

/// The `age` tool opens a backup to the documented layout, and a layout it encrypted restores;
/// a layout version this build does not know is refused.
#[test]
fn the_age_tool_reads_backups_and_writes_restorable_ones() {
    let table = Table::new("interop");
    let config = vault_config("cronos-ai/interop", &table);
    for (name, _, value) in &table.secrets {
        bao().put(
            "secret",
            &format!("cronos-ai/interop/{name}"),
            &[("value", value)],
        );
    }
    let ops = Ops::new(&table);
    on_vault(bao(), &config)
        .args([
            "backup",
            "--armor",
            "-o",
            &ops.file(),
            "--recipient",
            &ops.recipient,
        ])
        .run()
        .assert_code(0);
    let armored = std::fs::read_to_string(ops.path("backup.age")).unwrap();
    assert!(
        armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "{armored}"
    );
    let opened = Command::new("age")
        .args(["-d", "-i", &ops.key(), &ops.file()])
        .output()
        .unwrap();
    assert!(opened.status.success(), "{opened:?}");
    let mut layout: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert_eq!(layout["format"], "cronos-secrets-backup");
    assert_eq!(layout["version"], 1);
    let first = &layout["secrets"][0];
    assert_eq!(first["name"], "interop_db");
    assert_eq!(first["reference"], "secret://interop_db");
    assert_eq!(first["value"], table.secrets[0].2.as_str());
    assert_eq!(first["version"], "1");

    // A layout the age tool encrypted (from a pipe, never a file) restores elsewhere.
    let encrypt = |layout: &serde_json::Value| {
        let mut child = Command::new("age")
            .args(["-e", "-r", &ops.recipient, "-o", &ops.file()])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(layout.to_string().as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    };
    encrypt(&layout);
    let target = vault_config("cronos-ai/interop-target", &table);
    let restored = ops.restore(on_vault(bao(), &target), &[]);
    restored.assert_code(0).assert_no_leak(&table.values());
    assert_eq!(outcomes(&restored), all("created", &table));
    table.assert_launch_gets_them(on_vault(bao(), &target));

    layout["version"] = 2.into();
    encrypt(&layout);
    ops.restore(on_vault(bao(), &target), &[])
        .assert_code(125)
        .assert_stderr_contains("backup layout version 2 is not one this cronos-secrets reads")
        .assert_no_leak(&table.values());
    assert_tree_clean(ops.dir.path(), &table.values());
}

/// A backup is written like `-o`: a symlink is replaced, never written through, a device is
/// refused; with no recipient it is refused before anything is read, and a secret that cannot
/// be read fails it (no file) rather than being left out.
#[test]
fn backup_refuses_no_recipient_a_missing_secret_and_a_device() {
    let table = Table::new("refuse");
    let config = vault_config("cronos-ai/refuse", &table);
    let ops = Ops::new(&table);
    on_vault(bao(), &config)
        .args(["backup", "-o", &ops.file()])
        .run()
        .assert_code(125)
        .assert_stderr_contains("no one to encrypt the backup for");
    assert_eq!(
        bao().count("secret/data/cronos-ai/refuse/"),
        0,
        "nothing was read"
    );
    for (name, _, value) in &table.secrets {
        bao().put(
            "secret",
            &format!("cronos-ai/refuse/{name}"),
            &[("value", value)],
        );
    }
    std::os::unix::fs::symlink("/dev/null", ops.path("backup.age")).unwrap();
    ops.backup(on_vault(bao(), &config))
        .assert_code(125)
        .assert_stderr_contains("it is a device");
    std::fs::remove_file(ops.path("backup.age")).unwrap();
    std::os::unix::fs::symlink(ops.path("elsewhere"), ops.path("backup.age")).unwrap();
    ops.backup(on_vault(bao(), &config)).assert_code(0);
    assert!(
        !ops.path("elsewhere").exists(),
        "not written through the link"
    );
    let written = std::fs::symlink_metadata(ops.path("backup.age")).unwrap();
    assert!(written.file_type().is_file());
    assert_eq!(mode(&ops.path("backup.age")), 0o600);
}

/// A passphrase comes from a file or a variable, never argv; the wrong one is refused before
/// anything is written; `--only` restores just the secrets it names.
#[test]
fn a_passphrase_backup_restores_with_the_same_passphrase_and_only_what_is_named() {
    let table = Table::new("phrase");
    let config = vault_config("cronos-ai/phrase", &table);
    for (name, _, value) in &table.secrets {
        bao().put(
            "secret",
            &format!("cronos-ai/phrase/{name}"),
            &[("value", value)],
        );
    }
    let mut ops = Ops::new(&table);
    let passphrase = "planted-passphrase-correct-horse-battery";
    ops.planted.push(passphrase.to_string());
    // Kept apart from the searched directories: it is the passphrase's own file.
    let keys = tempfile::tempdir().unwrap();
    let passphrase_file = keys.path().join("passphrase");
    std::fs::write(&passphrase_file, format!("{passphrase}\n")).unwrap();
    ops.run(on_vault(bao(), &config).args([
        "backup",
        "-o",
        &ops.file(),
        "--passphrase-file",
        &passphrase_file.display().to_string(),
    ]))
    .assert_code(0);

    let target = vault_config("cronos-ai/phrase-target", &table);
    let restore = |variable_value: &str, only: &str| {
        ops.run(
            on_vault(bao(), &target)
                .env("BACKUP_PASSPHRASE", variable_value)
                .args([
                    "restore",
                    &ops.file(),
                    "--passphrase-env",
                    "BACKUP_PASSPHRASE",
                    "--only",
                    only,
                ]),
        )
    };
    restore("not-the-passphrase", "phrase_db")
        .assert_code(125)
        .assert_stderr_contains("the passphrase does not open the backup");
    assert_eq!(bao().count("secret/data/cronos-ai/phrase-target/"), 0);

    let restored = restore(passphrase, "phrase_db,phrase_api");
    restored.assert_code(0);
    let mut expected = vec![
        ("created".to_string(), "phrase_api".to_string()),
        ("created".to_string(), "phrase_db".to_string()),
    ];
    expected.sort();
    assert_eq!(outcomes(&restored), expected);
    restore(passphrase, "phrase_nope")
        .assert_code(125)
        .assert_stderr_contains("--only names secrets the backup does not hold: phrase_nope");
    // The passphrase is never an argument: clap has no option that takes it.
    on_vault(bao(), &target)
        .args(["restore", &ops.file(), "--passphrase", passphrase])
        .run()
        .assert_code(2);
}

/// `--rewrite-env-file`: after the migrate, the env file's plaintext entries become
/// `secret://NAME` references the new backend answers; the old file is kept as `.bak`.
#[test]
fn migrate_rewrites_the_env_file_to_references() {
    let table = Table::new("rewrite");
    let mut env_file = "# production\n".to_string();
    for (_, variable, value) in &table.secrets {
        env_file.push_str(&format!("export {variable}={value}\n"));
    }
    env_file.push_str("LOG_LEVEL=info\n");
    let vault = vault_config("cronos-ai/rewrite", &table);
    let launch = Launch::new()
        .env("VAULT_ADDR", &bao().address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .file("env.yaml", &table.yaml())
        .file("vault.yaml", &vault)
        .file(".env.production", &env_file);
    std::fs::set_permissions(
        launch.path(".env.production"),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let dry = launch
        .command()
        .args(["--config", "env.yaml", "--env-file", ".env.production"])
        .args(["migrate", "--to-config", "vault.yaml", "--dry-run"])
        .args(["--rewrite-env-file", ".env.production"])
        .output()
        .unwrap();
    let dry = Outcome { output: dry };
    dry.assert_code(0)
        .assert_stderr_contains("would rewrite .env.production:2 REWRITE_DB=secret://rewrite_db")
        .assert_no_leak(&table.values());
    assert_eq!(
        read(&launch.path(".env.production")),
        env_file,
        "a dry run changes nothing"
    );

    let migrated = launch
        .command()
        .args(["--config", "env.yaml", "--env-file", ".env.production"])
        .args(["migrate", "--to-config", "vault.yaml"])
        .args(["--rewrite-env-file", ".env.production"])
        .output()
        .unwrap();
    let migrated = Outcome { output: migrated };
    migrated.assert_code(0).assert_no_leak(&table.values());
    assert_eq!(outcomes(&migrated), all("created", &table));
    let rewritten = read(&launch.path(".env.production"));
    assert_eq!(
        rewritten,
        "# production\nexport REWRITE_DB=secret://rewrite_db\nexport REWRITE_JWT=secret://rewrite_jwt\nexport REWRITE_API=secret://rewrite_api\nLOG_LEVEL=info\n"
    );
    assert_eq!(mode(&launch.path(".env.production")), 0o640);
    assert_eq!(read(&launch.path(".env.production.bak")), env_file);
    assert_eq!(mode(&launch.path(".env.production.bak")), 0o640);

    // The rewritten file, with the Vault config, gives the program the same values.
    let run = launch
        .command()
        .args(["--config", "vault.yaml", "--env-file", ".env.production"])
        .args(["run", "--", "env", "-0"])
        .output()
        .unwrap();
    let run = Outcome { output: run };
    run.assert_code(0).assert_stderr_no_leak(&table.values());
    let env = run.child_env();
    for (name, variable, value) in &table.secrets {
        assert_eq!(env.get(variable), Some(value), "{name}");
    }
}

#[cfg(feature = "azure")]
fn key_vault_config(fake: &common::azure::AzureFake, table: &Table) -> String {
    format!(
        "secrets_manager:\n  enabled: true\n  backend: azure_key_vault\n  azure_vault_url: \"{}/\"\n  azure_verify_challenge_resource: false\n{}",
        fake.vaults[0],
        table.yaml()
    )
}

/// Vault to Key Vault and back with `migrate`: Key Vault's name rules apply (`tokv_db` is
/// stored as `tokv-db`), and the values come back to Vault unchanged.
#[cfg(feature = "azure")]
#[test]
fn migrate_moves_vault_to_key_vault_and_back() {
    let table = Table::new("tokv");
    let fake = common::azure::shared();
    for (name, _, value) in &table.secrets {
        bao().put(
            "secret",
            &format!("cronos-ai/tokv/{name}"),
            &[("value", value)],
        );
    }
    let ops = Ops::new(&table);
    let launch = || {
        fake.launch_with_secret("backup-tokv")
            .env("VAULT_ADDR", &bao().address)
            .env("VAULT_TOKEN", ROOT_TOKEN)
            .file("vault.yaml", &vault_config("cronos-ai/tokv", &table))
            .file("back.yaml", &vault_config("cronos-ai/tokv-back", &table))
            .file("kv.yaml", &key_vault_config(fake, &table))
            .args(["--no-env-file"])
    };
    let there = ops.run(launch().args([
        "--config",
        "vault.yaml",
        "migrate",
        "--to-config",
        "kv.yaml",
    ]));
    there.assert_code(0);
    assert_eq!(outcomes(&there), all("created", &table));
    for (name, _, value) in &table.secrets {
        let versions = fake.versions(0, &name.replace('_', "-"));
        assert_eq!(versions.last().unwrap()["value"], value.as_str(), "{name}");
    }
    let back =
        ops.run(launch().args(["--config", "kv.yaml", "migrate", "--to-config", "back.yaml"]));
    back.assert_code(0);
    assert_eq!(outcomes(&back), all("created", &table));
    table.assert_launch_gets_them(on_vault(
        bao(),
        &vault_config("cronos-ai/tokv-back", &table),
    ));
}

/// `--backend NAME` takes the target's settings from the environment (here `VAULT_ADDR` and
/// `VAULT_TOKEN`, and Vault's default path `secret/NAME`); the source is the env backend.
#[test]
fn migrate_to_a_backend_named_on_the_command_line() {
    let table = Table::new("named");
    let mut launch = Launch::new()
        .env("VAULT_ADDR", &bao().address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .file("env.yaml", &table.yaml())
        .args(["--config", "env.yaml", "--no-env-file"]);
    for (_, variable, value) in &table.secrets {
        launch = launch.env(variable, value);
    }
    let ops = Ops::new(&table);
    let migrated = ops.run(launch.args(["migrate", "--backend", "vault"]));
    migrated.assert_code(0);
    assert_eq!(outcomes(&migrated), all("created", &table));
    assert!(
        migrated.stdout().contains("secret://named_db (vault)"),
        "{}",
        migrated.stdout()
    );
    for (name, _, value) in &table.secrets {
        assert_eq!(
            &bao().run(&["kv", "get", "-mount=secret", "-field=value", name]),
            value
        );
    }
}

/// A value `set` calls weak (one repeated character) stops a restore, as it stops `set`,
/// unless `--force` says to write it anyway, as `set --force` does.
#[test]
fn a_weak_value_needs_force_as_with_set() {
    let mut table = Table::new("weak");
    table.secrets[0].2 = "w".repeat(24);
    let config = vault_config("cronos-ai/weak", &table);
    for (name, _, value) in &table.secrets {
        bao().put(
            "secret",
            &format!("cronos-ai/weak/{name}"),
            &[("value", value)],
        );
    }
    let ops = Ops::new(&table);
    ops.backup(on_vault(bao(), &config)).assert_code(0);
    let target = vault_config("cronos-ai/weak-target", &table);
    ops.restore(on_vault(bao(), &target), &[])
        .assert_code(125)
        .assert_stderr_contains("or pass --force to store it anyway")
        .assert_stderr_contains("nothing was written");
    assert_eq!(bao().count("secret/data/cronos-ai/weak-target/"), 0);
    let forced = ops.restore(on_vault(bao(), &target), &["--force"]);
    forced.assert_code(0);
    assert_eq!(outcomes(&forced), all("created", &table));
}
