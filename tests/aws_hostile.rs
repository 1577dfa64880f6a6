//! The AWS backend against an endpoint that misbehaves on purpose (a small fake on 127.0.0.1)
//! and a `credential_process` that never finishes.
#![cfg(feature = "aws")]

mod common;

use std::time::Duration;

use common::deadline::run_within;
use common::fake_http::{FakeServer, Reply};
use common::*;

const HARD_LIMIT: Duration = Duration::from_secs(20);

/// Fake keys and region, every call sent to `endpoint`, reading `A=aws-sm://app/a`.
fn launch(endpoint: &str) -> Launch {
    Launch::new()
        .file(
            "config.yaml",
            "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\nsecrets: {}\n",
        )
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        .env("AWS_ACCESS_KEY_ID", "AKIDHOSTILE")
        .env("AWS_SECRET_ACCESS_KEY", "planted-fake-secret-access-key")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .file(".env.production", "A=aws-sm://app/a\n")
}

fn assert_oversized_answer_refused(reply: fn() -> Reply) {
    let fake = FakeServer::start("127.0.0.1", move |_| reply());
    let launch = launch(&fake.address).args(["--timeout", "20s", "run", "--", "touch", "started"]);
    let (outcome, elapsed) = run_within(&launch, HARD_LIMIT);
    outcome
        .assert_code(125)
        .assert_stderr_contains("larger than 8 MiB")
        .assert_no_leak(&["planted-fake-secret-access-key"]);
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    assert!(!launch.path("started").exists());
}

#[test]
fn a_two_gigabyte_answer_is_refused_before_it_is_read() {
    assert_oversized_answer_refused(|| Reply::HugeLength(2_000_000_000));
}

#[test]
fn an_endless_answer_is_cut_off_at_the_limit() {
    assert_oversized_answer_refused(|| Reply::Endless);
}

/// Whether `pid` still runs (a zombie waiting for its reaper does not).
fn running(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

#[test]
fn a_hung_credential_process_is_stopped_at_the_deadline() {
    let fake = FakeServer::start("127.0.0.1", |_| Reply::Stall);
    let launch = launch(&fake.address)
        .remove_env("AWS_ACCESS_KEY_ID")
        .remove_env("AWS_SECRET_ACCESS_KEY");
    let marker = launch.path("sleep.pid");
    let config = launch.path("aws-config");
    let credentials = launch.path("no-credentials");
    // A grandchild (the shell's `sleep`), as real credential helpers run their own programs.
    std::fs::write(
        &config,
        format!(
            "[default]\ncredential_process = sh -c 'sleep 30 & echo $! > {}; wait'\n",
            marker.display()
        ),
    )
    .unwrap();
    let launch = launch
        .env("AWS_CONFIG_FILE", &config.display().to_string())
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            &credentials.display().to_string(),
        )
        .args(["--timeout", "3s", "run", "--", "touch", "started"]);
    let (outcome, elapsed) = run_within(&launch, HARD_LIMIT);
    outcome
        .assert_code(125)
        .assert_stderr_contains("loading AWS credentials");
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    assert!(!launch.path("started").exists());
    let pid = std::fs::read_to_string(&marker).expect("the credential process started");
    let pid = pid.trim();
    // SIGKILL is delivered at once; allow the kernel a moment to tear the process down.
    let mut tries = 0;
    while running(pid) && tries < 50 {
        std::thread::sleep(Duration::from_millis(20));
        tries += 1;
    }
    assert!(
        !running(pid),
        "the credential process's sleep ({pid}) still runs"
    );
    assert!(fake.requests().is_empty(), "no call without credentials");
}

#[test]
fn credential_answers_are_capped_too() {
    // EKS IRSA: web identity asks STS (sent to the fake like every call) for credentials.
    let fake = FakeServer::start("127.0.0.1", |_| Reply::HugeLength(2_000_000_000));
    let launch = launch(&fake.address)
        .remove_env("AWS_ACCESS_KEY_ID")
        .remove_env("AWS_SECRET_ACCESS_KEY")
        .env("AWS_ENDPOINT_URL_STS", &fake.address)
        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/app")
        .file("web-identity-token", "planted-web-identity-token")
        .args(["--timeout", "20s", "run", "--", "touch", "started"]);
    let token = launch.path("web-identity-token").display().to_string();
    let launch = launch.env("AWS_WEB_IDENTITY_TOKEN_FILE", &token);
    let (outcome, elapsed) = run_within(&launch, HARD_LIMIT);
    outcome
        .assert_code(125)
        .assert_stderr_contains("cannot load AWS credentials")
        .assert_stderr_contains("larger than 8 MiB")
        .assert_no_leak(&["planted-web-identity-token"]);
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    assert!(!launch.path("started").exists());
    let calls = fake.requests();
    assert!(
        calls
            .iter()
            .any(|call| call.text().contains("AssumeRoleWithWebIdentity")),
        "{calls:#?}"
    );
}
