//! The Vault client against servers that misbehave on purpose (small fakes on 127.0.0.1 and
//! 127.0.0.2): redirects to another origin, huge and endless answers, a revocation that never
//! answers; and credential files that are FIFOs, credentials in the address.
#![cfg(feature = "vault")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::deadline::run_within;
use common::fake_http::{FakeServer, Reply, Request};
use common::server::{Server, free_port};
use common::*;
use serde_json::json;

const TOKEN: &str = "hvs.PLANTED-launcher-token-4f9a";
const SECRET_ID: &str = "PLANTED-secret-id-77c1";
const LOGIN_TOKEN: &str = "hvs.PLANTED-login-token-2b8e";
/// Longer than any launch here should take: a hang fails the test instead of the suite.
const HARD_LIMIT: Duration = Duration::from_secs(20);

/// Answers like a Vault with a KV v2 mount `secret` and AppRole at `auth/approle`.
fn kv_vault(request: &Request) -> Reply {
    let path = request.path.as_str();
    match request.method.as_str() {
        "POST" if path == "/v1/auth/approle/login" => Reply::Json(
            200,
            json!({ "request_id": "r-1", "lease_id": "", "renewable": false,
                    "lease_duration": 0, "data": null, "wrap_info": null, "warnings": null,
                    "auth": {
                    "client_token": LOGIN_TOKEN, "accessor": "accessor-1", "policies": ["default"],
                    "token_policies": ["default"], "metadata": {}, "lease_duration": 3600,
                    "renewable": true, "entity_id": "", "token_type": "service", "orphan": true
                } }),
        ),
        "GET" if path.starts_with("/v1/sys/internal/ui/mounts/") => Reply::Json(
            200,
            json!({ "data": { "type": "kv", "options": { "version": "2" } } }),
        ),
        "GET" if path.starts_with("/v1/secret/data/") => Reply::Json(
            200,
            json!({ "data": {
                "data": { "value": JWT_SECRET },
                "metadata": { "version": 1, "created_time": "2024-05-01T12:00:00Z" }
            } }),
        ),
        "POST" if path.starts_with("/v1/secret/data/") => Reply::Json(
            200,
            json!({ "data": { "version": 2, "created_time": "2024-05-01T12:00:00Z" } }),
        ),
        _ => Reply::Json(404, json!({ "errors": [] })),
    }
}

/// A launch against `address` whose env file reads `A=vault://secret/app/a`, with a token.
fn launch(address: &str) -> Launch {
    Launch::new()
        .env("VAULT_ADDR", address)
        .env("VAULT_TOKEN", TOKEN)
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .file("none.yaml", "secrets: {}\n")
        .env("CRONOS_SECRETS_CONFIG", "none.yaml")
        .file(".env.production", "A=vault://secret/app/a\n")
}

fn approle(launch: Launch) -> Launch {
    launch
        .remove_env("VAULT_TOKEN")
        .env("CRONOS_SECRETS_VAULT_AUTH__METHOD", "approle")
        .env("VAULT_ROLE_ID", "role-1")
        .env("VAULT_SECRET_ID", SECRET_ID)
}

/// `elsewhere` (127.0.0.2) answers like Vault; `front` (127.0.0.1, the configured address)
/// redirects the requests `redirected` picks to it, keeping the path.
fn redirect_pair(redirected: fn(&Request) -> bool) -> (FakeServer, FakeServer) {
    let elsewhere = FakeServer::start("127.0.0.2", kv_vault);
    let target = elsewhere.address.clone();
    let front = FakeServer::start("127.0.0.1", move |request| {
        if redirected(request) {
            Reply::Redirect(307, format!("{target}{}", request.path))
        } else {
            kv_vault(request)
        }
    });
    (front, elsewhere)
}

fn assert_refused_redirect(outcome: &Outcome, elsewhere: &FakeServer) {
    outcome
        .assert_code(125)
        .assert_stderr_contains(&format!("redirecting to {}", elsewhere.address))
        .assert_stderr_contains("api_addr")
        .assert_no_leak(&[TOKEN, SECRET_ID, LOGIN_TOKEN, JWT_SECRET]);
    let received = elsewhere.requests();
    assert!(
        received.is_empty(),
        "the other origin received requests: {received:#?}"
    );
}

#[test]
fn reads_are_not_redirected_to_another_origin() {
    let (front, elsewhere) = redirect_pair(|request| request.method == "GET");
    let launch = launch(&front.address).args(["run", "--", "touch", "started"]);
    let outcome = launch.run();
    assert_refused_redirect(&outcome, &elsewhere);
    assert!(!launch.path("started").exists(), "the program was started");
    // Each request was tried once: a refused redirect is not retried.
    assert_eq!(front.requests().len(), 2, "{:#?}", front.requests());
}

#[test]
fn approle_logins_are_not_redirected_to_another_origin() {
    let (front, elsewhere) = redirect_pair(|request| request.path.starts_with("/v1/auth/"));
    let launch = approle(launch(&front.address)).args(["run", "--", "touch", "started"]);
    let outcome = launch.run();
    assert_refused_redirect(&outcome, &elsewhere);
    outcome.assert_stderr_contains("Vault authentication failed (approle at auth/approle)");
    assert!(!launch.path("started").exists(), "the program was started");
    let logins = front.requests();
    assert_eq!(logins.len(), 1, "{logins:#?}");
    assert!(
        logins[0].text().contains(SECRET_ID),
        "the login reached the front"
    );
}

#[test]
fn writes_are_not_redirected_to_another_origin() {
    let (front, elsewhere) = redirect_pair(|request| request.method == "POST");
    let new_value = "planted-new-value-for-set-0123456789";
    let outcome = launch(&front.address)
        .args(["set", "jwt_secret"])
        .run_with_stdin(format!("{new_value}\n").as_bytes());
    assert_refused_redirect(&outcome, &elsewhere);
    outcome.assert_no_leak(&[new_value]);
    assert!(!outcome.stderr().contains("stored"), "{}", outcome.stderr());
}

/// A test CA and a certificate for IP 127.0.0.1 it signed, made with the openssl CLI;
/// returns (CA PEM, leaf certificate, leaf key).
fn test_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let file = |name: &str| dir.join(name);
    std::fs::write(
        file("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=cronos-secrets test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    (file("ca.pem"), file("leaf.pem"), file("leaf.key"))
}

#[test]
fn https_is_never_downgraded_to_http_by_a_redirect() {
    let elsewhere = FakeServer::start("127.0.0.2", kv_vault);
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_ca(dir.path());
    let port = free_port();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/common/tls_redirect.py");
    let args: Vec<String> = [&script, &cert, &key]
        .iter()
        .map(|path| path.display().to_string())
        .chain([port.to_string(), elsewhere.address.clone()])
        .collect();
    let front = Server::start(
        "tls-redirect",
        "python3",
        &[&args[0], &args[3], &args[1], &args[2], &args[4]],
        &[],
        dir.path(),
        port,
    );
    front.wait_until("the TLS redirector", Duration::from_secs(10), || {
        front.accepts_connections()
    });
    let launch = launch(&format!("https://127.0.0.1:{port}"))
        .env("VAULT_CACERT", &ca.display().to_string())
        .args(["run", "--", "touch", "started"]);
    let outcome = launch.run();
    // The TLS handshake succeeded (the CA is trusted): the redirect itself was refused.
    outcome.assert_stderr_contains(&format!("Vault at https://127.0.0.1:{port}/ answered 307"));
    assert_refused_redirect(&outcome, &elsewhere);
    assert!(!launch.path("started").exists(), "the program was started");
}

#[test]
fn redirects_within_the_same_origin_are_followed_a_few_times() {
    let front = FakeServer::start("127.0.0.1", |request| {
        match request.path.strip_prefix("/v1/secret/data/app/") {
            // Relative, as a proxy that moved a path would answer.
            Some(name) => Reply::Redirect(307, format!("/v1/secret/data/moved/{name}")),
            None => kv_vault(request),
        }
    });
    let outcome = launch(&front.address)
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0).assert_stderr_no_leak(&[TOKEN]);
    assert_eq!(outcome.child_env()["A"], JWT_SECRET);
    // Loopback plain HTTP is not warned about.
    assert!(
        !outcome.stderr().contains("plain http"),
        "{}",
        outcome.stderr()
    );

    // A redirect loop ends after a few hops, at once, instead of spinning until the deadline.
    let looping = FakeServer::start("127.0.0.1", |request| {
        Reply::Redirect(302, request.path.clone())
    });
    let (outcome, elapsed) = run_within(
        &launch(&looping.address).args(["--timeout", "10s", "run", "--", "true"]),
        HARD_LIMIT,
    );
    outcome
        .assert_code(125)
        .assert_stderr_contains("kept redirecting");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    // Two requests (mount lookup, read), each followed at most 3 times.
    assert!(
        looping.requests().len() <= 8,
        "{}",
        looping.requests().len()
    );
}

/// The largest resident set of any child this test process has waited for, in MiB.
fn children_peak_rss_mib() -> i64 {
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    let result = unsafe { nix::libc::getrusage(nix::libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(result, 0);
    usage.ru_maxrss / 1024
}

fn assert_oversized_answer_refused(reply: fn() -> Reply) {
    let front = FakeServer::start("127.0.0.1", move |request| {
        if request.path.starts_with("/v1/secret/data/") {
            reply()
        } else {
            kv_vault(request)
        }
    });
    let launch = launch(&front.address).args(["--timeout", "20s", "run", "--", "touch", "started"]);
    let (outcome, elapsed) = run_within(&launch, HARD_LIMIT);
    outcome
        .assert_code(125)
        .assert_stderr_contains("larger than 8 MiB");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(!launch.path("started").exists());
    // The old client buffered gigabytes; one answer is now at most 8 MiB.
    let peak = children_peak_rss_mib();
    assert!(peak < 200, "a launch peaked at {peak} MiB");
}

#[test]
fn a_two_gigabyte_answer_is_refused_before_it_is_read() {
    assert_oversized_answer_refused(|| Reply::HugeLength(2_000_000_000));
}

#[test]
fn an_endless_answer_is_cut_off_at_the_limit() {
    assert_oversized_answer_refused(|| Reply::Endless);
}

#[test]
fn a_revocation_that_never_answers_ends_at_the_deadline() {
    let front = FakeServer::start("127.0.0.1", |request| {
        if request.path == "/v1/auth/token/revoke-self" {
            Reply::Stall
        } else {
            kv_vault(request)
        }
    });
    let launch = approle(launch(&front.address)).args([
        "--revoke-token",
        "--timeout",
        "3s",
        "run",
        "--",
        "touch",
        "ran",
    ]);
    let (outcome, elapsed) = run_within(&launch, HARD_LIMIT);
    // The secrets were read: the program runs, with a warning that the token outlives it.
    outcome
        .assert_code(0)
        .assert_stderr_contains("could not revoke the Vault token")
        .assert_no_leak(&[LOGIN_TOKEN, SECRET_ID]);
    assert!(launch.path("ran").exists(), "the program did not run");
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    assert!(
        front
            .requests()
            .iter()
            .any(|request| request.path == "/v1/auth/token/revoke-self")
    );
}

fn mkfifo(launch: &Launch, name: &str) -> String {
    let path = launch.path(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let made = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
    assert!(made.success());
    path.display().to_string()
}

/// A FIFO nobody writes to, where a credential file belongs: refused, never waited on.
fn assert_fifo_refused(launch: Launch) {
    let launch = launch.args(["--timeout", "3s", "run", "--", "touch", "started"]);
    let (outcome, elapsed) = run_within(&launch, HARD_LIMIT);
    outcome.assert_code(125).assert_stderr_contains("FIFO");
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    assert!(!launch.path("started").exists());
}

#[test]
fn credential_files_that_are_fifos_do_not_hang_the_launch() {
    // No server: every one of these fails before the first request.
    let closed = format!("http://127.0.0.1:{}", free_port());

    let kubernetes = launch(&closed)
        .env("CRONOS_SECRETS_VAULT_AUTH__METHOD", "kubernetes")
        .env("CRONOS_SECRETS_VAULT_AUTH__ROLE", "app");
    let jwt = mkfifo(&kubernetes, "sa/token");
    assert_fifo_refused(kubernetes.env("CRONOS_SECRETS_VAULT_AUTH__JWT_FILE", &jwt));

    let approle = launch(&closed)
        .remove_env("VAULT_TOKEN")
        .env("CRONOS_SECRETS_VAULT_AUTH__METHOD", "approle")
        .env("VAULT_SECRET_ID", SECRET_ID);
    let role_id = mkfifo(&approle, "role_id");
    assert_fifo_refused(approle.env("CRONOS_SECRETS_VAULT_AUTH__ROLE_ID_FILE", &role_id));

    let tls = launch(&format!("https://127.0.0.1:{}", free_port()));
    let ca = mkfifo(&tls, "ca.pem");
    assert_fifo_refused(tls.env("VAULT_CACERT", &ca));

    let home = launch(&closed).remove_env("VAULT_TOKEN");
    mkfifo(&home, "home/.vault-token");
    let home_dir = home.path("home").display().to_string();
    assert_fifo_refused(home.env("HOME", &home_dir));
}

#[test]
fn a_fifo_as_the_platform_ca_bundle_ends_at_the_deadline() {
    // Without VAULT_CACERT the platform's CA bundle is trusted beside the built-in roots, and
    // SSL_CERT_FILE names it: a FIFO there once held the client's set-up forever.
    let tls = launch(&format!("https://127.0.0.1:{}", free_port()));
    let fifo = mkfifo(&tls, "platform-ca.pem");
    let launch =
        tls.env("SSL_CERT_FILE", &fifo)
            .args(["--timeout", "2s", "run", "--", "touch", "started"]);
    let (outcome, elapsed) = run_within(&launch, HARD_LIMIT);
    outcome
        .assert_code(125)
        .assert_stderr_contains("did not load by the deadline")
        .assert_stderr_contains("hint: check SSL_CERT_FILE");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(!launch.path("started").exists());
}

#[test]
fn a_ca_file_without_a_certificate_is_named_at_once() {
    // A key or an empty file where the CA belongs: said before any request, not as an unknown
    // issuer at the first handshake (or no answer from a closed port at the deadline).
    let tls = launch(&format!("https://127.0.0.1:{}", free_port()))
        .file("ca.pem", "not a certificate\n")
        .args(["--timeout", "30s", "run", "--", "touch", "started"]);
    let ca = tls.path("ca.pem").display().to_string();
    let launch = tls.env("VAULT_CACERT", &ca);
    let (outcome, elapsed) = run_within(&launch, HARD_LIMIT);
    outcome
        .assert_code(125)
        .assert_stderr_contains(&format!("VAULT_CACERT {ca} holds no CA certificate"))
        .assert_stderr_contains("hint: point VAULT_CACERT at the PEM file");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(!launch.path("started").exists());
}

#[test]
fn credentials_in_the_address_are_never_shown() {
    let address = format!("http://user:PLANTEDPASSWORD@127.0.0.1:{}", free_port());
    let (outcome, _) = run_within(
        &launch(&address).args(["-vv", "--timeout", "1s", "run", "--", "true"]),
        HARD_LIMIT,
    );
    outcome
        .assert_code(125)
        .assert_stderr_contains("cannot reach Vault at http://127.0.0.1:")
        .assert_no_leak(&["PLANTEDPASSWORD", TOKEN]);

    // A token pasted where the address belongs is not echoed either.
    for address in ["hvs.PLANTEDTOKEN", "PLANTEDTOKEN://x"] {
        launch(address)
            .args(["run", "--", "true"])
            .run()
            .assert_code(125)
            .assert_stderr_contains("invalid Vault address (not shown")
            .assert_stderr_contains("VAULT_ADDR")
            .assert_no_leak(&["PLANTEDTOKEN"]);
    }
}

#[test]
fn a_namespace_no_header_can_carry_fails_at_once() {
    let front = FakeServer::start("127.0.0.1", kv_vault);
    let (outcome, elapsed) = run_within(
        &launch(&front.address)
            .env("VAULT_NAMESPACE", "team-a\nInjected: 1")
            .args(["--timeout", "10s", "run", "--", "true"]),
        HARD_LIMIT,
    );
    outcome
        .assert_code(125)
        .assert_stderr_contains("namespace")
        .assert_stderr_contains("VAULT_NAMESPACE");
    assert!(
        elapsed < Duration::from_secs(3),
        "retried: took {elapsed:?}"
    );
    assert!(front.requests().is_empty());
}

#[test]
fn localhost_over_plain_http_is_not_warned_about() {
    let front = FakeServer::start("127.0.0.1", kv_vault);
    let outcome = launch(&format!("http://localhost:{}", front.port))
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["A"], JWT_SECRET);
    assert!(
        !outcome.stderr().contains("plain http"),
        "{}",
        outcome.stderr()
    );
}
