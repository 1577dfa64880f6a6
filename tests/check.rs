//! `check`: one row per variable, never a value; `--plan` fetches nothing.

mod common;

use common::*;

#[test]
fn table_lists_sources_and_lengths() {
    let launch = Launch::with_required()
        .env("GREETING_SOURCE", "hello")
        .file("jwt", JWT_SECRET)
        .file(
            ".env.production",
            "CRONOS_AI_JWT_SECRET=file://jwt\nLOG_LEVEL=info\nGREETING=env://GREETING_SOURCE\n",
        );
    let outcome = launch.command().args(["check", "--override"]).output();
    let outcome = Outcome {
        output: outcome.expect("runs"),
    };
    outcome.assert_code(0);
    // The table is the answer: no audit line repeats it on stderr unless asked (-v).
    assert!(
        !outcome.stderr().contains("secret read"),
        "{}",
        outcome.stderr()
    );
    let verbose = launch.args(["-v", "check", "--override"]).run();
    verbose.assert_code(0).assert_stderr_contains("secret read");
    let stdout = outcome.stdout();
    let jwt_row = outcome.row("CRONOS_AI_JWT_SECRET");
    // Each location names its backend once: not "file file://…", not "env env NAME".
    assert!(
        jwt_row.contains(".env.production:1 -> file://"),
        "{jwt_row}"
    );
    let greeting_row = outcome.row("GREETING");
    assert!(
        greeting_row.contains(".env.production:3 -> env GREETING_SOURCE "),
        "{greeting_row}"
    );
    assert!(jwt_row.contains(&JWT_SECRET.len().to_string()), "{jwt_row}");
    assert!(jwt_row.ends_with("ok"), "{jwt_row}");
    let db_row = stdout
        .lines()
        .find(|line| line.starts_with("CRONOS_AI_DB_PASSWORD"))
        .unwrap();
    assert!(db_row.contains("environment"), "{db_row}");
    outcome.assert_no_leak(&[JWT_SECRET, DB_PASSWORD, API_KEY]);
}

#[test]
fn json_format_and_exit_1_on_problems() {
    let outcome = Launch::with_required()
        .env("CRONOS_AI_API_KEY", "short")
        .args(["check", "--format", "json"])
        .run();
    outcome.assert_code(1);
    let rows: serde_json::Value = serde_json::from_str(&outcome.stdout()).unwrap();
    let api = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["variable"] == "CRONOS_AI_API_KEY")
        .unwrap();
    assert_eq!(api["status"], "error");
    assert_eq!(api["length"], 5);
    assert!(api["problems"][0].as_str().unwrap().contains("too short"));
    outcome.assert_no_leak(&["short\"", API_KEY]);
}

#[test]
fn missing_secret_is_a_row_and_exit_1() {
    let outcome = Launch::with_required()
        .remove_env("CRONOS_AI_REDIS_PASSWORD")
        .args(["check"])
        .run();
    outcome.assert_code(1);
    let row = outcome
        .stdout()
        .lines()
        .find(|line| line.starts_with("CRONOS_AI_REDIS_PASSWORD"))
        .map(str::to_string);
    assert!(row.unwrap().ends_with("missing"));
    outcome.assert_stdout_contains("Redis password not configured");
}

#[test]
fn plan_fetches_nothing_and_shows_locations() {
    // The file does not exist: a plan must not read it.
    let outcome = Launch::with_required()
        .file(
            ".env.production",
            "CRONOS_AI_JWT_SECRET=file:///nonexistent/jwt\nA=secret://api_key\n",
        )
        .args(["check", "--plan", "--override"])
        .run();
    outcome.assert_code(0);
    outcome.assert_stdout_contains(".env.production:1 -> file:///nonexistent/jwt");
    outcome.assert_stdout_contains(".env.production:2 -> env CRONOS_AI_API_KEY");
    assert!(outcome.stdout().contains("planned"));
    outcome.assert_no_leak(&[API_KEY, DB_PASSWORD]);
}

/// At -v, a launch says which config and env files it read, or that it found none.
#[test]
fn verbose_says_which_config_and_env_files_were_read() {
    let none = Launch::new()
        .env("CRONOS_AI_ENV", "development")
        .args(["-v", "check"])
        .run();
    none.assert_code(1)
        .assert_stderr_contains("no config file (no --config or CRONOS_SECRETS_CONFIG, and no config/cronos_ai.development.yaml here): built-in defaults, env backend")
        .assert_stderr_contains("no env file read: ")
        .assert_stderr_contains(".env.development does not exist");
    let both = Launch::with_required()
        .file("conf.yaml", "secrets: {}\n")
        .file("vars.env", "A=1\nB=2\n")
        .args([
            "-v",
            "--config",
            "conf.yaml",
            "--env-file",
            "vars.env",
            "check",
        ])
        .run();
    both.assert_code(0)
        .assert_stderr_contains("config file conf.yaml, env backend")
        .assert_stderr_contains("env file vars.env (2 entries)");
    // Not by default: the table is the answer.
    let quiet = Launch::new().args(["check"]).run();
    assert!(
        !quiet.stderr().contains("no config file"),
        "{}",
        quiet.stderr()
    );
}

/// `--plan` fetches nothing, but what needs no fetch it checks as `check` does, hints
/// included: on the env backend, an env file's `secret://` entries read the launcher's
/// environment, and a secret no source provides is named with what to do.
#[test]
fn plan_checks_the_environment_locally_and_keeps_the_hints() {
    let launch = Launch::new()
        .env("CRONOS_AI_JWT_SECRET", JWT_SECRET)
        .file(
            ".env.production",
            "CRONOS_AI_JWT_SECRET=secret://jwt_secret\nCRONOS_AI_API_KEY=secret://api_key\n",
        )
        .args(["check", "--plan"]);
    let plan = launch.run();
    plan.assert_code(1).assert_no_leak(&[JWT_SECRET]);
    assert!(
        plan.row("CRONOS_AI_JWT_SECRET").ends_with("ok"),
        "{}",
        plan.stdout()
    );
    assert!(
        plan.row("CRONOS_AI_API_KEY").ends_with("error"),
        "{}",
        plan.stdout()
    );
    plan.assert_stdout_contains(
        "CRONOS_AI_API_KEY: secret://api_key: variable CRONOS_AI_API_KEY is not set",
    )
    .assert_stdout_contains("hint: export CRONOS_AI_API_KEY in the launcher's environment");
    assert!(
        plan.row("CRONOS_AI_REDIS_PASSWORD").ends_with("missing"),
        "{}",
        plan.stdout()
    );
    plan.assert_stdout_contains("Redis password not configured")
        .assert_stdout_contains(
            "hint: export CRONOS_AI_REDIS_PASSWORD=\"$(cronos-secrets generate)\"",
        );
}

/// A previous value (`<ENV>_PREVIOUS`) is read only when the current version says a rotation
/// kept one: a plan, which fetches nothing, cannot know that, and does not list it.
#[test]
fn plan_lists_no_previous_value_it_cannot_know_would_be_read() {
    let plan = Launch::new()
        .env("VAULT_TOKEN", "plan-token")
        .plan_with_config(
            "secrets_manager:\n  enabled: true\n  backend: vault\n  vault_addr: http://127.0.0.1:9\n",
        );
    plan.assert_code(0);
    assert!(
        plan.row("CRONOS_AI_JWT_SECRET").ends_with("planned"),
        "{}",
        plan.stdout()
    );
    assert!(!plan.stdout().contains("_PREVIOUS"), "{}", plan.stdout());
}
