//! `rotate --redis` against a real Redis 7 (plain and TLS-only, started once for this binary),
//! with the passwords in OpenBao. Checks what the issue asks: both passwords work after a
//! rotation and the next one drops the older; no plaintext in MONITOR, the slow log, the ACL
//! log, the saved ACL file or any output; kill -9 after each step with the current password
//! logging in at every instant; TLS checked against the configured CA; the change persisted
//! with ACL SAVE, else CONFIG REWRITE, else a warning.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use common::openbao::{OpenBao, ROOT_TOKEN};
use common::redis::{ADMIN_USER, Persistence, RedisServer, misbehaving, shared, shared_tls};
use common::tls::{Ca, tls};
use common::*;
use sha2::{Digest, Sha256};

const STEPS: [&str; 5] = ["create", "set", "test", "promote", "finish"];

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// One test's ACL user on a Redis server, its password in OpenBao under the test's own path.
struct Rotation<'a> {
    server: &'a RedisServer,
    /// The port the config names: the server's, or a recorder's in front of it.
    port: u16,
    prefix: String,
    user: String,
    tls_ca: Option<PathBuf>,
    /// Every password the test planted or a run generated, for the leak checks.
    seen: Mutex<BTreeSet<String>>,
    outputs: Mutex<Vec<String>>,
}

impl<'a> Rotation<'a> {
    /// `user` with `initial` as its one password, in Redis and in the store.
    fn new(server: &'a RedisServer, user: &str, initial: &str) -> Rotation<'a> {
        let prefix = format!("rotate-redis/{user}");
        server.add_user(user, initial);
        let rotation = Rotation {
            server,
            port: server.port,
            prefix,
            user: user.to_string(),
            tls_ca: server.tls.then(|| tls().ca.clone()),
            seen: Mutex::new(BTreeSet::from([initial.to_string()])),
            outputs: Mutex::new(Vec::new()),
        };
        rotation.plant("redis_admin_password", &server.admin_password);
        rotation.plant("redis_password", initial);
        rotation
    }

    fn plant(&self, name: &str, value: &str) {
        bao().put(
            "secret",
            &format!("{}/{name}", self.prefix),
            &[("value", value)],
        );
    }

    fn config(&self) -> String {
        let tls = match &self.tls_ca {
            Some(ca) => format!("    tls: true\n    tls_ca: {}\n", ca.display()),
            None => String::new(),
        };
        format!(
            "secrets_manager:\n  enabled: true\n  backend: vault\n  vault_path: {prefix}\nrotation:\n  redis:\n    host: 127.0.0.1\n    port: {port}\n    admin_user: {ADMIN_USER}\n    admin_password: secret://redis_admin_password\n    user: {user}\n{tls}secrets:\n  redis_password: {{env: CRONOS_AI_REDIS_PASSWORD, min_length: 16}}\n",
            prefix = self.prefix,
            port = self.port,
            user = self.user,
        )
    }

    fn launch(&self) -> Launch {
        Launch::new()
            .env("VAULT_ADDR", &bao().address)
            .env("VAULT_TOKEN", ROOT_TOKEN)
            .file("config.yaml", &self.config())
            .env("CRONOS_SECRETS_CONFIG", "config.yaml")
            .args(["--no-env-file"])
    }

    fn run(&self, args: &[&str]) -> Outcome {
        let outcome = self.launch().env("RUST_LOG", "trace").args(args).run();
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

    fn get(&self, reference: &str) -> Option<String> {
        let outcome = self.launch().args(["get", "--force", reference]).run();
        let value = (outcome.code() == 0).then(|| outcome.stdout())?;
        self.seen.lock().unwrap().insert(value.clone());
        Some(value)
    }

    fn current(&self) -> String {
        self.get("redis_password")
            .expect("redis_password is readable")
    }

    fn pending(&self) -> Option<String> {
        self.get(&format!(
            "vault://secret/{}/redis_password.pending",
            self.prefix
        ))
    }

    fn logs_in(&self, password: &str) -> bool {
        self.server.auth_ok(&self.user, password)
    }

    /// `rotate --redis --yes`: a new 43-character password that logs in, the slot removed.
    fn rotate(&self) -> String {
        let before = self.current();
        self.run(&["rotate", "--redis", "--yes"]).assert_code(0);
        let after = self.current();
        assert_ne!(after, before);
        assert_eq!(after.len(), 43);
        assert!(self.logs_in(&after), "the new password logs in");
        assert_eq!(self.pending(), None, "finish removed the slot");
        after
    }

    /// A rotation through a recorder: the ACL SETUSER on the wire carries the SHA-256 of the
    /// current and new passwords, never either password.
    fn rotate_recorded(&mut self) -> String {
        let recorder = self.server.recorder();
        self.port = recorder.port;
        let before = self.current();
        let after = self.rotate();
        self.port = self.server.port;
        let sent = String::from_utf8_lossy(&recorder.sent()).into_owned();
        let (_, rest) = sent
            .split_once("SETUSER")
            .unwrap_or_else(|| panic!("the run sent ACL SETUSER:\n{sent}"));
        let setuser = rest.split("\r\n*").next().unwrap_or_default();
        assert!(setuser.contains("resetpass"), "{setuser}");
        for password in [&before, &after] {
            assert!(
                setuser.contains(&format!("#{}", sha256_hex(password))),
                "{setuser}"
            );
            assert!(
                !setuser.contains(password.as_str()),
                "ACL SETUSER carries a password"
            );
        }
        assert!(sent.contains("AUTH"), "the recorder saw the logins");
        after
    }

    /// No password this test saw in any output of its runs, nor in `text`.
    fn assert_no_leak(&self, text: &str, what: &str) {
        let outputs = self.outputs.lock().unwrap();
        for value in self.seen.lock().unwrap().iter() {
            assert!(
                !text.contains(value.as_str()),
                "{what} holds a password:\n{text}"
            );
            for output in outputs.iter() {
                assert!(
                    !output.contains(value.as_str()),
                    "an output leaks a value:\n{output}"
                );
            }
        }
    }
}

#[test]
fn a_rotation_keeps_the_current_password_until_the_next_and_leaks_nothing() {
    let server = shared();
    let initial = "initial-password-of-app-one";
    let mut redis = Rotation::new(server, "app_one", initial);
    redis
        .run(&["rotate", "--redis", "--dry-run"])
        .assert_code(0)
        .assert_stdout_contains(&format!("redis app_one@127.0.0.1:{}", server.port));
    assert_eq!(redis.current(), initial, "a dry run changes nothing");

    let monitor = server.monitor();
    let second = redis.rotate();
    let monitored = monitor.finish();
    assert!(
        redis.logs_in(initial),
        "the previous password works until the next rotation"
    );
    assert!(
        monitored.matches("\"AUTH\"").count() >= 3,
        "the monitor saw the run's logins:\n{monitored}"
    );
    redis.assert_no_leak(&monitored, "MONITOR");

    let acl_file = read(server.users_file.as_ref().expect("an aclfile"));
    let line = acl_file
        .lines()
        .find(|line| line.starts_with("user app_one "))
        .unwrap_or_else(|| panic!("ACL SAVE wrote app_one:\n{acl_file}"));
    assert!(
        line.contains(&format!("#{}", sha256_hex(initial))),
        "{line}"
    );
    assert!(
        line.contains(&format!("#{}", sha256_hex(&second))),
        "{line}"
    );

    let third = redis.rotate_recorded();
    assert!(
        !redis.logs_in(initial),
        "the next rotation drops the oldest password"
    );
    assert!(redis.logs_in(&second) && redis.logs_in(&third));

    let logs = server.command_logs();
    assert!(
        logs.contains("SETUSER"),
        "the slow log has every command:\n{logs}"
    );
    redis.assert_no_leak(&logs, "the slow log or ACL log");
    redis.assert_no_leak(&read(server.users_file.as_ref().unwrap()), "the ACL file");
}

/// kill -9 after each step: Redis accepts the current password at every instant (set keeps
/// it), and --resume completes from there.
#[test]
fn a_run_killed_after_any_step_resumes_with_the_current_password_working() {
    let redis = Rotation::new(shared(), "app_killed", "initial-password-of-app-killed");
    for step in STEPS {
        let before = redis.current();
        let killed = redis.run_faulty(&["rotate", "--redis", "--yes"], step);
        assert_eq!(killed.code(), -1, "killed after {step}");
        let current = redis.current();
        assert!(
            redis.logs_in(&current),
            "after {step}: the current password logs in"
        );
        let pending = redis.pending();
        if step == "finish" {
            assert_eq!(pending, None);
        } else {
            let pending = pending.unwrap_or_else(|| panic!("a pending slot after {step}"));
            if step != "create" {
                assert!(
                    redis.logs_in(&pending),
                    "after {step}: the pending password is set"
                );
            }
            redis
                .run(&["rotate", "--resume", "--redis", "--yes"])
                .assert_code(0);
        }
        let now = redis.current();
        assert_ne!(now, before, "after {step} and --resume");
        assert!(redis.logs_in(&now) && redis.logs_in(&before));
        assert_eq!(redis.pending(), None);
    }
    redis.assert_no_leak("", "");
}

#[test]
fn tls_is_checked_against_the_configured_ca() {
    let server = shared_tls();
    let initial = "initial-password-of-app-tls";
    let mut redis = Rotation::new(server, "app_tls", initial);
    let unrelated = tempfile::tempdir().unwrap();
    redis.tls_ca = Some(Ca::new(unrelated.path(), "unrelated").cert);
    redis
        .run(&["rotate", "--redis", "--yes"])
        .assert_code(1)
        .assert_stderr_contains("TLS handshake failed: invalid peer certificate: UnknownIssuer")
        .assert_stderr_contains("hint: check rotation.redis.tls_ca");
    assert_eq!(redis.current(), initial);
    assert!(redis.logs_in(initial));

    // The slot the failed run created is completed over TLS with the right CA.
    redis.tls_ca = Some(tls().ca.clone());
    assert!(
        redis.pending().is_some(),
        "the failed run kept its pending slot"
    );
    redis
        .run(&["rotate", "--resume", "--redis", "--yes"])
        .assert_code(0);
    let rotated = redis.current();
    assert_ne!(rotated, initial);
    assert!(redis.logs_in(&rotated) && redis.logs_in(initial));
    redis.rotate();
    redis.assert_no_leak("", "");
}

#[test]
fn a_wrong_admin_password_or_a_missing_user_changes_nothing() {
    let server = shared();
    let initial = "initial-password-of-app-admin";
    let redis = Rotation::new(server, "app_admin", initial);
    redis.plant("redis_admin_password", "not-the-admin-password");
    redis
        .run(&["rotate", "--redis", "--yes"])
        .assert_code(1)
        .assert_stderr_contains("the admin user default was refused (WRONGPASS)")
        .assert_stderr_contains("admin_password reference");
    assert_eq!(redis.current(), initial);
    assert!(redis.logs_in(initial));
    redis
        .run(&["rotate", "--abort", "--redis", "--yes"])
        .assert_code(0);
    assert_eq!(redis.pending(), None);

    let mut missing = Rotation::new(server, "app_missing", "initial-password-of-app-missing");
    missing.user = "no_such_user".into();
    missing
        .run(&["rotate", "--redis", "--yes"])
        .assert_code(1)
        .assert_stderr_contains("accepts neither the pending nor the current password");
    missing
        .run(&["rotate", "--abort", "--redis", "--yes"])
        .assert_code(0);
    assert_eq!(missing.pending(), None);
    redis.assert_no_leak("", "");
    missing.assert_no_leak("", "");
}

/// Without an aclfile the users go to redis.conf (CONFIG REWRITE); without a config file either,
/// the change works but a warning says it is lost on a restart.
#[test]
fn without_an_acl_file_the_config_file_keeps_the_change_or_a_warning_says_it_is_lost() {
    let server = RedisServer::start_with(false, Persistence::ConfigFile);
    let redis = Rotation::new(&server, "app_conf", "initial-password-of-app-conf");
    let rotated = redis.rotate();
    let config = read(server.users_file.as_ref().expect("redis.conf"));
    assert!(
        config.contains(&format!("#{}", sha256_hex(&rotated))),
        "{config}"
    );
    redis.assert_no_leak(&config, "redis.conf");
    redis.assert_no_leak(&server.command_logs(), "the slow log or ACL log");

    let server = RedisServer::start_with(false, Persistence::Nothing);
    let redis = Rotation::new(&server, "app_memory", "initial-password-of-app-memory");
    let outcome = redis.run(&["rotate", "--redis", "--yes"]);
    outcome
        .assert_code(0)
        .assert_stderr_contains("set in memory only, lost when Redis restarts")
        .assert_stderr_contains(&format!("redis app_memory@127.0.0.1:{}", server.port));
    assert!(redis.logs_in(&redis.current()));
    redis.assert_no_leak("", "");
}

/// A server that never answers, answers too much or is not Redis: an error that names it, within
/// --timeout, and the user's password unchanged.
#[test]
fn a_misbehaving_server_is_an_error_within_the_timeout() {
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("silent", Vec::new(), "timed out (--timeout)"),
        (
            "huge",
            b"$99999999999\r\n".to_vec(),
            "a reply larger than 1 MiB was refused",
        ),
        (
            "endless",
            [b"+".to_vec(), vec![b'a'; 3 << 20]].concat(),
            "a reply larger than 1 MiB was refused",
        ),
        (
            "http",
            b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
            "not a Redis reply",
        ),
    ];
    for (name, answer, expected) in cases {
        let user = format!("app_{name}");
        let initial = format!("initial-password-of-{user}");
        let mut redis = Rotation::new(shared(), &user, &initial);
        redis.port = misbehaving(answer);
        redis
            .run(&["--timeout", "3s", "rotate", "--redis", "--yes"])
            .assert_code(1)
            .assert_stderr_contains(&format!("probe failed: redis {user}@127.0.0.1:"))
            .assert_stderr_contains(expected);
        redis.port = shared().port;
        assert_eq!(redis.current(), initial);
        assert!(redis.logs_in(&initial));
        redis.assert_no_leak("", "");
    }
}
