//! `run --watch` and `render --watch` against a real OpenBao dev server and moto (one each per
//! test binary): restarts only on a validated change, PID-1 duties, outages, the restart
//! budget, and what each poll costs, counted from the server's own audit log.

mod common;
mod watch_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use common::moto::{REGION, moto};
use common::openbao::{OpenBao, ROOT_TOKEN};
use common::*;
use nix::sys::signal::Signal;
use watch_support::{Relay, Running, process_state};

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

/// APP_SECRET (at least 16 characters) and APP_USER from Vault, at `secret/watch/<test>/…`.
fn vault_launch(test: &str, address: &str) -> Launch {
    Launch::new()
        .env("VAULT_ADDR", address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .file(
            "config.yaml",
            "secrets:\n  app_secret:\n    env: APP_SECRET\n    min_length: 16\n",
        )
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        .env(
            "APP_SECRET",
            &format!("vault://secret/watch/{test}/app#value"),
        )
        .env(
            "APP_USER",
            &format!("vault://secret/watch/{test}/user#value"),
        )
}

fn put(test: &str, name: &str, value: &str) {
    bao().put(
        "secret",
        &format!("watch/{test}/{name}"),
        &[("value", value)],
    );
}

/// Watch with short intervals: poll every 300ms, 200ms quiet period.
fn watching(launch: Launch, extra: &[&str]) -> Launch {
    watching_every(launch, "300ms", "200ms", extra)
}

fn watching_every(launch: Launch, interval: &str, debounce: &str, extra: &[&str]) -> Launch {
    launch
        .args([
            "-v",
            "run",
            "--watch",
            "--interval",
            interval,
            "--debounce",
            debounce,
        ])
        .args(extra)
        .args(["--"])
}

/// Reads (not writes) of the value of `secret/watch/<test>/<name>`, from the audit log.
fn value_reads(test: &str, name: &str) -> usize {
    let path = format!("secret/data/watch/{test}/{name}");
    bao()
        .requests()
        .iter()
        .filter(|(operation, request_path)| operation == "read" && *request_path == path)
        .count()
}

fn seed(test: &str, secret: &str) {
    put(test, "app", secret);
    put(test, "user", "app-user-1");
}

#[test]
fn a_changed_secret_restarts_the_program_once_with_the_new_value() {
    let test = "changed";
    seed(test, "first-secret-value-0001");
    let running = Running::start(
        watching(vault_launch(test, &bao().address), &[]).env("RUST_LOG", "trace"),
        "plain",
        &[],
    );
    running.wait_for_starts(1);
    let data = |name: &str| value_reads(test, name);
    let (app_reads, user_reads) = (data("app"), data("user"));
    put(test, "app", "second-secret-value-0002");
    running.wait_for_starts(2);
    // Only the secret whose version moved is read again; the other's value is reused.
    assert_eq!(data("app"), app_reads + 1);
    assert_eq!(data("user"), user_reads);
    // Several more polls: still exactly one restart.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        running.starts(),
        ["first-secret-value-0001", "second-secret-value-0002"]
    );
    let stderr = running.stderr();
    for value in [
        "first-secret-value-0001",
        "second-secret-value-0002",
        ROOT_TOKEN,
    ] {
        assert!(!stderr.contains(value), "stderr (trace) leaks {value}");
    }
}

#[test]
fn unchanged_polls_cost_one_metadata_read_per_path_and_restart_nothing() {
    let test = "idle";
    seed(test, "idle-secret-value-0001");
    let data = |name: &str| value_reads(test, name);
    let metadata = |name: &str| bao().count(&format!("secret/metadata/watch/{test}/{name}"));
    let running = Running::start(
        watching(vault_launch(test, &bao().address), &[]),
        "plain",
        &[],
    );
    running.wait_for_starts(1);
    let (data_before, metadata_before) = (data("app") + data("user"), metadata("app"));
    std::thread::sleep(Duration::from_secs(3));
    let polls = metadata("app") - metadata_before;
    assert!(
        polls >= 3,
        "expected several polls in 3s at 300ms, saw {polls}"
    );
    // One metadata read per path per poll (both counted in one look at the log; a poll in
    // flight may have logged one of its two), no value read, nothing else on the secrets.
    let log = bao().requests();
    let count = |name: &str| {
        let path = format!("secret/metadata/watch/{test}/{name}");
        log.iter().filter(|(_, logged)| *logged == path).count()
    };
    assert!(
        count("user").abs_diff(count("app")) <= 1,
        "{} vs {}",
        count("user"),
        count("app")
    );
    assert_eq!(
        data("app") + data("user"),
        data_before,
        "values were read while nothing changed"
    );
    let other: Vec<_> = bao()
        .requests()
        .into_iter()
        .filter(|(_, path)| path.contains(&format!("watch/{test}/")))
        .filter(|(_, path)| {
            !path.starts_with("secret/data/") && !path.starts_with("secret/metadata/")
        })
        .collect();
    assert!(other.is_empty(), "unexpected requests: {other:?}");
    // A new version holding the same value is read once and restarts nothing.
    put(test, "app", "idle-secret-value-0001");
    let app_before = data("app");
    running.wait_for("the new version's read", |_| data("app") > app_before);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(running.starts().len(), 1, "{}", running.stderr());
    assert!(
        running.stderr().contains("same values"),
        "{}",
        running.stderr()
    );
}

#[test]
fn an_invalid_new_value_keeps_the_running_program() {
    let test = "invalid";
    seed(test, "valid-secret-value-0001");
    let mut running = Running::start(
        watching(vault_launch(test, &bao().address), &[]),
        "plain",
        &[],
    );
    running.wait_for_starts(1);
    put(test, "app", "Qz7vK");
    running.wait_for("the refusal", |running| {
        running.stderr().contains("did not resolve and validate")
    });
    std::thread::sleep(Duration::from_millis(1000));
    assert!(running.is_running());
    assert_eq!(running.starts(), ["valid-secret-value-0001"]);
    let stderr = running.stderr();
    assert!(
        stderr.contains("APP_SECRET"),
        "the refusal names the variable: {stderr}"
    );
    assert!(
        !stderr.contains("Qz7vK"),
        "the refusal shows no value: {stderr}"
    );
    // A valid value afterwards is delivered.
    put(test, "app", "fixed-secret-value-0003");
    running.wait_for_starts(2);
    assert_eq!(running.starts()[1], "fixed-secret-value-0003");
}

#[test]
fn two_secrets_changed_within_the_quiet_period_cause_one_restart() {
    let test = "together";
    seed(test, "together-secret-0001-long");
    let launch = watching_every(vault_launch(test, &bao().address), "300ms", "3s", &[]);
    let running = Running::start(launch, "plain", &[]);
    running.wait_for_starts(1);
    put(test, "user", "app-user-2");
    std::thread::sleep(Duration::from_millis(300));
    put(test, "app", "together-secret-0002-long");
    running.wait_for_starts(2);
    std::thread::sleep(Duration::from_millis(4000));
    assert_eq!(
        running.starts(),
        ["together-secret-0001-long", "together-secret-0002-long"],
        "{}",
        running.stderr()
    );
}

#[test]
fn a_backend_outage_leaves_the_program_alone() {
    let test = "outage";
    seed(test, "outage-secret-value-0001");
    let relay = Relay::start(&bao().address);
    let mut running = Running::start(
        watching(vault_launch(test, &relay.address), &["--timeout", "1s"]),
        "plain",
        &[],
    );
    running.wait_for_starts(1);
    relay.set_down(true);
    running.wait_for("a failed poll", |running| {
        running.stderr().contains("cannot poll")
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(running.is_running());
    assert_eq!(running.starts().len(), 1, "{}", running.stderr());
    relay.set_down(false);
    put(test, "app", "outage-secret-value-0002");
    running.wait_for_starts(2);
    assert_eq!(running.starts()[1], "outage-secret-value-0002");
}

#[test]
fn the_restart_budget_stops_a_storm() {
    let test = "storm";
    seed(test, "storm-secret-value-00");
    let launch = watching_every(
        vault_launch(test, &bao().address),
        "200ms",
        "0s",
        &["--max-restarts", "2", "--restart-window", "10m"],
    );
    let running = Running::start(launch, "plain", &[]);
    running.wait_for_starts(1);
    for round in 1..=8 {
        put(test, "app", &format!("storm-secret-value-{round:02}"));
        std::thread::sleep(Duration::from_millis(450));
    }
    running.wait_for("the budget's report", |running| {
        running.stderr().contains("restart budget spent")
    });
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(running.starts().len(), 3, "{}", running.stderr());
}

#[test]
fn signals_reach_the_programs_group_and_the_status_is_128_plus_n() {
    for signal in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGUSR1,
    ] {
        let mut running = Running::start(
            Launch::with_required().args(["run", "--watch", "--interval", "1s", "--"]),
            "signals",
            &[],
        );
        running.wait_for("the program and its child", |running| {
            let lines = running.lines();
            ["child ready", "grandchild ready"]
                .iter()
                .all(|ready| lines.iter().any(|line| line == ready))
        });
        running.signal(signal);
        let status = running.wait_exit();
        assert_eq!(
            status,
            128 + signal as i32,
            "{signal}: {}",
            running.stderr()
        );
        let lines = running.lines();
        for role in ["child", "grandchild"] {
            let got = format!("{role} got {}", signal as i32);
            assert!(lines.contains(&got), "{signal}: no \"{got}\" in {lines:?}");
        }
    }
}

#[test]
fn the_program_exiting_ends_the_launcher_with_its_status() {
    let mut running = Running::start(
        Launch::with_required().args(["run", "--watch", "--interval", "1s", "--"]),
        "exit",
        &[],
    );
    assert_eq!(running.wait_exit(), 3);
    assert_eq!(
        running.starts().len(),
        1,
        "no restart after the program exited"
    );
}

#[test]
fn an_orphaned_grandchild_is_reaped() {
    let running = Running::start(
        Launch::with_required().args(["run", "--watch", "--interval", "1s", "--"]),
        "orphan",
        &[],
    );
    running.wait_for("the orphan", |running| {
        running
            .lines()
            .iter()
            .any(|line| line.starts_with("orphan "))
    });
    let orphan: i32 = running
        .lines()
        .iter()
        .find_map(|line| line.strip_prefix("orphan ")?.parse().ok())
        .expect("orphan pid");
    // It exits after 300ms; reaped, it disappears instead of staying a zombie.
    running.wait_for("the orphan to be reaped", |_| {
        process_state(orphan).is_none()
    });
}

#[test]
fn on_change_signal_needs_rendered_files() {
    Launch::with_required()
        .args(["run", "--watch", "--on-change", "signal:HUP", "--", "true"])
        .run()
        .assert_code(2)
        .assert_stderr_contains("needs --render");
}

/// KILL and STOP cannot be caught, so they cannot ask for a graceful stop or a reload: refused
/// by number as by name, in each flag that takes a signal.
#[test]
fn numeric_kill_and_stop_are_refused_like_their_names() {
    let render = [
        "render",
        "app.tmpl",
        "-o",
        "app.conf",
        "--watch",
        "--signal-pidfile",
        "app.pid",
    ];
    for (flags, value, name) in [
        (vec!["run", "--watch", "--stop-signal"], "19", "SIGSTOP"),
        (
            vec!["run", "--watch", "--render", "a.tmpl:a.conf", "--on-change"],
            "signal:9",
            "SIGKILL",
        ),
        (
            render.iter().copied().chain(["--signal"]).collect(),
            "9",
            "SIGKILL",
        ),
    ] {
        let program: &[&str] = if flags[0] == "run" {
            &["--", "true"]
        } else {
            &[]
        };
        Launch::with_required()
            .args(flags.iter().copied().chain([value]))
            .args(program)
            .run()
            .assert_code(2)
            .assert_stderr_contains(&format!("{name} cannot be caught"));
    }
}

#[test]
fn on_change_signal_rewrites_the_files_then_signals() {
    let test = "hup";
    seed(test, "hup-secret-value-0001");
    let launch = vault_launch(test, &bao().address).file("app.tmpl", "secret=${APP_SECRET}\n");
    let rendered = launch.path("app.conf");
    let render = format!("app.tmpl:{}", rendered.display());
    let running = Running::start(
        watching(launch, &["--render", &render, "--on-change", "signal:HUP"]),
        "hup",
        &[&rendered.display().to_string()],
    );
    running.wait_for_starts(1);
    assert_eq!(read(&rendered), "secret=hup-secret-value-0001\n");
    put(test, "app", "hup-secret-value-0002");
    running.wait_for("the HUP", |running| {
        running
            .lines()
            .iter()
            .any(|line| line == "hup secret=hup-secret-value-0002")
    });
    assert_eq!(running.starts().len(), 1, "signalled, not restarted");
    assert_eq!(mode(&rendered), 0o600);
}

#[test]
fn render_watch_keeps_the_file_current_for_a_sidecar() {
    let test = "sidecar";
    seed(test, "sidecar-secret-0001-long");
    let launch = vault_launch(test, &bao().address)
        .file("app.tmpl", "secret=${APP_SECRET}\n")
        .file("hook.sh", "#!/bin/sh\necho hooked >> \"$1\"\n");
    let output = launch.path("shared/app.conf");
    std::fs::create_dir_all(output.parent().unwrap()).unwrap();
    let ready = launch.path("shared/ready");
    let hook_log = launch.path("hook.log");
    let hook = format!(
        "sh {} {}",
        launch.path("hook.sh").display(),
        hook_log.display()
    );
    let launch = launch.args([
        "render",
        "app.tmpl",
        "-o",
        &output.display().to_string(),
        "--watch",
        "--interval",
        "300ms",
        "--debounce",
        "200ms",
        "--ready-file",
        &ready.display().to_string(),
        "--exec",
        &hook,
    ]);
    let mut running = Running::start_plain(launch);
    running.wait_for("the ready file", |_| ready.exists());
    assert_eq!(read(&output), "secret=sidecar-secret-0001-long\n");
    assert_eq!(mode(&output), 0o600);
    put(test, "app", "sidecar-secret-0002-long");
    running.wait_for("the rewrite", |_| {
        std::fs::read_to_string(&output).unwrap_or_default() == "secret=sidecar-secret-0002-long\n"
    });
    running.wait_for("the hook", |_| hook_log.exists());
    running.signal(Signal::SIGTERM);
    assert_eq!(running.wait_exit(), 0);
}

/// The plain sidecar (no `--exec`, no `--signal-pidfile`): rewriting the file is its whole
/// job, so a change rewrites it and is not taken for `--on-change none`.
#[test]
fn render_watch_without_a_hook_still_rewrites_the_file() {
    let test = "plain-sidecar";
    seed(test, "plain-sidecar-secret-0001");
    let launch = vault_launch(test, &bao().address).file("app.tmpl", "secret=${APP_SECRET}\n");
    let output = launch.path("app.conf");
    let output_arg = output.display().to_string();
    let launch = launch.args([
        "render",
        "app.tmpl",
        "-o",
        &output_arg,
        "--watch",
        "--interval",
        "300ms",
        "--debounce",
        "200ms",
    ]);
    let mut running = Running::start_plain(launch);
    running.wait_for("the first render", |_| output.exists());
    assert_eq!(read(&output), "secret=plain-sidecar-secret-0001\n");
    put(test, "app", "plain-sidecar-secret-0002");
    running.wait_for("the rewrite", |running| {
        std::fs::read_to_string(&output).unwrap_or_default() == "secret=plain-sidecar-secret-0002\n"
            || running.stderr().contains("--on-change none")
    });
    assert_eq!(read(&output), "secret=plain-sidecar-secret-0002\n");
    assert_eq!(mode(&output), 0o600);
    assert!(!running.stderr().contains("--on-change none"));
    running.signal(Signal::SIGTERM);
    assert_eq!(running.wait_exit(), 0);
}

/// AWS Secrets Manager: polls are `DescribeSecret` calls; a new AWSCURRENT restarts (after
/// a random `--splay` wait).
#[test]
fn aws_polls_describe_secret_and_restarts_on_a_new_current_version() {
    let access_key = "AKIDWATCHAWS";
    let id = "watch-aws/app";
    moto().create(id, "aws-secret-value-0001");
    let launch = Launch::new()
        .file(
            "config.yaml",
            "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\nsecrets: {}\n",
        )
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        .env("AWS_ACCESS_KEY_ID", access_key)
        .env("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
        .env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", &moto().endpoint)
        .env("APP_SECRET", &format!("aws-sm://{id}"));
    let running = Running::start(watching(launch, &["--splay", "500ms"]), "plain", &[]);
    running.wait_for_starts(1);
    let reads = |counts: &std::collections::BTreeMap<String, u64>| {
        counts.get("GetSecretValue").copied().unwrap_or(0)
            + counts.get("BatchGetSecretValue").copied().unwrap_or(0)
    };
    let before = moto().counts(access_key);
    std::thread::sleep(Duration::from_secs(2));
    let idle = moto().counts(access_key);
    assert_eq!(
        reads(&idle),
        reads(&before),
        "values were read while nothing changed"
    );
    assert!(
        idle.get("DescribeSecret").copied().unwrap_or(0)
            >= before.get("DescribeSecret").copied().unwrap_or(0) + 3,
        "{idle:?}"
    );
    moto().put(id, "aws-secret-value-0002");
    running.wait_for_starts(2);
    assert_eq!(running.starts()[1], "aws-secret-value-0002");
}

/// Credential helpers the launcher runs itself (AWS `credential_process`) keep working in
/// watch mode: the supervisor reaps the program's tree and orphans, never the helper the SDK
/// is waiting for (that would fail every poll with "No child processes").
#[test]
fn a_credential_process_keeps_working_while_the_supervisor_reaps() {
    let id = "watch-aws/helper";
    moto().create(id, "aws-helper-value-0001");
    let launch = Launch::new()
        .file(
            "config.yaml",
            "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\nsecrets: {}\n",
        )
        .file(
            "helper.sh",
            "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDWATCHHELPER\", \"SecretAccessKey\": \"fake-secret-access-key\"}'\n",
        )
        .file("no-credentials", "");
    let helper = launch.path("helper.sh");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o700)).unwrap();
    let launch = launch.file(
        "aws-config",
        &format!("[default]\ncredential_process = {}\n", helper.display()),
    );
    let config = launch.path("aws-config");
    let credentials = launch.path("no-credentials");
    let launch = launch
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        .remove_env("AWS_ACCESS_KEY_ID")
        .remove_env("AWS_SECRET_ACCESS_KEY")
        .env("AWS_CONFIG_FILE", &config.display().to_string())
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            &credentials.display().to_string(),
        )
        .env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", &moto().endpoint)
        .env("APP_SECRET", &format!("aws-sm://{id}"));
    let mut running = Running::start(watching(launch, &[]), "plain", &[]);
    running.wait_for_starts(1);
    assert_eq!(running.starts()[0], "aws-helper-value-0001");
    // Several polls, each building a client that runs the helper again.
    std::thread::sleep(Duration::from_secs(2));
    moto().put(id, "aws-helper-value-0002");
    running.wait_for_starts(2);
    assert_eq!(running.starts()[1], "aws-helper-value-0002");
    let polls = moto()
        .counts("AKIDWATCHHELPER")
        .get("DescribeSecret")
        .copied()
        .unwrap_or(0);
    assert!(polls >= 2, "the helper's credentials made {polls} polls");
    running.signal(Signal::SIGTERM);
    running.wait_exit();
    assert!(
        !running.stderr().contains("No child processes"),
        "{}",
        running.stderr()
    );
}

/// A short-lived, renewable VAULT_TOKEN outlives its TTL: the watcher renews it.
#[test]
fn a_renewable_vault_token_is_renewed_before_it_expires() {
    let test = "renew";
    seed(test, "renew-secret-value-0001");
    let token = bao().run(&[
        "token",
        "create",
        "-ttl=6s",
        "-explicit-max-ttl=10m",
        "-policy=root",
        "-field=token",
    ]);
    let running = Running::start(
        watching(
            vault_launch(test, &bao().address).env("VAULT_TOKEN", &token),
            &[],
        ),
        "plain",
        &[],
    );
    running.wait_for_starts(1);
    running.wait_for("a renewal", |running| {
        running.stderr().contains("renewed the Vault token")
    });
    // Past the token's first TTL: polls still work, and a change is still delivered.
    std::thread::sleep(Duration::from_secs(7));
    put(test, "app", "renew-secret-value-0002");
    running.wait_for_starts(2);
    assert!(running.stderr().contains("Vault token lifetime"));
    assert!(bao().count("auth/token/renew-self") >= 1);
    assert!(
        !running.stderr().contains(&token),
        "the token is never logged"
    );
}

/// Azure Key Vault has no metadata-only read of the current version: each poll is the one GET
/// of the bundle a launch makes, compared by version id; a new version restarts once.
#[cfg(feature = "azure")]
#[test]
fn azure_polls_compare_version_ids_and_restart_on_a_new_version() {
    let fake = common::azure::shared();
    let name = "watch-azure-app";
    fake.plant(0, name, "azure-secret-value-0001", serde_json::json!({}));
    let gets = || {
        fake.requests()
            .iter()
            .filter(|request| request["kind"] == "get" && request["name"] == name)
            .count()
    };
    let launch = fake
        .launch_with_secret("watch-azure-client")
        .env("APP_SECRET", &format!("secret://{name}"));
    let running = Running::start(watching(launch, &[]), "plain", &[]);
    running.wait_for_starts(1);
    let before = gets();
    std::thread::sleep(Duration::from_secs(2));
    let polls = gets() - before;
    assert!(polls >= 3, "expected a GET per poll, saw {polls}");
    assert_eq!(running.starts().len(), 1, "{}", running.stderr());
    fake.plant(0, name, "azure-secret-value-0002", serde_json::json!({}));
    running.wait_for_starts(2);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(
        running.starts(),
        ["azure-secret-value-0001", "azure-secret-value-0002"]
    );
}

/// `--stop-signal QUIT` asks first; a program that ignores it is killed after `--stop-timeout`.
#[test]
fn a_program_that_does_not_stop_is_killed_after_the_stop_timeout() {
    let test = "stubborn";
    seed(test, "stubborn-secret-value-01");
    let running = Running::start(
        watching(
            vault_launch(test, &bao().address),
            &["--stop-signal", "QUIT", "--stop-timeout", "500ms"],
        ),
        "stubborn",
        &[],
    );
    running.wait_for_starts(1);
    put(test, "app", "stubborn-secret-value-02");
    running.wait_for_starts(2);
    assert!(running.lines().contains(&"child got 3".to_string()));
    assert!(running.stderr().contains("SIGKILL"), "{}", running.stderr());
    assert_eq!(running.starts()[1], "stubborn-secret-value-02");
}

/// `exec:CMD` runs a hook with the new environment and leaves the program running; `none`
/// only logs.
#[test]
fn on_change_exec_runs_a_hook_and_none_only_logs() {
    let test = "hook";
    seed(test, "hook-secret-value-0001");
    let launch = vault_launch(test, &bao().address).file(
        "hook.sh",
        "#!/bin/sh\necho \"hook $APP_SECRET\" >> \"$1\"\n",
    );
    let hook_log = launch.path("hook.log");
    let hook = format!(
        "exec:sh {} {}",
        launch.path("hook.sh").display(),
        hook_log.display()
    );
    let running = Running::start(watching(launch, &["--on-change", &hook]), "plain", &[]);
    running.wait_for_starts(1);
    put(test, "app", "hook-secret-value-0002");
    running.wait_for("the hook", |_| {
        std::fs::read_to_string(&hook_log).unwrap_or_default() == "hook hook-secret-value-0002\n"
    });
    assert_eq!(running.starts().len(), 1, "the program was not restarted");

    let test = "none";
    seed(test, "none-secret-value-0001");
    let running = Running::start(
        watching(vault_launch(test, &bao().address), &["--on-change", "none"]),
        "plain",
        &[],
    );
    running.wait_for_starts(1);
    put(test, "app", "none-secret-value-0002");
    running.wait_for("the log line", |running| {
        running.stderr().contains("--on-change none")
    });
    assert_eq!(running.starts(), ["none-secret-value-0001"]);
}

/// A sidecar rendering APP_SECRET to `app.conf` beside `launch`'s files and signalling the
/// process of `pidfile` after each rewrite; returned once the first render is in place.
fn pidfile_sidecar(launch: Launch, pidfile: &Path) -> (Running, PathBuf) {
    let launch = launch.file("app.tmpl", "secret=${APP_SECRET}\n");
    let output = launch.path("app.conf");
    let output_arg = output.display().to_string();
    let pidfile_arg = pidfile.display().to_string();
    let launch = launch.args([
        "render",
        "app.tmpl",
        "-o",
        &output_arg,
        "--watch",
        "--interval",
        "300ms",
        "--debounce",
        "200ms",
        "--signal-pidfile",
        &pidfile_arg,
    ]);
    let running = Running::start_plain(launch);
    running.wait_for("the first render", |_| output.exists());
    (running, output)
}

/// The sidecar signals the app whose pid a file holds, after the file is rewritten.
#[test]
fn render_watch_signals_the_process_of_the_pidfile_after_the_rewrite() {
    let test = "pidfile";
    seed(test, "pidfile-secret-value-01");
    let launch = vault_launch(test, &bao().address).file("program.py", watch_support::PROGRAM);
    let output = launch.path("app.conf");
    let app_log = launch.path("app.log");
    // The app, started on its own (not by the launcher), reads the file on SIGHUP.
    let mut app = Command::new("python3")
        .arg(launch.path("program.py"))
        .arg(&app_log)
        .arg("hup")
        .arg(&output)
        .spawn()
        .unwrap();
    let pidfile = launch.path("app.pid");
    std::fs::write(&pidfile, format!("{}\n", app.id())).unwrap();
    let (running, _) = pidfile_sidecar(launch, &pidfile);
    put(test, "app", "pidfile-secret-value-02");
    running.wait_for("the app's reload", |_| {
        std::fs::read_to_string(&app_log)
            .unwrap_or_default()
            .contains("hup secret=pidfile-secret-value-02")
    });
    app.kill().unwrap();
    app.wait().unwrap();
}

/// The app that wrote the pidfile an hour ago is gone and an unrelated process has its pid
/// now: that process started after the file was written, so it is not signalled.
#[test]
fn a_process_started_after_the_pidfile_was_written_is_not_signalled() {
    let test = "pidfile-reused";
    seed(test, "reused-secret-value-0001");
    let launch = vault_launch(test, &bao().address);
    let pidfile = launch.path("app.pid");
    let mut unrelated = Command::new("sleep").arg("300").spawn().unwrap();
    std::fs::write(&pidfile, format!("{}\n", unrelated.id())).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&pidfile)
        .and_then(|file| file.set_modified(SystemTime::now() - Duration::from_secs(3600)))
        .unwrap();
    let (running, output) = pidfile_sidecar(launch, &pidfile);
    put(test, "app", "reused-secret-value-0002");
    running.wait_for("the refusal", |running| {
        running
            .stderr()
            .contains("started after the file was last written")
    });
    assert_eq!(read(&output), "secret=reused-secret-value-0002\n");
    let signalled = unrelated.try_wait().unwrap();
    let _ = unrelated.kill();
    let _ = unrelated.wait();
    assert_eq!(signalled, None, "the unrelated process was signalled");
}

/// 0 and negative pids name process groups (-1: every process), 1 is init, a FIFO would
/// block a plain read: each is refused with a warning, the files still rewritten.
#[test]
fn pidfiles_that_name_no_app_are_refused_with_a_warning() {
    let test = "pidfile-low";
    seed(test, "low-pid-secret-value-01");
    let launch = vault_launch(test, &bao().address);
    let pidfile = launch.path("app.pid");
    let (running, output) = pidfile_sidecar(launch, &pidfile);
    let mut round = 1;
    let mut change_and_expect = |refusal: &str| {
        round += 1;
        let value = format!("low-pid-secret-value-{round:02}");
        put(test, "app", &value);
        running.wait_for(refusal, |running| running.stderr().contains(refusal));
        assert_eq!(read(&output), format!("secret={value}\n"));
    };
    // Zero first: the old code refused it (as "no process id"), so a regression fails the
    // test here before any other pid is tried.
    for pid in ["0", "1", "-1"] {
        std::fs::write(&pidfile, format!("{pid}\n")).unwrap();
        change_and_expect(&format!("holds {pid}: refused"));
    }
    std::fs::remove_file(&pidfile).unwrap();
    let made = Command::new("mkfifo").arg(&pidfile).status().unwrap();
    assert!(made.success());
    change_and_expect("is a FIFO (named pipe), not a regular file");
}

/// A FIFO at the pidfile must not hold the loop that handles signals: once the files are
/// rewritten (the pidfile is read next), SIGTERM still ends the sidecar at once.
#[test]
fn a_fifo_pidfile_does_not_delay_the_sidecars_sigterm() {
    let test = "pidfile-fifo";
    seed(test, "fifo-pid-secret-value-01");
    let launch = vault_launch(test, &bao().address);
    let pidfile = launch.path("app.pid");
    let made = Command::new("mkfifo").arg(&pidfile).status().unwrap();
    assert!(made.success());
    let (mut running, output) = pidfile_sidecar(launch, &pidfile);
    put(test, "app", "fifo-pid-secret-value-02");
    running.wait_for("the rewrite", |_| {
        std::fs::read_to_string(&output).unwrap_or_default() == "secret=fifo-pid-secret-value-02\n"
    });
    running.signal(Signal::SIGTERM);
    assert_eq!(running.wait_exit(), 0, "{}", running.stderr());
}
