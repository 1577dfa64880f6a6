//! Secret values never reach stdout or stderr, at any log level, in success or failure.

mod common;

use common::*;

const PLANTED_FILE_SECRET: &str = "planted-file-secret-Qm9ZcT3vXw7Ly2";
const PLANTED_TOKEN: &str = "planted-vault-token-hvs.Zq8Wm2";

fn launch() -> Launch {
    Launch::with_required()
        .env("RUST_LOG", "trace")
        .env("VAULT_TOKEN", PLANTED_TOKEN)
        .file("s", PLANTED_FILE_SECRET)
        .file(
            ".env.production",
            "FROM_FILE=file://s\nLITERAL=planted-literal-value-77\nCOMBINED=\"x${FROM_FILE}y\"\n",
        )
}

const PLANTED: [&str; 8] = [
    DB_PASSWORD,
    REDIS_PASSWORD,
    JWT_SECRET,
    ENCRYPTION_KEY,
    API_KEY,
    PLANTED_FILE_SECRET,
    PLANTED_TOKEN,
    "planted-literal-value-77",
];

#[test]
fn check_at_trace_level_prints_no_value() {
    for format in ["table", "json"] {
        launch()
            .args(["-vvv", "check", "--format", format])
            .run()
            .assert_code(0)
            .assert_no_leak(&PLANTED);
    }
    launch()
        .args(["check", "--plan", "--log-format", "json"])
        .run()
        .assert_code(0)
        .assert_no_leak(&PLANTED);
}

#[test]
fn run_at_trace_level_logs_no_value() {
    let outcome = launch()
        .args(["-vvv", "--log-format", "json", "run", "--", "true"])
        .run();
    outcome.assert_code(0).assert_no_leak(&PLANTED);
    assert!(
        outcome.stderr().contains("secret read"),
        "audit events are logged:\n{}",
        outcome.stderr()
    );
}

#[test]
fn errors_print_no_value() {
    // Too short, weak and broken values: the messages describe them without quoting them.
    let outcome = launch()
        .env("CRONOS_AI_JWT_SECRET", "planted-short")
        .env("CRONOS_AI_API_KEY", "cronos123")
        .file(
            ".env.production",
            "FROM_FILE=file://s\nBROKEN=\"planted-broken-value ${NOPE}\"\n",
        )
        .args(["--strict", "run", "--", "true"])
        .run();
    outcome.assert_code(125).assert_no_leak(&[
        "planted-short",
        "cronos123",
        "planted-broken-value",
    ]);
    outcome.assert_no_leak(&PLANTED);
}

#[test]
fn audit_log_records_reads_in_a_private_file() {
    let launch = launch().args(["--audit-log", "audit.jsonl", "run", "--", "true"]);
    let log = launch.path("audit.jsonl");
    let outcome = launch.run();
    outcome.assert_code(0);
    assert!(
        !outcome.stderr().contains("secret read"),
        "audit goes to the file only"
    );
    let text = read(&log);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(
        events
            .iter()
            .any(|event| event["fields"]["variable"] == "FROM_FILE"),
        "{text}"
    );
    for value in PLANTED {
        assert!(!text.contains(value), "audit log leaks {value}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
