//! `run`: the program starts with the resolved secrets, as the launcher's own process.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::*;

#[test]
fn program_gets_required_secrets_and_env_file_entries() {
    let outcome = Launch::with_required()
        .file(
            ".env.production",
            "GREETING=hello\nexport TARGET=\"world\"\n",
        )
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["CRONOS_AI_JWT_SECRET"], JWT_SECRET);
    assert_eq!(env["GREETING"], "hello");
    assert_eq!(env["TARGET"], "world");
}

#[test]
fn launcher_becomes_the_program_with_the_same_pid() {
    let launch = Launch::with_required().args(["run", "--", "sh", "-c", "echo $$"]);
    let child = launch.command().stdout(Stdio::piped()).spawn().unwrap();
    let spawned_pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let reported: u32 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap();
    assert_eq!(reported, spawned_pid);
}

#[test]
fn sigterm_to_the_launched_pid_reaches_the_program() {
    let script = "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done";
    let launch = Launch::with_required().args(["run", "--", "sh", "-c", script]);
    let mut child = launch.command().stdout(Stdio::piped()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest.trim(), "got-term");
    assert_eq!(status.code(), Some(42));
}

#[test]
fn exit_status_is_the_programs() {
    Launch::with_required()
        .args(["run", "--", "sh", "-c", "exit 7"])
        .run()
        .assert_code(7);
}

#[test]
fn program_arguments_after_the_separator_are_untouched() {
    let outcome = Launch::with_required()
        .args([
            "run", "--", "printf", "%s|", "--config", "-v", "run", "--", "$HOME",
        ])
        .run();
    outcome.assert_code(0);
    assert_eq!(outcome.stdout(), "--config|-v|run|--|$HOME|");
}

#[test]
fn options_may_stand_before_or_after_the_subcommand() {
    let launch = Launch::with_required().file("custom.env", "WHERE=custom\n");
    let before = launch
        .command()
        .args(["--env-file", "custom.env", "run", "--", "env", "-0"])
        .output()
        .unwrap();
    let after = launch
        .command()
        .args(["run", "--env-file", "custom.env", "--", "env", "-0"])
        .output()
        .unwrap();
    for output in [before, after] {
        let outcome = Outcome { output };
        outcome.assert_code(0);
        assert_eq!(outcome.child_env()["WHERE"], "custom");
    }
}

#[test]
fn launcher_credentials_are_stripped_unless_kept() {
    let launch = Launch::with_required()
        .env("VAULT_TOKEN", "planted-vault-token")
        .env("VAULT_ROLE_ID", "planted-role")
        .env("VAULT_SECRET_ID", "planted-secret-id")
        .env("AZURE_CLIENT_SECRET", "planted-azure")
        .env("CRONOS_SECRETS_BACKEND", "env")
        .env("VAULT_ADDR", "http://127.0.0.1:1");
    let stripped = launch
        .command()
        .args(["run", "--", "env", "-0"])
        .output()
        .unwrap();
    let stripped = Outcome { output: stripped };
    stripped.assert_code(0);
    let env = stripped.child_env();
    for name in [
        "VAULT_TOKEN",
        "VAULT_ROLE_ID",
        "VAULT_SECRET_ID",
        "AZURE_CLIENT_SECRET",
        "CRONOS_SECRETS_BACKEND",
    ] {
        assert!(!env.contains_key(name), "{name} reached the program");
    }
    assert_eq!(
        env["VAULT_ADDR"], "http://127.0.0.1:1",
        "only credentials are stripped"
    );

    let kept = launch
        .command()
        .args(["run", "--keep-launcher-env", "--", "env", "-0"])
        .output()
        .unwrap();
    let kept = Outcome { output: kept }.child_env();
    assert_eq!(kept["VAULT_TOKEN"], "planted-vault-token");
    assert_eq!(kept["CRONOS_SECRETS_BACKEND"], "env");
}

#[test]
fn pristine_starts_from_an_empty_environment() {
    let outcome = Launch::with_required()
        .env("UNRELATED", "x")
        .env("KEEP_ME", "passed")
        .file(".env.production", "FROM_FILE=1\nKEEP_ME\n")
        .args(["run", "--pristine", "--", "/usr/bin/env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert!(!env.contains_key("UNRELATED"));
    assert!(!env.contains_key("PATH"));
    assert_eq!(env["FROM_FILE"], "1");
    assert_eq!(
        env["KEEP_ME"], "passed",
        "KEY-only lines pass a variable through"
    );
    assert_eq!(env["CRONOS_AI_API_KEY"], API_KEY);
}

#[test]
fn alias_fills_the_canonical_name() {
    let outcome = Launch::with_required()
        .remove_env("CRONOS_AI_DB_PASSWORD")
        .env("DATABASE_PASSWORD", DB_PASSWORD)
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["CRONOS_AI_DB_PASSWORD"], DB_PASSWORD);
    assert_eq!(env["DATABASE_PASSWORD"], DB_PASSWORD);
}

#[test]
fn file_and_env_references_resolve_relative_to_the_env_file() {
    let outcome = Launch::with_required()
        .file("secrets/jwt", &format!("{JWT_SECRET}-from-file\n"))
        .file("conf/app.env", "CRONOS_AI_JWT_SECRET=file://../secrets/jwt\nCOPY=env://SOURCE_VAR\nURL=\"db://${COPY}@${secret://api_key}\"\n")
        .env("SOURCE_VAR", "copied")
        .args(["run", "--env-file", "conf/app.env", "--override", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(
        env["CRONOS_AI_JWT_SECRET"],
        format!("{JWT_SECRET}-from-file"),
        "one trailing newline trimmed"
    );
    assert_eq!(env["COPY"], "copied");
    assert_eq!(env["URL"], format!("db://copied@{API_KEY}"));
}

#[test]
fn process_environment_references_are_resolved() {
    // As in a Kubernetes manifest: env: [{name: CRONOS_AI_JWT_SECRET, value: file:///…}]
    let launch = Launch::with_required().file("jwt", JWT_SECRET);
    let jwt_path = launch.path("jwt");
    let outcome = launch
        .env(
            "CRONOS_AI_JWT_SECRET",
            &format!("file://{}", jwt_path.display()),
        )
        .env("EMBEDDED", "prefix-${secret://api_key}-suffix")
        .env("NOT_OURS", "https://example.com/${HOME}")
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["CRONOS_AI_JWT_SECRET"], JWT_SECRET);
    assert_eq!(env["EMBEDDED"], format!("prefix-{API_KEY}-suffix"));
    assert_eq!(env["NOT_OURS"], "https://example.com/${HOME}");
}

#[test]
fn secret_scheme_with_env_backend_reads_the_table_variables() {
    let outcome = Launch::with_required()
        .env("DATABASE_PASSWORD", "via-alias-not-used")
        .env("CUSTOM_NAME", "custom-value")
        .file(
            ".env.production",
            "A=secret://database_password\nB=secret://custom_name\n",
        )
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["A"], DB_PASSWORD, "env name first, then aliases");
    assert_eq!(
        env["B"], "custom-value",
        "a name outside the table reads NAME upper-cased"
    );
}

#[test]
fn nothing_starts_when_a_secret_is_missing() {
    let outcome = Launch::with_required()
        .remove_env("CRONOS_AI_JWT_SECRET")
        .args(["run", "--", "sh", "-c", "echo STARTED"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains(
            "JWT secret not configured: set CRONOS_AI_JWT_SECRET (or JWT_SECRET) in the environment or an env file",
        );
    assert!(!outcome.stdout().contains("STARTED"));
}

#[test]
fn every_validation_problem_is_reported_at_once() {
    let outcome = Launch::with_required()
        .remove_env("CRONOS_AI_REDIS_PASSWORD")
        .env("CRONOS_AI_JWT_SECRET", "too-short-jwt")
        .env("CRONOS_AI_API_KEY", "")
        .args(["run", "--", "true"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("3 problems")
        .assert_stderr_contains("Redis password not configured")
        .assert_stderr_contains("JWT secret (CRONOS_AI_JWT_SECRET, from environment) is too short: 13 characters, at least 32 required")
        .assert_stderr_contains("API key (CRONOS_AI_API_KEY, from environment) is empty")
        .assert_stderr_contains("hint: generate one with: cronos-secrets generate");
    outcome.assert_no_leak(&["too-short-jwt"]);
}

#[test]
fn weak_values_warn_and_fail_with_strict() {
    let launch = Launch::with_required().env("CRONOS_AI_DB_PASSWORD", "aaaaaaaaaaaaaaaaaaaa");
    let warned = Outcome {
        output: launch
            .command()
            .args(["run", "--", "true"])
            .output()
            .unwrap(),
    };
    warned
        .assert_code(0)
        .assert_stderr_contains("is weak: one character repeated");
    let strict = Outcome {
        output: launch
            .command()
            .args(["--strict", "run", "--", "true"])
            .output()
            .unwrap(),
    };
    strict.assert_code(125).assert_stderr_contains(
        "Database password (CRONOS_AI_DB_PASSWORD, from environment) is weak",
    );
}

#[test]
fn nul_in_a_secret_file_is_an_error() {
    let outcome = Launch::with_required()
        .file("nul", "abc\0defghijklmnopqrstuvwxyz0123456789")
        .file(".env.production", "CRONOS_AI_API_KEY=file://nul\n")
        .args(["run", "--override", "--", "true"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("contains a NUL byte");
}

#[test]
fn missing_program_is_127_and_not_executable_is_126() {
    Launch::with_required()
        .args(["run", "--", "no-such-program-xyz"])
        .run()
        .assert_code(127)
        .assert_stderr_contains("program \"no-such-program-xyz\" not found");
    let launch = Launch::with_required().file("script.sh", "#!/bin/sh\necho hi\n");
    let outcome = launch
        .command()
        .args(["run", "--", "./script.sh"])
        .output()
        .unwrap();
    Outcome { output: outcome }
        .assert_code(126)
        .assert_stderr_contains("permission denied");
}

#[test]
fn usage_errors_exit_2() {
    Launch::new().args(["run"]).run().assert_code(2);
    Launch::new()
        .args(["--no-such-flag", "check"])
        .run()
        .assert_code(2);
    // Before `--`, an unknown option is a usage error, never a program to execute.
    Launch::with_required()
        .args(["run", "--unknown-flag", "--", "true"])
        .run()
        .assert_code(2)
        .assert_stderr_contains("unexpected argument '--unknown-flag'");
    Launch::new()
        .args(["check", "--timeout", "soon"])
        .run()
        .assert_code(2)
        .assert_stderr_contains("invalid duration");
}
