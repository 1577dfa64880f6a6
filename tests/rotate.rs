//! `rotate` against the real servers the suite runs: OpenBao (KV v2), moto (Secrets Manager's
//! staging labels, behind the counting wrapper that corrects moto's unstaged reads) and the
//! Azure Key Vault fake. Each backend runs one scenario that walks every part in turn (the
//! servers are shared, so each scenario has its own names): dry run, status from real
//! metadata, refusals, selectors with --then, kill -9 after each step then --resume or
//! --abort with launches in between, two concurrent rotations, and no value in any output.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use common::openbao::{OpenBao, ROOT_TOKEN};
use common::*;
use serde_json::json;

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

const STEPS: [&str; 5] = ["create", "set", "test", "promote", "finish"];

/// The table the scenarios rotate: the guide's three keys and its database password; the API
/// key's schedule and grace period are one second, so that its real age makes it overdue and
/// its previous value expire.
const TABLE: &str = "secrets:
  jwt_secret: {env: CRONOS_AI_JWT_SECRET, min_length: 32, rotate_every: 180d}
  api_key: {env: CRONOS_AI_API_KEY, min_length: 32, rotate_every: 1s, previous_grace: 1s}
  encryption_key: {env: CRONOS_AI_ENCRYPTION_KEY, min_length: 32, rotate_every: 365d}
  database_password: {env: CRONOS_AI_DB_PASSWORD, min_length: 16, rotate_every: 90d}
  redis_password: {env: CRONOS_AI_REDIS_PASSWORD, min_length: 16, rotate_every: 90d}
";

/// The table's secrets and their planted values.
const TABLE_VALUES: [(&str, &str); 5] = [
    ("jwt_secret", JWT_SECRET),
    ("api_key", API_KEY),
    ("encryption_key", ENCRYPTION_KEY),
    ("database_password", DB_PASSWORD),
    ("redis_password", REDIS_PASSWORD),
];

/// One backend: how to reach it, how to plant, the reference of a secret's pending slot, and
/// the requests its server has answered so far (per kind; empty where the server does not
/// count) with what a launch of the table costs when it reads `n` previous values.
struct Backend {
    launch: Box<dyn Fn() -> Launch>,
    pending: Box<dyn Fn(&str) -> String>,
    requests: Box<dyn Fn() -> BTreeMap<String, u64>>,
    launch_cost: Box<dyn Fn(u64) -> BTreeMap<String, u64>>,
    /// Reads of the table's current values the server has answered so far.
    value_reads: Box<dyn Fn() -> u64>,
}

fn counts(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
    entries
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(kind, count)| (kind.to_string(), *count))
        .collect()
}

impl Backend {
    fn run(&self, args: &[&str]) -> Outcome {
        (self.launch)()
            .env("RUST_LOG", "trace")
            .args(["--no-env-file", "--audit-log", "audit.log"])
            .args(args)
            .run()
    }

    fn run_faulty(&self, args: &[&str], step: &str) -> Outcome {
        (self.launch)()
            .env(
                "CRONOS_SECRETS_ROTATE_FAULT",
                &format!("sigkill-after:{step}"),
            )
            .args(["--no-env-file"])
            .args(args)
            .run()
    }

    fn get(&self, reference: &str) -> Option<String> {
        let outcome = (self.launch)()
            .args(["--no-env-file", "get", "--force", reference])
            .run();
        (outcome.code() == 0).then(|| outcome.stdout())
    }

    fn value(&self, name: &str) -> String {
        self.get(name)
            .unwrap_or_else(|| panic!("{name} is readable"))
    }

    fn pending_value(&self, name: &str) -> Option<String> {
        self.get(&(self.pending)(name))
    }

    /// What a launch gets: `run -- env -0`.
    fn launched_env(&self) -> std::collections::BTreeMap<String, String> {
        let outcome = (self.launch)()
            .args(["--no-env-file", "run", "--", "env", "-0"])
            .run();
        outcome.assert_code(0);
        outcome.child_env()
    }

    fn launched(&self, env: &str) -> String {
        self.launched_env()[env].clone()
    }

    /// A launch that reads exactly `previous` previous values beyond the current ones (the
    /// requests a launch made before rotation existed): asserted from the server's counts.
    fn launched_reading_previous(&self, previous: u64) -> BTreeMap<String, String> {
        let before = (self.requests)();
        let env = self.launched_env();
        let after = (self.requests)();
        let made: BTreeMap<String, u64> = after
            .into_iter()
            .map(|(kind, count)| {
                (
                    kind.clone(),
                    count - before.get(&kind).copied().unwrap_or(0),
                )
            })
            .filter(|(_, count)| *count > 0)
            .collect();
        assert_eq!(made, (self.launch_cost)(previous), "requests of one launch");
        let injected = env
            .keys()
            .filter(|name| name.ends_with("_PREVIOUS"))
            .count();
        assert_eq!(
            injected as u64, previous,
            "previous values injected: {env:?}"
        );
        env
    }
}

fn url_safe(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Every part of `rotate`, in order, against one backend whose four secrets are planted.
fn scenario(backend: &Backend) {
    let mut seen_values: Vec<String> = vec![
        JWT_SECRET.into(),
        API_KEY.into(),
        ENCRYPTION_KEY.into(),
        DB_PASSWORD.into(),
        REDIS_PASSWORD.into(),
    ];

    // Dry run: a plan from metadata (no value read), and nothing changes.
    let value_reads = (backend.value_reads)();
    let dry = backend.run(&["rotate", "--all", "--dry-run"]);
    assert_eq!(
        (backend.value_reads)(),
        value_reads,
        "--dry-run reads no value"
    );
    dry.assert_code(1)
        .assert_stdout_contains("jwt_secret (Jwt secret)")
        .assert_stdout_contains("steps:     create (a 86-character URL-safe value")
        .assert_stdout_contains("would refuse: database_password")
        .assert_stderr_contains("hint: add rotation.database to the config");
    assert_eq!(backend.value("jwt_secret"), JWT_SECRET);
    assert_eq!(backend.pending_value("jwt_secret"), None);
    // Never rotated: exactly the requests of a launch without rotation, no previous value.
    backend.launched_reading_previous(0);

    // Status from real metadata, with no value read: the API key's one-second schedule has
    // passed.
    thread::sleep(Duration::from_millis(1100));
    let value_reads = (backend.value_reads)();
    let status = backend.run(&["rotate", "--status"]);
    assert_eq!(
        (backend.value_reads)(),
        value_reads,
        "--status reads no value"
    );
    status.assert_code(1);
    assert!(
        status.row("api_key").ends_with("overdue"),
        "{}",
        status.stdout()
    );
    assert!(
        status.row("jwt_secret").ends_with("ok"),
        "{}",
        status.stdout()
    );
    let check = backend.run(&["check"]);
    check
        .assert_code(0)
        .assert_stdout_contains("api_key: overdue for rotation");
    assert!(check.row("CRONOS_AI_API_KEY").ends_with("warning"));
    assert!(check.row("CRONOS_AI_JWT_SECRET").ends_with("ok"));
    let json = backend.run(&["rotate", "--status", "--format", "json", "--api-key"]);
    json.assert_code(1);
    let rows: serde_json::Value = serde_json::from_str(&json.stdout()).expect("JSON");
    assert_eq!(rows[0]["name"], "api_key");
    assert_eq!(rows[0]["state"], "overdue");
    let only_ok = backend.run(&["rotate", "--status", "--jwt", "--encryption-key"]);
    only_ok.assert_code(0);
    let due = backend.run(&["rotate", "--all", "--due", "--dry-run"]);
    due.assert_code(0)
        .assert_stdout_contains("api_key (Api key)");
    assert!(!due.stdout().contains("jwt_secret"), "{}", due.stdout());

    // Refusals: the database password, alone or in --all; nothing changes.
    for (args, name) in [
        (&["rotate", "--database", "--yes"][..], "database_password"),
        (&["rotate", "--redis", "--yes"][..], "redis_password"),
        (&["rotate", "--all", "--yes"][..], "database_password"),
    ] {
        let refused = backend.run(args);
        refused
            .assert_code(1)
            .assert_stderr_contains(&format!("refusing to rotate {name}"));
    }
    assert_eq!(backend.value("database_password"), DB_PASSWORD);
    assert_eq!(backend.value("redis_password"), REDIS_PASSWORD);
    assert_eq!(backend.value("jwt_secret"), JWT_SECRET);
    // Without --yes and without a terminal, nothing is asked and nothing changes.
    backend.run(&["rotate", "--jwt"]).assert_code(1);
    assert_eq!(backend.value("jwt_secret"), JWT_SECRET);

    // The selectors, then --then with the rotated names (never values).
    let then_dir = tempfile::tempdir().expect("temp dir");
    let then_script = format!(
        "printf %s \"$CRONOS_SECRETS_ROTATED\" > {dir}/rotated.txt; env > {dir}/then-env.txt",
        dir = then_dir.path().display()
    );
    let rotated = backend.run(&[
        "rotate",
        "--jwt",
        "--api-key",
        "encryption_key",
        "--yes",
        "--then",
        "sh",
        "-c",
        &then_script,
    ]);
    rotated.assert_code(0);
    assert_eq!(
        read(&then_dir.path().join("rotated.txt")),
        "jwt_secret,api_key,encryption_key"
    );
    let then_env = read(&then_dir.path().join("then-env.txt"));
    for credential in [
        "VAULT_TOKEN=",
        "AZURE_CLIENT_SECRET=",
        "CRONOS_SECRETS_CONFIG=",
    ] {
        assert!(
            !then_env.contains(credential),
            "--then gets no {credential}"
        );
    }
    let jwt = backend.value("jwt_secret");
    let api = backend.value("api_key");
    let key = backend.value("encryption_key");
    assert_ne!(jwt, JWT_SECRET);
    assert_ne!(api, API_KEY);
    assert_ne!(key, ENCRYPTION_KEY);
    assert_eq!(jwt.len(), 86);
    assert_eq!(api.len(), 43);
    assert!(url_safe(&jwt) && url_safe(&api) && url_safe(&key));
    assert_eq!(backend.pending_value("jwt_secret"), None);
    // Launches get the new values, and the replaced keys beside them (the API key's one-second
    // grace period is over by the second launch).
    let env = backend.launched_env();
    assert_eq!(env["CRONOS_AI_JWT_SECRET"], jwt);
    assert_eq!(env["CRONOS_AI_JWT_SECRET_PREVIOUS"], JWT_SECRET);
    assert_eq!(env["CRONOS_AI_ENCRYPTION_KEY_PREVIOUS"], ENCRYPTION_KEY);
    assert!(!env.contains_key("CRONOS_AI_DB_PASSWORD_PREVIOUS"));
    thread::sleep(Duration::from_millis(2100));
    // One read per kept previous value; the API key's, past its grace, is not even read.
    let env = backend.launched_reading_previous(2);
    assert!(
        !env.contains_key("CRONOS_AI_API_KEY_PREVIOUS"),
        "grace period over"
    );
    assert_eq!(env["CRONOS_AI_JWT_SECRET_PREVIOUS"], JWT_SECRET);
    assert_eq!(env["CRONOS_AI_ENCRYPTION_KEY_PREVIOUS"], ENCRYPTION_KEY);
    seen_values.extend([jwt.clone(), api.clone(), key.clone()]);
    let mut outputs = vec![rotated.stdout(), rotated.stderr()];

    // kill -9 after each step, a launch in between, then the rerun that completes or undoes.
    for step in STEPS {
        let before = backend.value("jwt_secret");
        let killed = backend.run_faulty(&["rotate", "--jwt", "--yes"], step);
        assert_eq!(killed.code(), -1, "killed by SIGKILL after {step}");
        outputs.extend([killed.stdout(), killed.stderr()]);
        let pending = backend.pending_value("jwt_secret");
        let launched = backend.launched("CRONOS_AI_JWT_SECRET");
        let current = backend.value("jwt_secret");
        assert!(launched == before || Some(&launched) == pending.as_ref() || step == "finish");
        assert_eq!(launched, current, "a launch gets the current value");
        if step == "finish" {
            assert_eq!(pending, None, "finish removed the slot before the kill");
            assert_ne!(current, before);
            seen_values.push(current);
            continue;
        }
        let pending = pending.unwrap_or_else(|| panic!("a pending slot after {step}"));
        seen_values.push(pending.clone());
        // A new rotation refuses, naming the slot.
        let again = backend.run(&["rotate", "--jwt", "--yes"]);
        again
            .assert_code(1)
            .assert_stderr_contains("left a pending slot")
            .assert_stderr_contains("--resume jwt_secret");
        outputs.extend([again.stdout(), again.stderr()]);
        let status = backend.run(&["rotate", "--status", "--jwt"]);
        status.assert_code(1);
        assert!(status.row("jwt_secret").ends_with("pending"));
        // Undo the first crash, complete the others with the pending value.
        if step == "create" {
            let aborted = backend.run(&["rotate", "--abort", "--jwt", "--yes"]);
            aborted.assert_code(0);
            outputs.extend([aborted.stdout(), aborted.stderr()]);
            assert_eq!(backend.value("jwt_secret"), before);
        } else {
            let resumed = backend.run(&["rotate", "--resume", "--jwt", "--yes"]);
            resumed.assert_code(0);
            outputs.extend([resumed.stdout(), resumed.stderr()]);
            assert_eq!(
                backend.value("jwt_secret"),
                pending,
                "completed with the pending value after {step}"
            );
            assert_eq!(
                backend.launched("CRONOS_AI_JWT_SECRET_PREVIOUS"),
                before,
                "the replaced value is the previous one after {step}"
            );
        }
        assert_eq!(backend.pending_value("jwt_secret"), None);
        assert_eq!(
            backend.launched("CRONOS_AI_JWT_SECRET"),
            backend.value("jwt_secret")
        );
    }

    // Two rotations at once: at least one completes, a loser says why, no slot is left, and
    // the current value is one of the rotations' values (a launch gets it).
    let before = backend.value("jwt_secret");
    let launches: Vec<Launch> = (0..2)
        .map(|_| (backend.launch)().args(["--no-env-file", "rotate", "--jwt", "--yes"]))
        .collect();
    let children: Vec<_> = launches
        .iter()
        .map(|launch| {
            launch
                .command()
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let results: Vec<_> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("wait"))
        .collect();
    let winners = results.iter().filter(|out| out.status.success()).count();
    // On Key Vault, two runs that both passed the comparison both fail loudly (the later
    // write's value is current): see src/backend/azure/race.rs.
    let interleaved = results
        .iter()
        .all(|out| String::from_utf8_lossy(&out.stderr).contains("another writer stored"));
    assert!(
        winners >= 1 || interleaved,
        "one of two concurrent rotations completes"
    );
    for out in &results {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(
                stderr.contains("pending slot")
                    || stderr.contains("another rotation")
                    || stderr.contains("changed since"),
                "the loser says why: {stderr}"
            );
        }
        outputs.push(stderr);
    }
    let after = backend.value("jwt_secret");
    assert_ne!(after, before);
    if backend.pending_value("jwt_secret").is_some() {
        // A loser killed between steps would leave it; a loser that failed cleanly does not.
        panic!("a concurrent rotation left a pending slot");
    }
    seen_values.push(after);

    // --retire drops one previous value; the encryption key's stays until retired too.
    let retired = backend.run(&["rotate", "--retire", "--jwt", "--yes"]);
    retired
        .assert_code(0)
        .assert_stderr_contains("retired the previous value of jwt_secret");
    outputs.extend([retired.stdout(), retired.stderr()]);
    let env = backend.launched_reading_previous(1);
    assert!(!env.contains_key("CRONOS_AI_JWT_SECRET_PREVIOUS"));
    assert_eq!(env["CRONOS_AI_ENCRYPTION_KEY_PREVIOUS"], ENCRYPTION_KEY);
    backend
        .run(&["rotate", "--retire", "jwt_secret", "--yes"])
        .assert_code(0)
        .assert_stderr_contains("no previous value to retire");
    // With the encryption key's retired too, a launch costs what it cost before any rotation.
    let retired = backend.run(&["rotate", "--retire", "--encryption-key", "--yes"]);
    retired
        .assert_code(0)
        .assert_stderr_contains("retired the previous value of encryption_key");
    outputs.extend([retired.stdout(), retired.stderr()]);
    backend.launched_reading_previous(0);
    assert_eq!(
        backend.value("encryption_key"),
        key,
        "retire keeps the current value"
    );

    // No value in any output (RUST_LOG=trace for the runs above); audit_events checks the log.
    let replaced = backend.value("jwt_secret");
    let last = backend.run(&["rotate", "--jwt", "--yes"]);
    last.assert_code(0);
    seen_values.push(backend.value("jwt_secret"));
    outputs.extend([last.stdout(), last.stderr()]);
    // A rotation after a retire keeps a previous value again: one read, the replaced value.
    let env = backend.launched_reading_previous(1);
    assert_eq!(env["CRONOS_AI_JWT_SECRET_PREVIOUS"], replaced);
    for output in &outputs {
        for value in &seen_values {
            assert!(
                !output.contains(value.as_str()),
                "an output leaks a value:\n{output}"
            );
        }
    }
}

/// The audit events of one rotation: one per step, with the rotation id and no value.
fn audit_events(backend: &Backend) {
    let launch = (backend.launch)().env("RUST_LOG", "trace").args([
        "--no-env-file",
        "--audit-log",
        "audit.log",
        "rotate",
        "--api-key",
        "--yes",
    ]);
    let outcome = launch.run();
    outcome.assert_code(0);
    let new_value = backend.value("api_key");
    let audit = read(&launch.path("audit.log"));
    assert!(!audit.contains(&new_value), "the audit log holds no value");
    let events: Vec<serde_json::Value> = audit
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|event: &serde_json::Value| event.to_string().contains("rotation step"))
        .collect();
    let steps: Vec<String> = events.iter().map(|event| event.to_string()).collect();
    for step in STEPS {
        assert!(
            steps
                .iter()
                .any(|event| event.contains(&format!("\"step\":\"{step}\""))),
            "an audit event for {step}: {audit}"
        );
    }
    assert_eq!(
        mode(&launch.path("audit.log")) & 0o077,
        0,
        "the audit log is private"
    );
    assert!(!outcome.stderr().contains(&new_value));
}

#[test]
fn vault_rotation() {
    let bao = bao();
    let prefix = "cronos-ai/rotate-vault";
    for (name, value) in [
        ("jwt_secret", JWT_SECRET),
        ("api_key", API_KEY),
        ("encryption_key", ENCRYPTION_KEY),
        ("database_password", DB_PASSWORD),
        ("redis_password", REDIS_PASSWORD),
    ] {
        bao.put("secret", &format!("{prefix}/{name}"), &[("value", value)]);
    }
    let address = bao.address.clone();
    let config = format!(
        "secrets_manager:\n  enabled: true\n  backend: vault\n  vault_path: {prefix}\n{TABLE}"
    );
    let backend = Backend {
        launch: Box::new(move || {
            Launch::new()
                .env("VAULT_ADDR", &address)
                .env("VAULT_TOKEN", ROOT_TOKEN)
                .file("config.yaml", &config)
                .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        }),
        pending: Box::new(move |name| format!("vault://secret/{prefix}/{name}.pending")),
        // The previous value is a field of the same read: launches are not counted.
        requests: Box::new(BTreeMap::new),
        launch_cost: Box::new(|_| BTreeMap::new()),
        // OpenBao's audit device: reads of the secrets' own data paths (not metadata/, not the
        // pending slots).
        value_reads: Box::new(move || {
            let paths: Vec<String> = TABLE_VALUES
                .iter()
                .map(|(name, _)| format!("secret/data/{prefix}/{name}"))
                .collect();
            self::bao()
                .requests()
                .iter()
                .filter(|(_, path)| paths.contains(path))
                .count() as u64
        }),
    };
    scenario(&backend);
    audit_events(&backend);
    // The previous value stays readable as the previous KV version.
    let metadata = bao.run(&[
        "kv",
        "metadata",
        "get",
        "-format=json",
        "-mount=secret",
        &format!("{prefix}/jwt_secret"),
    ]);
    let metadata: serde_json::Value = serde_json::from_str(&metadata).expect("JSON");
    let current = metadata["data"]["current_version"]
        .as_u64()
        .expect("version");
    assert!(current > 2);
}

#[test]
fn aws_rotation() {
    let moto = common::moto::moto();
    let prefix = "rotate-aws";
    for (name, value) in [
        ("jwt_secret", JWT_SECRET),
        ("api_key", API_KEY),
        ("encryption_key", ENCRYPTION_KEY),
        ("database_password", DB_PASSWORD),
        ("redis_password", REDIS_PASSWORD),
    ] {
        moto.create(&format!("{prefix}/{name}"), value);
    }
    let endpoint = moto.endpoint.clone();
    let config = format!(
        "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\n  aws_prefix: {prefix}\n{TABLE}"
    );
    let backend = Backend {
        launch: Box::new(move || {
            Launch::new()
                .file("config.yaml", &config)
                .env("CRONOS_SECRETS_CONFIG", "config.yaml")
                .env("AWS_ACCESS_KEY_ID", "ROTATEAWS")
                .env("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
                .env("AWS_REGION", common::moto::REGION)
                .env("AWS_ENDPOINT_URL", &endpoint)
        }),
        pending: Box::new(move |name| format!("aws-sm://{prefix}/{name}?version_stage=AWSPENDING")),
        requests: Box::new(|| common::moto::moto().counts("ROTATEAWS")),
        // The five current values in one batch; each previous value (AWSPREVIOUS) a pinned
        // GetSecretValue, which cannot be batched.
        launch_cost: Box::new(|previous| {
            counts(&[("BatchGetSecretValue", 1), ("GetSecretValue", previous)])
        }),
        value_reads: Box::new(|| aws_value_reads("ROTATEAWS")),
    };
    scenario(&backend);
    audit_events(&backend);
    // AWSPREVIOUS holds the value the last rotation replaced.
    let previous = backend.get(&format!(
        "aws-sm://{prefix}/jwt_secret?version_stage=AWSPREVIOUS"
    ));
    assert!(previous.is_some_and(|value| value.len() == 86));
    // The current version holds one of the two markers; the other is on the version before
    // (which launches never read as current).
    let described = moto.call(
        "DescribeSecret",
        json!({"SecretId": format!("{prefix}/jwt_secret")}),
    );
    let current: Vec<serde_json::Value> = described["VersionIdsToStages"]
        .as_object()
        .expect("stages")
        .values()
        .filter_map(|stages| stages.as_array())
        .find(|stages| stages.contains(&json!("AWSCURRENT")))
        .cloned()
        .expect("a current version");
    let markers = ["CRONOS_PREVIOUS_KEPT", "CRONOS_PREVIOUS_KEPT_2"];
    let held = markers
        .iter()
        .filter(|marker| current.contains(&json!(marker)))
        .count();
    assert_eq!(held, 1, "{described}");
    // --retire takes it off with AWSPREVIOUS; the current value stays.
    let current = backend.value("jwt_secret");
    backend
        .run(&["rotate", "--retire", "--jwt", "--yes"])
        .assert_code(0);
    let described = moto.call(
        "DescribeSecret",
        json!({"SecretId": format!("{prefix}/jwt_secret")}),
    );
    let labels = described["VersionIdsToStages"].to_string();
    assert!(!labels.contains("CRONOS_PREVIOUS_KEPT") && !labels.contains("AWSPREVIOUS"));
    assert_eq!(backend.value("jwt_secret"), current);
}

#[cfg(feature = "azure")]
#[test]
fn azure_rotation() {
    let fake = common::azure::shared();
    for (name, value) in [
        ("jwt-secret", JWT_SECRET),
        ("api-key", API_KEY),
        ("encryption-key", ENCRYPTION_KEY),
        ("database-password", DB_PASSWORD),
        ("redis-password", REDIS_PASSWORD),
    ] {
        fake.plant(0, name, value, json!({}));
    }
    let config = format!(
        "secrets_manager:\n  enabled: true\n  backend: azure_key_vault\n  azure_vault_url: \"{}/\"\n  azure_verify_challenge_resource: false\n{TABLE}",
        fake.vaults[0]
    );
    let backend = Backend {
        launch: Box::new(move || {
            common::azure::shared()
                .launch_with_secret("rotate-client")
                .file("config/cronos_ai.production.yaml", &config)
        }),
        pending: Box::new(|name| format!("azure-kv://{}-pending", name.replace('_', "-"))),
        // The fake serves only this test in this binary: every request it logs is ours.
        requests: Box::new(|| {
            let mut kinds = BTreeMap::new();
            for request in common::azure::shared().requests() {
                let kind = request["kind"].as_str().unwrap_or_default().to_string();
                *kinds.entry(kind).or_insert(0) += 1;
            }
            kinds
        }),
        // One challenge, one token, one GET per secret, and one per previous value (its
        // sibling secret).
        launch_cost: Box::new(|previous| {
            counts(&[("challenge", 1), ("token", 1), ("get", 5 + previous)])
        }),
        // GETs of the five secrets themselves (not their pending or previous siblings).
        value_reads: Box::new(|| {
            let names: Vec<String> = TABLE_VALUES
                .iter()
                .map(|(name, _)| name.replace('_', "-"))
                .collect();
            common::azure::shared()
                .requests()
                .iter()
                .filter(|request| request["kind"] == "get")
                .filter(|request| names.iter().any(|name| request["name"] == name.as_str()))
                .count() as u64
        }),
    };
    scenario(&backend);
    audit_events(&backend);
    // --retire takes the tag off the current version in place (UpdateSecret): no new version
    // of the secret, the same value, and the sibling's value replaced by the retired marker.
    let writes = |kind: &str| {
        fake.requests()
            .iter()
            .filter(|request| request["kind"] == kind && request["name"] == "jwt-secret")
            .count()
    };
    let (puts, patches) = (writes("put"), writes("patch"));
    let current = backend.value("jwt_secret");
    backend
        .run(&["rotate", "--retire", "--jwt", "--yes"])
        .assert_code(0)
        .assert_stderr_contains("retired the previous value of jwt_secret");
    assert_eq!((writes("put"), writes("patch")), (puts, patches + 1));
    assert_eq!(backend.value("jwt_secret"), current);
    assert_eq!(
        backend.get("azure-kv://jwt-secret-previous").as_deref(),
        Some("-")
    );
}

/// The AWS backend of a test, with secrets under `prefix` and AWS access key `key` (the moto
/// wrapper counts per key and injects failures chosen by words in it).
fn aws_backend(prefix: &'static str, key: &'static str) -> Backend {
    let endpoint = common::moto::moto().endpoint.clone();
    let config = format!(
        "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\n  aws_prefix: {prefix}\n{TABLE}"
    );
    Backend {
        launch: Box::new(move || {
            Launch::new()
                .file("config.yaml", &config)
                .env("CRONOS_SECRETS_CONFIG", "config.yaml")
                .env("AWS_ACCESS_KEY_ID", key)
                .env("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
                .env("AWS_REGION", common::moto::REGION)
                .env("AWS_ENDPOINT_URL", &endpoint)
        }),
        pending: Box::new(move |name| format!("aws-sm://{prefix}/{name}?version_stage=AWSPENDING")),
        requests: Box::new(move || common::moto::moto().counts(key)),
        launch_cost: Box::new(|previous| {
            counts(&[("BatchGetSecretValue", 1), ("GetSecretValue", previous)])
        }),
        value_reads: Box::new(move || aws_value_reads(key)),
    }
}

/// The value reads moto's wrapper counted for `key`: a secret with no pending slot is read
/// only by these two calls.
fn aws_value_reads(key: &str) -> u64 {
    let counts = common::moto::moto().counts(key);
    ["GetSecretValue", "BatchGetSecretValue"]
        .iter()
        .map(|action| counts.get(*action).copied().unwrap_or(0))
        .sum()
}

/// What a launch gets as the JWT secret and its previous value.
fn jwt_pair(backend: &Backend) -> (String, Option<String>) {
    let env = backend.launched_env();
    (
        env["CRONOS_AI_JWT_SECRET"].clone(),
        env.get("CRONOS_AI_JWT_SECRET_PREVIOUS").cloned(),
    )
}

/// The crash windows and second writers of rotation-faults.md on AWS: a promote that fails
/// (or a run killed) after the previous-kept marker moved leaves the current version marked
/// (F1); --resume after another writer changed the secret promotes nothing (F3); --abort after
/// a promote says the new value stays (F5); a rotation finding a slot is told another one may
/// still be running (F6).
#[test]
fn aws_crash_windows() {
    let moto = common::moto::moto();
    let prefix = "rotate-aws-crash";
    for (name, value) in TABLE_VALUES {
        moto.create(&format!("{prefix}/{name}"), value);
    }
    let backend = aws_backend(prefix, "ROTATECRASH");
    backend.run(&["rotate", "--jwt", "--yes"]).assert_code(0);
    let (v0, previous) = jwt_pair(&backend);
    assert_eq!(previous.as_deref(), Some(JWT_SECRET));

    // F1: the promote fails after the marker moved; launches keep their previous value.
    let denied = aws_backend(prefix, "ROTATECRASHDENYPROMOTE");
    denied.run(&["rotate", "--jwt", "--yes"]).assert_code(1);
    assert_eq!(
        jwt_pair(&backend),
        (v0.clone(), Some(JWT_SECRET.to_string()))
    );
    // The same killed between the marker and the promote, then --abort.
    let killed = backend.run_faulty(&["rotate", "--jwt", "--yes"], "previous");
    assert_eq!(killed.code(), -1);
    assert_eq!(
        jwt_pair(&backend),
        (v0.clone(), Some(JWT_SECRET.to_string()))
    );
    backend
        .run(&["rotate", "--abort", "--jwt", "--yes"])
        .assert_code(0)
        .assert_stderr_contains("the current value stays");
    assert_eq!(
        jwt_pair(&backend),
        (v0.clone(), Some(JWT_SECRET.to_string()))
    );

    // F3: killed before promote; another writer stores W; --resume promotes nothing.
    let killed = backend.run_faulty(&["rotate", "--jwt", "--yes"], "test");
    assert_eq!(killed.code(), -1);
    let pending = backend.pending_value("jwt_secret").expect("a pending slot");
    let other = "written-by-another-writer-0123456789abcdef";
    moto.put(&format!("{prefix}/jwt_secret"), other);
    backend
        .run(&["rotate", "--resume", "--jwt", "--yes"])
        .assert_code(1)
        .assert_stderr_contains("changed since the rotation started")
        .assert_stderr_contains("nothing was promoted");
    assert_eq!(backend.value("jwt_secret"), other);
    assert_eq!(backend.pending_value("jwt_secret"), Some(pending));
    backend
        .run(&["rotate", "--abort", "--jwt", "--yes"])
        .assert_code(0);
    assert_eq!(backend.value("jwt_secret"), other);
    assert_eq!(backend.pending_value("jwt_secret"), None);

    // F5: killed after promote, --abort says the new value stays current.
    let killed = backend.run_faulty(&["rotate", "--jwt", "--yes"], "promote");
    assert_eq!(killed.code(), -1);
    let promoted = backend.value("jwt_secret");
    assert_ne!(promoted, other);
    backend
        .run(&["rotate", "--abort", "--jwt", "--yes"])
        .assert_code(0)
        .assert_stderr_contains("was promoted before the run stopped and stays current");
    assert_eq!(backend.value("jwt_secret"), promoted);

    // F6: a slot found by a new rotation may be a running one's.
    let killed = backend.run_faulty(&["rotate", "--jwt", "--yes"], "create");
    assert_eq!(killed.code(), -1);
    backend
        .run(&["rotate", "--jwt", "--yes"])
        .assert_code(1)
        .assert_stderr_contains("another rotation may still be running");
    backend
        .run(&["rotate", "--abort", "--jwt", "--yes"])
        .assert_code(0);
    backend.run(&["rotate", "--jwt", "--yes"]).assert_code(0);
}

/// The crash windows and second writers of rotation-faults.md on Key Vault, on a fake of its
/// own (the shared one counts requests for `azure_rotation`): a promote that fails (or a run
/// killed) after `NAME-previous` was written leaves launches the previous value that belongs to
/// the current version (F2); a write that lands between promote's comparison and its write is
/// detected, fails the run loudly and keeps the displaced value as the previous one (F4);
/// --abort after a promote says the new value stays (F5).
#[cfg(feature = "azure")]
#[test]
fn azure_crash_windows() {
    static FAKE: OnceLock<common::azure::AzureFake> = OnceLock::new();
    let fake = FAKE.get_or_init(common::azure::AzureFake::start);
    for (name, value) in TABLE_VALUES {
        fake.plant(0, &name.replace('_', "-"), value, json!({}));
    }
    let config = format!(
        "secrets_manager:\n  enabled: true\n  backend: azure_key_vault\n  azure_vault_url: \"{}/\"\n  azure_verify_challenge_resource: false\n{TABLE}",
        fake.vaults[0]
    );
    let backend = Backend {
        launch: Box::new(move || {
            FAKE.get()
                .expect("started")
                .launch_with_secret("rotate-crash-client")
                .file("config/cronos_ai.production.yaml", &config)
        }),
        pending: Box::new(|name| format!("azure-kv://{}-pending", name.replace('_', "-"))),
        requests: Box::new(BTreeMap::new),
        launch_cost: Box::new(|_| BTreeMap::new()),
        // This test runs no scenario, so no status to count.
        value_reads: Box::new(|| 0),
    };
    backend.run(&["rotate", "--jwt", "--yes"]).assert_code(0);
    let (v0, previous) = jwt_pair(&backend);
    assert_eq!(previous.as_deref(), Some(JWT_SECRET));
    let kept = (v0.clone(), Some(JWT_SECRET.to_string()));

    // F2: the promote fails after NAME-previous was written; launches keep their previous
    // value, not the current one.
    fake.fault("put", "jwt-secret", 400, "BadParameter", 1);
    backend.run(&["rotate", "--jwt", "--yes"]).assert_code(1);
    assert_eq!(jwt_pair(&backend), kept);
    // The same killed between the two writes, then --abort.
    let killed = backend.run_faulty(&["rotate", "--jwt", "--yes"], "previous");
    assert_eq!(killed.code(), -1);
    assert_eq!(jwt_pair(&backend), kept);
    backend
        .run(&["rotate", "--abort", "--jwt", "--yes"])
        .assert_code(0);
    assert_eq!(jwt_pair(&backend), kept);

    // F4: another writer's version lands between the promote's comparison and its write.
    fake.hold("put", "jwt-secret");
    let launch = (backend.launch)().args(["--no-env-file", "rotate", "--jwt", "--yes"]);
    let mut rotation = launch
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    while fake.held() == 0 {
        if rotation.try_wait().expect("wait").is_some() {
            let out = rotation.wait_with_output().expect("output");
            panic!(
                "the rotation ended before its promote: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
    let other = "written-by-another-writer-0123456789abcdef";
    fake.plant(0, "jwt-secret", other, json!({}));
    fake.release();
    let finished = rotation.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&finished.stderr).into_owned();
    assert_eq!(finished.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("another writer stored version"), "{stderr}");
    assert!(stderr.contains("kept as the previous one"), "{stderr}");
    let (current, previous) = jwt_pair(&backend);
    assert!(current != v0 && current != other);
    assert_eq!(
        previous.as_deref(),
        Some(other),
        "the displaced value is kept"
    );
    assert_eq!(backend.pending_value("jwt_secret"), None);

    // F5: killed after promote, --abort says the new value stays current.
    let killed = backend.run_faulty(&["rotate", "--jwt", "--yes"], "promote");
    assert_eq!(killed.code(), -1);
    let promoted = backend.value("jwt_secret");
    backend
        .run(&["rotate", "--abort", "--jwt", "--yes"])
        .assert_code(0)
        .assert_stderr_contains("was promoted before the run stopped and stays current");
    assert_eq!(backend.value("jwt_secret"), promoted);
    backend.run(&["rotate", "--jwt", "--yes"]).assert_code(0);
    assert_eq!(jwt_pair(&backend).1, Some(promoted));
}

/// moto 5.2 keeps serving the old value to reads that name no stage after AWSCURRENT moves;
/// the counting wrapper corrects it (see tests/common/moto_counting.py), as real AWS behaves.
#[test]
fn moto_serves_the_promoted_version_to_unstaged_reads() {
    let moto = common::moto::moto();
    let id = "rotate-moto/labels";
    moto.create(id, "old-value-of-the-label-test");
    let old = moto.current_version(id);
    let pending_version = "0123456789abcdef0123456789abcdef";
    moto.call(
        "PutSecretValue",
        json!({"SecretId": id, "SecretString": "new-value-of-the-label-test", "ClientRequestToken": pending_version, "VersionStages": ["AWSPENDING"]}),
    );
    let unstaged = moto.call("GetSecretValue", json!({"SecretId": id}));
    assert_eq!(
        unstaged["SecretString"], "old-value-of-the-label-test",
        "pending is invisible"
    );
    moto.call(
        "UpdateSecretVersionStage",
        json!({"SecretId": id, "VersionStage": "AWSCURRENT", "MoveToVersionId": pending_version, "RemoveFromVersionId": old}),
    );
    let unstaged = moto.call("GetSecretValue", json!({"SecretId": id}));
    assert_eq!(unstaged["SecretString"], "new-value-of-the-label-test");
    assert_eq!(unstaged["VersionId"], pending_version);
    let batch = moto.call("BatchGetSecretValue", json!({"SecretIdList": [id]}));
    assert_eq!(
        batch["SecretValues"][0]["SecretString"],
        "new-value-of-the-label-test"
    );
    // Both reads carry the answered version's labels (launches find the previous-kept marker
    // there), as AWS's do; AWSPENDING stays on the promoted version until removed, as on AWS.
    let labels = json!(["AWSPENDING", "AWSCURRENT"]);
    assert_eq!(batch["SecretValues"][0]["VersionStages"], labels);
    assert_eq!(unstaged["VersionStages"], labels);
    let previous = moto.call(
        "GetSecretValue",
        json!({"SecretId": id, "VersionStage": "AWSPREVIOUS"}),
    );
    assert_eq!(previous["SecretString"], "old-value-of-the-label-test");
}

#[test]
fn env_backend_and_usage() {
    Launch::new()
        .file(
            "config.yaml",
            "secrets:\n  jwt_secret: {previous_grace: soon}\n",
        )
        .args([
            "--config",
            "config.yaml",
            "--no-env-file",
            "rotate",
            "--status",
        ])
        .run()
        .assert_code(125)
        .assert_stderr_contains("previous_grace")
        .assert_stderr_contains("until_retired");
    let refused = Launch::with_required()
        .args(["--no-env-file", "rotate", "--jwt", "--yes"])
        .run();
    refused
        .assert_code(1)
        .assert_stderr_contains("backend env")
        .assert_stderr_contains("no pending slot");
    // The dry run exits as the real run would, and says what to configure, once.
    let dry = Launch::with_required()
        .args(["--no-env-file", "rotate", "--all", "--dry-run"])
        .run();
    dry.assert_code(1)
        .assert_stdout_contains("would refuse: the env backend has no pending slot")
        .assert_stderr_contains("hint: configure a backend that can rotate: secrets_manager.backend (or --backend) vault");
    assert_eq!(
        dry.stderr().matches("backend env:").count(),
        1,
        "{}",
        dry.stderr()
    );
    // The location names its backend once.
    dry.assert_stdout_contains("backend:   env CRONOS_AI_JWT_SECRET or JWT_SECRET");
    // A usage error of rotate shows rotate's usage, not the top level's.
    for args in [&["rotate"][..], &["rotate", "--dry-run"]] {
        Launch::new()
            .args(["--no-env-file"])
            .args(args)
            .run()
            .assert_code(2)
            .assert_stderr_contains("Usage: cronos-secrets rotate [OPTIONS]");
    }
    Launch::new()
        .env("CRONOS_SECRETS_ROTATE_FAULT", "yes")
        .args(["--no-env-file", "rotate", "--jwt", "--yes"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("is not a fault this build can inject");
}
