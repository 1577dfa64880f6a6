//! `rotate --database` and `--redis` against a real PostgreSQL 15 and a real Redis 7, started
//! once for this binary (PostgreSQL as an unprivileged user), with the passwords stored in
//! OpenBao, moto and the Azure Key Vault fake. Each backend's test walks `single`, then the move
//! to `alternating` (`--setup`, then rotations that flip the login role), and checks what the
//! issue asks: no plaintext in the server log (`log_statement = 'all'`) or any process's argv,
//! kill -9 after each step with the database holding a password the backend holds at every
//! instant, zero failed logins of launches during alternating rotations, tables shared by the
//! two roles, and Redis's two passwords during the grace period.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::openbao::{OpenBao, ROOT_TOKEN};
use common::pg_impostor::Impostor;
use common::postgres::{self, Postgres};
use common::*;
use serde_json::json;

const STEPS: [&str; 5] = ["create", "set", "test", "promote", "finish"];

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

fn pg() -> &'static Postgres {
    postgres::shared()
}

/// Plants `(name, value)` in a backend.
type Plant = dyn Fn(&str, &str) + Send + Sync;

/// A pending slot as anyone allowed to write the secret's path could plant it: rotation id,
/// value, user name; the base version is the secret's current one.
struct Planted<'a> {
    rotation_id: &'a str,
    value: &'a str,
    username: Option<&'a str>,
}

/// Plants `slot` as secret `name`'s pending slot.
type PlantSlot = dyn Fn(&str, &Planted) + Send + Sync;

/// A paired login as AWS and Key Vault hold it: one JSON object.
fn pair_text(slot: &Planted, password_key: &str) -> String {
    match slot.username {
        Some(user) => json!({ "username": user, password_key: slot.value }).to_string(),
        None => slot.value.to_string(),
    }
}

/// One backend holding the test's secrets: how to reach it and how to plant.
struct Store {
    name: &'static str,
    launch: Box<dyn Fn() -> Launch + Send + Sync>,
    /// The `secrets_manager:` block.
    manager: String,
    plant: Box<Plant>,
    plant_slot: Box<PlantSlot>,
    /// The reference of a secret's pending slot, and the key of a pair's password there.
    pending: Box<dyn Fn(&str) -> String + Send + Sync>,
    pair_password_key: Option<&'static str>,
}

impl Store {
    fn vault(prefix: &'static str) -> Store {
        let address = bao().address.clone();
        Store {
            name: "vault",
            launch: Box::new(move || {
                Launch::new()
                    .env("VAULT_ADDR", &address)
                    .env("VAULT_TOKEN", ROOT_TOKEN)
            }),
            manager: format!(
                "secrets_manager:\n  enabled: true\n  backend: vault\n  vault_path: {prefix}\n"
            ),
            plant: Box::new(move |name, value| {
                bao().put("secret", &format!("{prefix}/{name}"), &[("value", value)])
            }),
            plant_slot: Box::new(move |name, slot| {
                let metadata = bao().run(&[
                    "kv",
                    "metadata",
                    "get",
                    "-format=json",
                    "-mount=secret",
                    &format!("{prefix}/{name}"),
                ]);
                let metadata: serde_json::Value = serde_json::from_str(&metadata).expect("JSON");
                let base = metadata["data"]["current_version"].to_string();
                let mut fields = vec![
                    ("value", slot.value),
                    ("rotation_id", slot.rotation_id),
                    ("base_version", base.as_str()),
                ];
                fields.extend(slot.username.map(|user| ("username", user)));
                bao().put("secret", &format!("{prefix}/{name}.pending"), &fields);
            }),
            pending: Box::new(move |name| format!("vault://secret/{prefix}/{name}.pending")),
            pair_password_key: None,
        }
    }

    fn aws(prefix: &'static str) -> Store {
        let endpoint = common::moto::moto().endpoint.clone();
        Store {
            name: "aws",
            launch: Box::new(move || {
                Launch::new()
                    .env("AWS_ACCESS_KEY_ID", "ROTATEDB")
                    .env("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
                    .env("AWS_REGION", common::moto::REGION)
                    .env("AWS_ENDPOINT_URL", &endpoint)
            }),
            manager: format!(
                "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\n  aws_prefix: {prefix}\n"
            ),
            plant: Box::new(move |name, value| {
                common::moto::moto().create(&format!("{prefix}/{name}"), value);
            }),
            plant_slot: Box::new(move |name, slot| {
                let moto = common::moto::moto();
                let id = format!("{prefix}/{name}");
                let base = moto.current_version(&id);
                moto.call(
                    "PutSecretValue",
                    json!({"SecretId": id, "SecretString": pair_text(slot, "password"),
                        "ClientRequestToken": slot.rotation_id,
                        "VersionStages": ["AWSPENDING", format!("cronos-base-{base}")]}),
                );
            }),
            pending: Box::new(move |name| {
                format!("aws-sm://{prefix}/{name}?version_stage=AWSPENDING")
            }),
            pair_password_key: Some("password"),
        }
    }

    #[cfg(feature = "azure")]
    fn azure(vault: usize) -> Store {
        let fake = common::azure::shared();
        Store {
            name: "azure",
            launch: Box::new(|| common::azure::shared().launch_with_secret("rotate-db-client")),
            manager: format!(
                "secrets_manager:\n  enabled: true\n  backend: azure_key_vault\n  azure_vault_url: \"{}/\"\n  azure_verify_challenge_resource: false\n",
                fake.vaults[vault]
            ),
            plant: Box::new(move |name, value| {
                common::azure::shared().plant(vault, &name.replace('_', "-"), value, json!({}));
            }),
            plant_slot: Box::new(move |name, slot| {
                let fake = common::azure::shared();
                let name = name.replace('_', "-");
                let base = fake.current_version(vault, &name);
                fake.plant_tagged(
                    vault,
                    &format!("{name}-pending"),
                    &pair_text(slot, "value"),
                    json!({"cronos-rotation-id": slot.rotation_id, "cronos-rotation-state": "pending", "cronos-base-version": base}),
                );
            }),
            pending: Box::new(|name| format!("azure-kv://{}-pending", name.replace('_', "-"))),
            pair_password_key: Some("value"),
        }
    }

    fn with_config(&self, rest: &str) -> Launch {
        (self.launch)()
            .file("config.yaml", &format!("{}{rest}", self.manager))
            .env("CRONOS_SECRETS_CONFIG", "config.yaml")
    }

    fn get(&self, rest: &str, reference: &str) -> Option<String> {
        let outcome = self
            .with_config(rest)
            .args(["--no-env-file", "get", "--force", reference])
            .run();
        (outcome.code() == 0).then(|| outcome.stdout())
    }
}

/// A login as the backend holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Login {
    user: String,
    password: String,
}

/// The database settings of one test: its own roles on the shared server.
struct Database<'a> {
    store: &'a Store,
    role: String,
    alternating: bool,
    /// The lines of `rotation.database` that say where and how to connect.
    connection: String,
    /// `rotation.database.admin_user` (its password is the store's `postgres_admin_password`).
    admin_user: String,
    /// Every value a run generated or planted for this test, for the leak checks.
    seen: Mutex<BTreeSet<String>>,
    /// What the test itself set with SQL (in the server log by design, not by cronos-secrets).
    planted: Vec<String>,
    outputs: Mutex<Vec<String>>,
}

impl Database<'_> {
    fn config(&self) -> String {
        let pg = pg();
        format!(
            "rotation:\n  database:\n{connection}    dbname: {db}\n    admin_user: {admin}\n    admin_password: secret://postgres_admin_password\n    role: {role}\n    strategy: {strategy}\nsecrets:\n  database_password: {{env: CRONOS_AI_DB_PASSWORD, min_length: 16}}\n",
            connection = self.connection,
            db = pg.dbname,
            admin = self.admin_user,
            role = self.role,
            strategy = if self.alternating {
                "alternating"
            } else {
                "single"
            },
        )
    }

    fn launch(&self) -> Launch {
        self.store.with_config(&self.config())
    }

    fn run(&self, args: &[&str]) -> Outcome {
        let outcome = self
            .launch()
            .env("RUST_LOG", "trace")
            .args(["--no-env-file"])
            .args(args)
            .run();
        self.keep(&outcome);
        outcome
    }

    fn run_faulty(&self, args: &[&str], step: &str) -> Outcome {
        let outcome = self
            .launch()
            .env(
                "CRONOS_SECRETS_ROTATE_FAULT",
                &format!("sigkill-after:{step}"),
            )
            .args(["--no-env-file"])
            .args(args)
            .run();
        self.keep(&outcome);
        outcome
    }

    fn keep(&self, outcome: &Outcome) {
        self.outputs
            .lock()
            .unwrap()
            .extend([outcome.stdout(), outcome.stderr()]);
    }

    /// The current login, as a launch gets it: the password in `CRONOS_AI_DB_PASSWORD`, the
    /// user name through `${secret://database_password#username}` (alternating).
    fn current(&self) -> Login {
        let env_file = if self.alternating {
            "PGUSER=${secret://database_password#username}\n".to_string()
        } else {
            format!("PGUSER={}\n", self.role)
        };
        let launch = self.launch().file("db.env", &env_file).args([
            "--env-file",
            "db.env",
            "run",
            "--",
            "env",
            "-0",
        ]);
        let outcome = launch.run();
        outcome.assert_code(0);
        let env = outcome.child_env();
        let login = Login {
            user: env["PGUSER"].clone(),
            password: env["CRONOS_AI_DB_PASSWORD"].clone(),
        };
        self.seen.lock().unwrap().insert(login.password.clone());
        login
    }

    fn pending(&self) -> Option<Login> {
        let reference = (self.store.pending)("database_password");
        let key = |key: &str| format!("{reference}#{key}");
        let password = match (self.alternating, self.store.pair_password_key) {
            (true, Some(field)) => self.store.get(&self.config(), &key(field)),
            _ => self.store.get(&self.config(), &reference),
        }?;
        let user = if self.alternating {
            self.store
                .get(&self.config(), &key("username"))
                .expect("a pair's pending slot names its user")
        } else {
            self.role.clone()
        };
        self.seen.lock().unwrap().insert(password.clone());
        Some(Login { user, password })
    }

    fn logs_in(&self, login: &Login) -> bool {
        pg().login_ok(&login.user, &login.password)
    }

    fn rotate(&self) -> Login {
        let before = self.current();
        self.run(&["rotate", "--database", "--yes"]).assert_code(0);
        let after = self.current();
        assert_ne!(after.password, before.password);
        assert_eq!(after.password.len(), 43);
        assert!(self.logs_in(&after), "the new password logs in");
        assert_eq!(self.pending(), None, "finish removed the slot");
        after
    }

    /// No value in any output of this test, nor in the server's log.
    fn assert_no_leak(&self) {
        let seen = self.seen.lock().unwrap();
        let log = pg().log_text();
        assert!(
            log.contains("ALTER ROLE"),
            "the server logs statements (log_statement = 'all')"
        );
        for value in seen.iter() {
            assert!(
                self.planted.contains(value) || !log.contains(value.as_str()),
                "the server log holds a password"
            );
            for output in self.outputs.lock().unwrap().iter() {
                assert!(
                    !output.contains(value.as_str()),
                    "an output leaks a value:\n{output}"
                );
            }
        }
    }
}

/// `rotation.database`'s connection lines: the server's name, its CA, `verify-full`.
fn verify_full() -> String {
    format!(
        "    host: localhost\n    port: {}\n    sslmode: verify-full\n    sslrootcert: {}\n",
        pg().port,
        pg().ca.display()
    )
}

/// The connection lines for `host:port` (TCP) or a socket directory, with `sslmode`.
fn connection(host: &str, port: u16, sslmode: &str) -> String {
    format!("    host: {host}\n    port: {port}\n    sslmode: {sslmode}\n")
}

fn plant_admin(store: &Store) {
    (store.plant)("postgres_admin_password", &pg().admin_password);
}

/// `strategy: single`: the guide's recipe, then kill -9 after each step.
fn single(store: &Store, role: &str) {
    plant_admin(store);
    let initial = format!("initial-password-of-{role}");
    pg().admin_sql(&format!("CREATE ROLE {role} LOGIN PASSWORD '{initial}'"));
    (store.plant)("database_password", &initial);
    let db = Database {
        store,
        role: role.to_string(),
        alternating: false,
        connection: verify_full(),
        admin_user: pg().admin_user.clone(),
        planted: vec![initial.clone()],
        seen: Mutex::new(BTreeSet::new()),
        outputs: Mutex::new(Vec::new()),
    };
    // The plan names the database, and nothing changes.
    db.run(&["rotate", "--database", "--dry-run"])
        .assert_code(0)
        .assert_stdout_contains(&format!("in postgresql {role}@localhost"));
    assert_eq!(db.current().password, initial);

    // A rotation, with every process's argv watched meanwhile.
    let argv = ArgvWatch::start();
    let rotated = db.rotate();
    let argvs = argv.finish();
    assert!(!db.logs_in(&Login {
        user: role.to_string(),
        password: initial.clone(),
    }));
    for value in [&rotated.password, &initial] {
        assert!(
            !argvs.iter().any(|argv| argv.contains(value.as_str())),
            "no process's argv holds a password"
        );
    }
    assert!(
        argvs.iter().any(|argv| argv.contains("rotate")),
        "the watch saw the run"
    );
    // A DATABASE_URL built from the reference follows without editing the file.
    let url = db
        .launch()
        .file(
            "url.env",
            &format!(
                "DATABASE_URL=postgresql://{role}:${{secret://database_password}}@127.0.0.1:{}/{}\n",
                pg().port,
                pg().dbname
            ),
        )
        .args(["--env-file", "url.env", "run", "--", "env", "-0"])
        .run();
    url.assert_code(0);
    assert_eq!(
        url.child_env()["DATABASE_URL"],
        format!(
            "postgresql://{role}:{}@127.0.0.1:{}/{}",
            rotated.password,
            pg().port,
            pg().dbname
        )
    );

    // kill -9 after each step: the database holds a password the backend holds (current or
    // pending) at every instant; after the rerun the current one logs in.
    for step in STEPS {
        let before = db.current();
        let killed = db.run_faulty(&["rotate", "--database", "--yes"], step);
        assert_eq!(killed.code(), -1, "killed after {step}");
        let current = db.current();
        let pending = db.pending();
        let accepted = db.logs_in(&current) || pending.as_ref().is_some_and(|p| db.logs_in(p));
        assert!(
            accepted,
            "after {step}: the database accepts a password the backend holds"
        );
        match step {
            // Between set and promote only the pending password logs in: the window of single.
            "set" | "test" => {
                assert!(
                    !db.logs_in(&current),
                    "after {step}: the old password is gone"
                );
                db.run(&["rotate", "--abort", "--database", "--yes"])
                    .assert_code(1)
                    .assert_stderr_contains("refusing to abort");
            }
            "create" => assert!(db.logs_in(&current)),
            _ => {}
        }
        if step == "finish" {
            assert_eq!(pending, None);
        } else {
            assert!(pending.is_some(), "a pending slot after {step}");
            db.run(&["rotate", "--resume", "--database", "--yes"])
                .assert_code(0);
        }
        let now = db.current();
        assert!(
            db.logs_in(&now),
            "after {step} and --resume the current password logs in"
        );
        assert_ne!(now.password, before.password);
        assert_eq!(db.pending(), None);
    }

    // The window between set and promote, from the audit events' times; --then runs after
    // the promote (the guide's rollout restart), given the name only.
    let audit = db.launch().args([
        "--no-env-file",
        "--audit-log",
        "audit.log",
        "rotate",
        "--database",
        "--yes",
        "--then",
        "sh",
        "-c",
        "printf %s \"$CRONOS_SECRETS_ROTATED\" > then.txt",
    ]);
    let replaced = db.current();
    audit.run().assert_code(0);
    assert_eq!(read(&audit.path("then.txt")), "database_password");
    let log = read(&audit.path("audit.log"));
    assert_secret_read(
        &log,
        "rotation.database.admin_password",
        "secret://postgres_admin_password",
    );
    assert_secret_read(&log, "database_password", "secret://database_password");
    for value in [
        &pg().admin_password,
        &replaced.password,
        &db.current().password,
    ] {
        assert!(
            !log.contains(value.as_str()),
            "the audit log holds no value: {log}"
        );
    }
    let window = step_gap(&log, "set", "promote");
    eprintln!(
        "[{}] strategy single: only the pending password logs in for {window:?} (set → promote)",
        store.name
    );
    db.current();
    db.assert_no_leak();
}

/// A pending slot is data from the backend, not instructions (redteam-2 #1, #7, #11): a slot
/// naming the admin role, one with a one-character value, one with a malformed rotation id and
/// one whose id would forge a status line are refused before any step, named by location and
/// never echoed; `ALTER ROLE` never runs, the admin and the app keep their passwords, and
/// `--abort` drops the slot.
fn planted_slots(store: &Store, role: &str) {
    plant_admin(store);
    let initial = format!("initial-password-of-{role}");
    pg().admin_sql(&format!("CREATE ROLE {role} LOGIN PASSWORD '{initial}'"));
    (store.plant)("database_password", &initial);
    let attacker = "attacker-known-pw-123456";
    let db = Database {
        store,
        role: role.to_string(),
        alternating: false,
        connection: verify_full(),
        admin_user: pg().admin_user.clone(),
        planted: vec![initial.clone(), attacker.to_string()],
        seen: Mutex::new(BTreeSet::new()),
        outputs: Mutex::new(Vec::new()),
    };
    let admin = pg().admin_user.clone();
    let forged = "abc\n\u{1b}[1;32mdatabase_password  vault  9  -  -  ok\u{1b}[0m";
    let mut cases = vec![
        (
            "0123456789abcdef0123456789abcdef",
            attacker,
            Some(admin.as_str()),
            "login role",
        ),
        ("0123456789abcdef0123456789abcdee", "x", None, "too short"),
        (
            "0123456789ABCDEF0123456789ABCDEF",
            attacker,
            None,
            "rotation id",
        ),
    ];
    // An AWS version id (the rotation id there) cannot hold control characters.
    if store.name != "aws" {
        cases.push((forged, attacker, None, "rotation id"));
    }
    let location = (store.pending)("database_password");
    let location = location
        .rsplit(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_string();
    for (rotation_id, value, username, why) in cases {
        let slot = Planted {
            rotation_id,
            value,
            username,
        };
        (store.plant_slot)("database_password", &slot);
        let status = db.run(&["rotate", "--status", "--database"]);
        status.assert_code(1);
        let text = status.stdout();
        assert!(
            !text.contains('\u{1b}'),
            "no escape code reaches the status:\n{text}"
        );
        assert_eq!(text.lines().count(), 3, "header, row, detail:\n{text}");
        let resumed = db.run(&["rotate", "--resume", "--database", "--yes"]);
        resumed
            .assert_code(1)
            .assert_stderr_contains("not written by cronos-secrets")
            .assert_stderr_contains(why)
            .assert_stderr_contains(location.split('?').next().unwrap_or_default())
            .assert_stderr_contains("--abort database_password");
        assert!(!resumed.stderr().contains(attacker), "{}", resumed.stderr());
        assert!(!resumed.stderr().contains('\u{1b}'), "{}", resumed.stderr());
        let again = db.run(&["rotate", "--database", "--yes"]);
        again
            .assert_code(1)
            .assert_stderr_contains("not written by cronos-secrets");
        assert!(!again.stderr().contains('\u{1b}'), "{}", again.stderr());
        // Nothing changed: no ALTER ROLE of the admin or the app, both log in as before.
        let log = pg().log_text();
        for target in [&admin, &role.to_string()] {
            assert!(
                !log.contains(&format!("ALTER ROLE \"{target}\"")),
                "ALTER ROLE {target} ran ({why})"
            );
        }
        assert!(pg().login_ok(&admin, &pg().admin_password), "{why}");
        assert!(!pg().login_ok(&admin, attacker), "{why}");
        assert_eq!(db.current().password, initial, "{why}");
        assert!(db.logs_in(&Login {
            user: role.to_string(),
            password: initial.clone(),
        }));
        // --abort drops it without trying its login; the current value stays.
        db.run(&["rotate", "--abort", "--database", "--yes"])
            .assert_code(0)
            .assert_stderr_contains("the current value stays");
        assert_eq!(db.pending(), None);
        assert_eq!(db.current().password, initial);
    }
    for output in db.outputs.lock().unwrap().iter() {
        for value in [attacker, initial.as_str()] {
            assert!(
                !output.contains(value),
                "an output leaks a value:\n{output}"
            );
        }
    }
}

/// The audit log holds a `secret read` event of `reference`, read for `variable`: rotate's
/// reads are audited like a launch's.
fn assert_secret_read(audit: &str, variable: &str, reference: &str) {
    let found = audit
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .any(|event| {
            let fields = event.get("fields").unwrap_or(&event);
            fields["message"] == "secret read"
                && fields["variable"] == variable
                && fields["reference"] == reference
        });
    assert!(
        found,
        "a secret read event of {reference} for {variable}: {audit}"
    );
}

/// The time between two rotation steps' audit events.
fn step_gap(audit: &str, from: &str, to: &str) -> Duration {
    let time = |step: &str| -> f64 {
        audit
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|event| event["fields"]["step"] == step || event["step"] == step)
            .and_then(|event| {
                let stamp = event["timestamp"].as_str()?.to_string();
                seconds_of_day(&stamp)
            })
            .unwrap_or_else(|| panic!("an audit event for {step}: {audit}"))
    };
    let gap = time(to) - time(from);
    assert!(gap >= 0.0, "promote follows set");
    Duration::from_secs_f64(gap)
}

/// `2026-12-05T12:34:56.789012Z` → seconds since midnight.
fn seconds_of_day(stamp: &str) -> Option<f64> {
    let time = stamp.split('T').nth(1)?.trim_end_matches('Z');
    let mut parts = time.split(':');
    let hours: f64 = parts.next()?.parse().ok()?;
    let minutes: f64 = parts.next()?.parse().ok()?;
    let seconds: f64 = parts.next()?.parse().ok()?;
    Some(hours * 3600.0 + minutes * 60.0 + seconds)
}

/// `strategy: alternating`, from a secret `single` left: `--setup`, then rotations that flip
/// the role, with launches logging in all along.
fn alternating(store: &Store, role: &str, kills: bool) {
    let db = Database {
        store,
        role: role.to_string(),
        alternating: true,
        connection: verify_full(),
        admin_user: pg().admin_user.clone(),
        planted: Vec::new(),
        seen: Mutex::new(BTreeSet::new()),
        outputs: Mutex::new(Vec::new()),
    };
    let other = format!("{role}_b");
    let group = format!("{role}_group");
    // --dry-run prints the set-up's SQL and changes nothing.
    db.run(&["rotate", "--database", "--setup", "--dry-run"])
        .assert_code(0)
        .assert_stdout_contains(&format!("GRANT \"{group}\" TO \"{role}\", \"{other}\";"));
    let groups = pg().admin_sql(&format!(
        "SELECT count(*) FROM pg_roles WHERE rolname = '{group}'"
    ));
    assert_eq!(groups, "0", "a dry run creates no role");
    // The secret holds a password only (from single): --setup stores it as the first role's
    // pair, so launches read #username before any alternating rotation. Twice: idempotent.
    let setup = db.run(&["rotate", "--database", "--setup", "--yes"]);
    setup
        .assert_code(0)
        .assert_stderr_contains("now holds the user name");
    let again = db.run(&["rotate", "--database", "--setup", "--yes"]);
    again.assert_code(0);
    assert!(!again.stderr().contains("now holds the user name"));
    let first = db.current();
    assert_eq!(first.user, role);
    assert!(db.logs_in(&first));
    let members = pg().admin_sql(&format!(
        "SELECT string_agg(r.rolname, ',' ORDER BY r.rolname) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = '{group}'"
    ));
    assert_eq!(members, format!("{role},{other}"));
    pg().admin_sql(&format!("GRANT USAGE, CREATE ON SCHEMA public TO {group}"));

    let launches = LaunchLoop::start(&db);
    let second = db.rotate();
    assert_eq!(
        second.user, other,
        "the role not in use gets the new password"
    );
    assert!(
        db.logs_in(&first),
        "the previous role keeps working until the next rotation"
    );
    let third = db.rotate();
    assert_eq!(third.user, role);
    assert!(db.logs_in(&second));
    assert!(
        !db.logs_in(&first),
        "the next rotation replaced the oldest password"
    );
    if kills {
        for step in STEPS {
            let killed = db.run_faulty(&["rotate", "--database", "--yes"], step);
            assert_eq!(killed.code(), -1, "killed after {step}");
            let current = db.current();
            assert!(
                db.logs_in(&current),
                "after {step}: the current login works at every instant"
            );
            if step != "finish" {
                db.run(&["rotate", "--resume", "--database", "--yes"])
                    .assert_code(0);
            }
            assert!(db.logs_in(&db.current()));
        }
    }
    let (total, failures) = launches.finish();
    eprintln!(
        "[{}] strategy alternating: {total} launches during the rotations, {} failed",
        store.name,
        failures.len()
    );
    assert!(total >= 3, "the loop ran ({total} launches)");
    assert!(
        failures.is_empty(),
        "zero failed logins; the first: {}",
        failures[0]
    );

    // Tables created by either role are the group's: each reads the other's (the previous
    // login works until the next rotation).
    let previous = &db.current();
    let now = db.rotate();
    assert_ne!(now.user, previous.user);
    let table = |login: &Login| format!("t_{}_{}", store.name, login.user);
    for (writer, reader) in [(&now, previous), (previous, &now)] {
        pg().user_sql(
            &writer.user,
            &writer.password,
            &format!(
                "CREATE TABLE {t} (x int); INSERT INTO {t} VALUES (7)",
                t = table(writer)
            ),
        )
        .expect("create a table");
        let read = pg().user_sql(
            &reader.user,
            &reader.password,
            &format!("SELECT x FROM {}", table(writer)),
        );
        assert_eq!(
            read.as_deref(),
            Ok("7"),
            "{} reads {}'s table",
            reader.user,
            writer.user
        );
    }
    let owner = pg().admin_sql(&format!(
        "SELECT tableowner FROM pg_tables WHERE tablename = '{}'",
        table(&now)
    ));
    assert_eq!(owner, group);
    db.assert_no_leak();
}

/// Launches that log in (`run -- psql … -c 'select 1'`) in a loop until finished.
struct LaunchLoop {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<(usize, Vec<String>)>,
}

impl LaunchLoop {
    fn start(db: &Database) -> LaunchLoop {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let launch_config = db.launch();
        let config = read(&launch_config.path("config.yaml"));
        let env = db.store.launch_env();
        let password = match db.store.pair_password_key {
            Some(key) => format!("${{secret://database_password#{key}}}"),
            None => "${secret://database_password}".to_string(),
        };
        let env_file =
            format!("PGUSER=${{secret://database_password#username}}\nPGPASSWORD={password}\n");
        let pg = pg();
        let args = vec![
            "--no-env-file".to_string(),
            "--env-file".to_string(),
            "psql.env".to_string(),
            "run".to_string(),
            "--".to_string(),
            "psql".to_string(),
            "-h".to_string(),
            "127.0.0.1".to_string(),
            "-p".to_string(),
            pg.port.to_string(),
            "-d".to_string(),
            pg.dbname.clone(),
            "-w".to_string(),
            "-tAc".to_string(),
            "select 1".to_string(),
        ];
        let handle = thread::spawn(move || {
            let mut total = 0;
            let mut failures = Vec::new();
            while !flag.load(Ordering::SeqCst) || total < 3 {
                let mut launch = Launch::new()
                    .file("config.yaml", &config)
                    .file("psql.env", &env_file)
                    .env("CRONOS_SECRETS_CONFIG", "config.yaml");
                for (name, value) in &env {
                    launch = launch.env(name, value);
                }
                let outcome = launch.args(&args[1..]).run();
                total += 1;
                if outcome.code() != 0 || outcome.stdout().trim() != "1" {
                    failures.push(outcome.stderr());
                }
            }
            (total, failures)
        });
        LaunchLoop { stop, handle }
    }

    fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("the launch loop")
    }
}

impl Store {
    /// The environment of this store's launches (credentials), for launches built elsewhere.
    fn launch_env(&self) -> BTreeMap<String, String> {
        let command = (self.launch)().command();
        let mut env = BTreeMap::new();
        for (name, value) in command.get_envs() {
            if let (Some(name), Some(value)) = (name.to_str(), value.and_then(|v| v.to_str())) {
                env.insert(name.to_string(), value.to_string());
            }
        }
        env
    }
}

/// Every process's argv (`/proc/*/cmdline`), sampled until finished.
struct ArgvWatch {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<BTreeSet<String>>,
}

impl ArgvWatch {
    fn start() -> ArgvWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = thread::spawn(move || {
            let mut seen = BTreeSet::new();
            let started = Instant::now();
            while !flag.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                if let Ok(entries) = std::fs::read_dir("/proc") {
                    for entry in entries.flatten() {
                        if let Ok(bytes) = std::fs::read(entry.path().join("cmdline"))
                            && !bytes.is_empty()
                        {
                            seen.insert(String::from_utf8_lossy(&bytes).replace('\0', " "));
                        }
                    }
                }
            }
            seen
        });
        ArgvWatch { stop, handle }
    }

    fn finish(self) -> BTreeSet<String> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("the argv watch")
    }
}

/// Redis's two passwords through a backend (tests/rotate_redis.rs walks the rest on OpenBao):
/// each rotation keeps the replaced password valid until the next one, also after a kill -9
/// after *set* and `--resume`.
fn redis(store: &Store, user: &str) {
    let server = common::redis::shared();
    let initial = format!("initial-redis-password-of-{user}");
    server.add_user(user, &initial);
    (store.plant)("redis_admin_password", &server.admin_password);
    (store.plant)("redis_password", &initial);
    let config = format!(
        "rotation:\n  redis:\n    host: 127.0.0.1\n    port: {}\n    admin_user: {}\n    admin_password: secret://redis_admin_password\n    user: {user}\nsecrets:\n  redis_password: {{env: CRONOS_AI_REDIS_PASSWORD, min_length: 16}}\n",
        server.port,
        common::redis::ADMIN_USER,
    );
    let current = || {
        let outcome = store
            .with_config(&config)
            .args(["--no-env-file", "run", "--", "env", "-0"])
            .run();
        outcome.assert_code(0);
        outcome.child_env()["CRONOS_AI_REDIS_PASSWORD"].clone()
    };
    let rotate = |fault: Option<&str>| {
        let mut launch = store.with_config(&config).args(["--no-env-file"]);
        if let Some(step) = fault {
            launch = launch.env(
                "CRONOS_SECRETS_ROTATE_FAULT",
                &format!("sigkill-after:{step}"),
            );
        }
        launch.args(["rotate", "--redis", "--yes"]).run()
    };
    let mut outputs = Vec::new();
    let first = rotate(None);
    first.assert_code(0);
    let second_password = current();
    assert_ne!(second_password, initial);
    assert!(server.auth_ok(user, &initial) && server.auth_ok(user, &second_password));
    let killed = rotate(Some("set"));
    assert_eq!(killed.code(), -1);
    assert!(
        server.auth_ok(user, &current()),
        "the current password works after the kill"
    );
    let resumed = store
        .with_config(&config)
        .args(["--no-env-file", "rotate", "--resume", "--redis", "--yes"])
        .run();
    resumed.assert_code(0);
    let third_password = current();
    assert_ne!(third_password, second_password);
    assert!(server.auth_ok(user, &second_password) && server.auth_ok(user, &third_password));
    assert!(
        !server.auth_ok(user, &initial),
        "the next rotation dropped the oldest"
    );
    outputs.extend([first.stderr(), killed.stderr(), resumed.stderr()]);
    for output in outputs {
        for value in [&initial, &second_password, &third_password] {
            assert!(
                !output.contains(value.as_str()),
                "an output leaks a value:\n{output}"
            );
        }
    }
    eprintln!(
        "[{}] redis: both passwords valid between rotations",
        store.name
    );
}

#[test]
fn planted_slots_on_vault() {
    planted_slots(&Store::vault("rotate-db/planted"), "planted_vault");
}

#[test]
fn planted_slots_on_aws() {
    planted_slots(&Store::aws("rotate-db-planted"), "planted_aws");
}

#[cfg(feature = "azure")]
#[test]
fn planted_slots_on_azure() {
    planted_slots(&Store::azure(1), "planted_azure");
}

#[test]
fn postgres_on_vault() {
    let store = Store::vault("rotate-db/vault");
    single(&store, "app_vault");
    alternating(&store, "app_vault", false);
}

#[test]
fn postgres_and_redis_on_aws() {
    let store = Store::aws("rotate-db-aws");
    single(&store, "app_aws");
    alternating(&store, "app_aws", true);
    redis(&store, "app_aws");
}

#[cfg(feature = "azure")]
#[test]
fn postgres_and_redis_on_azure() {
    let store = Store::azure(0);
    single(&store, "app_azure");
    alternating(&store, "app_azure", false);
    redis(&store, "app_azure");
}

/// The `single` Database of a test on `store`, connecting as `connection` says.
fn database<'a>(store: &'a Store, role: &str, connection: String) -> Database<'a> {
    Database {
        store,
        role: role.to_string(),
        alternating: false,
        connection,
        admin_user: pg().admin_user.clone(),
        planted: vec![format!("initial-password-of-{role}")],
        seen: Mutex::new(BTreeSet::new()),
        outputs: Mutex::new(Vec::new()),
    }
}

/// A new login role with its initial password, planted in `store` with the admin's.
fn new_role<'a>(store: &'a Store, role: &str, connection: String) -> Database<'a> {
    plant_admin(store);
    let initial = format!("initial-password-of-{role}");
    pg().admin_sql(&format!("CREATE ROLE {role} LOGIN PASSWORD '{initial}'"));
    (store.plant)("database_password", &initial);
    database(store, role, connection)
}

/// Issue 19 item 6: under sslmode prefer and require, whoever answers on the database's
/// address with a certificate of its own and asks for a cleartext password gets no password
/// (admin, current or pending); the rotation stops with an error naming the address, the user
/// and the fix, after a warning that these modes cannot tell an impostor.
#[test]
fn postgres_impostor_asking_for_cleartext_gets_no_password() {
    let impostor = Impostor::start("cleartext", None);
    for (sslmode, store) in [
        ("prefer", Store::vault("rotate-db/impostor-prefer")),
        ("require", Store::vault("rotate-db/impostor-require")),
    ] {
        let role = format!("app_impostor_{sslmode}");
        let db = new_role(
            &store,
            &role,
            connection("127.0.0.1", impostor.port, sslmode),
        );
        let outcome = db.run(&["rotate", "--database", "--yes"]);
        assert_ne!(outcome.code(), 0, "{}", outcome.stderr());
        let stderr = outcome.stderr();
        for expected in [
            format!("127.0.0.1:{} asks for the password of ", impostor.port),
            "an impostor on that address would get it; refused, no password was sent".into(),
            "hint: use sslmode: verify-full".into(),
            format!("rotation.database.sslmode {sslmode} does not check the server's certificate"),
        ] {
            assert!(stderr.contains(&expected), "{expected}\n{stderr}");
        }
        let received = impostor.received();
        assert!(received.contains("cronos_ai"), "the impostor was asked");
        let mut passwords = vec![pg().admin_password.clone(), db.current().password];
        passwords.extend(db.pending().map(|login| login.password));
        for password in &passwords {
            assert!(
                !received.contains(password.as_str()),
                "the impostor received a password ({sslmode})"
            );
        }
        outcome.assert_no_leak(&passwords.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

/// SCRAM-SHA-256-PLUS against the real server under sslmode require (where the certificate
/// proves nothing): the login is bound to the TLS channel. A man in the middle that relays the
/// logins through a TLS of its own, or also removes SCRAM-SHA-256-PLUS from the offer, is
/// refused by the real server, and the password stays as it was.
#[test]
fn postgres_logins_are_bound_to_the_tls_channel() {
    let store = Store::vault("rotate-db/binding");
    let direct = new_role(
        &store,
        "app_binding",
        connection("127.0.0.1", pg().port, "require"),
    );
    let before = direct.current();
    let outcome = direct.run(&["rotate", "--database", "--yes"]);
    outcome
        .assert_code(0)
        .assert_stderr_contains("SCRAM-SHA-256-PLUS");
    let after = direct.current();
    assert_ne!(after, before);
    assert!(direct.logs_in(&after));
    direct.assert_no_leak();

    for (mode, prefix, refusal) in [
        (
            "relay",
            "rotate-db/binding-relay",
            "SCRAM channel binding check failed",
        ),
        (
            "relay-strip-plus",
            "rotate-db/binding-strip",
            "SCRAM channel binding negotiation error",
        ),
    ] {
        let relay = Impostor::start(mode, Some(pg().port));
        let store = Store::vault(prefix);
        let role = format!("app_binding_{}", mode.replace('-', "_"));
        let db = new_role(
            &store,
            &role,
            connection("127.0.0.1", relay.port, "require"),
        );
        let before = db.current();
        let outcome = db.run(&["rotate", "--database", "--yes"]);
        assert_ne!(outcome.code(), 0, "{mode}: {}", outcome.stderr());
        outcome.assert_stderr_contains(refusal);
        assert!(db.logs_in(&before), "{mode}: the password did not change");
        db.assert_no_leak();
    }
}

/// `password` in pg_hba.conf (the fixture's cleartext_user): the cleartext password crosses
/// the unix socket and verify-full TLS, never TLS that sslmode require did not verify.
#[test]
fn postgres_cleartext_only_over_a_socket_or_verified_tls() {
    let store = Store::vault("rotate-db/cleartext");
    let socket = pg().socket_dir.display().to_string();
    let role = "cleartext_user";
    let over_socket = new_role(&store, role, connection(&socket, pg().port, "prefer"));
    over_socket.rotate();
    over_socket.assert_no_leak();
    let verified = database(&store, role, verify_full());
    verified.rotate();
    verified.assert_no_leak();
    let unverified = database(&store, role, connection("127.0.0.1", pg().port, "require"));
    let outcome = unverified.run(&["rotate", "--database", "--yes"]);
    assert_ne!(outcome.code(), 0);
    outcome.assert_stderr_contains(&format!(
        "127.0.0.1:{} asks for the password of {role} in clear text",
        pg().port
    ));
}

/// Issue 21 item 6: passwords with non-ASCII characters, set by psql (the server computes the
/// verifier with its own SASLprep), log in with ours: an admin and a role whose passwords hold
/// a soft hyphen (mapped to nothing), a Roman numeral and fullwidth letters (NFKC folds them to
/// ASCII) and accented letters (kept). The rotation logs in as both and succeeds.
#[test]
fn postgres_non_ascii_passwords_set_by_psql_log_in() {
    let store = Store::vault("rotate-db/saslprep");
    let admin = "admin_saslprep";
    let admin_password = "adm\u{AD}in-Ⅸ-ｆｕｌｌｗｉｄｔｈ-pässwörd";
    let role = "app_saslprep";
    let initial = "app\u{AD}-Ⅻ-ｘｙｚ-ünïcödé-pässwörd";
    // The server's SASLprep form of the role's password logs in too (as psql checks it): the
    // verifier was computed from the prepared form, not the bytes.
    let prepared = "app-XII-xyz-ünïcödé-pässwörd";
    pg().admin_sql(&format!(
        "SET client_encoding = 'UTF8'; CREATE ROLE {admin} LOGIN CREATEROLE PASSWORD '{admin_password}'; CREATE ROLE {role} LOGIN PASSWORD '{initial}'"
    ));
    assert!(pg().login_ok(role, prepared), "the server applies SASLprep");
    (store.plant)("postgres_admin_password", admin_password);
    (store.plant)("database_password", initial);
    let mut db = database(&store, role, verify_full());
    db.admin_user = admin.to_string();
    db.planted
        .extend([admin_password.to_string(), initial.to_string()]);
    assert_eq!(db.current().password, initial);
    let rotated = db.rotate();
    assert!(!db.logs_in(&Login {
        user: role.to_string(),
        password: initial.to_string(),
    }));
    assert!(db.logs_in(&rotated));
    db.assert_no_leak();
}
