//! `get` and `set` with the backends that need no server.

mod common;

use common::*;

#[test]
fn get_prints_the_exact_value() {
    let outcome = Launch::with_required().args(["get", "jwt_secret"]).run();
    outcome.assert_code(0);
    assert_eq!(
        outcome.output.stdout,
        JWT_SECRET.as_bytes(),
        "no newline added"
    );
    let by_reference = Launch::with_required()
        .file("k", "from-file\n")
        .args(["get", "file://k"])
        .run();
    assert_eq!(by_reference.assert_code(0).stdout(), "from-file");
}

#[test]
fn get_of_a_missing_secret_is_an_error() {
    let outcome = Launch::new().args(["get", "jwt_secret"]).run();
    outcome.assert_code(125).assert_stderr_contains(
        "error: secret://jwt_secret: variable CRONOS_AI_JWT_SECRET or JWT_SECRET is not set",
    );
    // The reference is the problem's location: said once.
    assert_eq!(
        outcome.stderr().matches("secret://jwt_secret").count(),
        1,
        "{}",
        outcome.stderr()
    );
}

/// On the env backend, `get NAME` reads what `run` gives the program and `check` checks: an
/// env-file entry too, not only the launcher's environment.
#[test]
fn get_reads_an_env_file_entry_as_run_and_check_do() {
    let launch = Launch::new()
        .file("secrets/jwt", JWT_SECRET)
        .file(
            ".env.development",
            "CRONOS_AI_JWT_SECRET=file://secrets/jwt\n",
        )
        .args(["--env-file", ".env.development", "get", "jwt_secret"]);
    let outcome = launch.run();
    outcome.assert_code(0);
    assert_eq!(outcome.stdout(), JWT_SECRET);
}

#[test]
fn set_reads_stdin_and_the_env_backend_refuses() {
    let outcome = Launch::with_required()
        .args(["set", "jwt_secret"])
        .run_with_stdin(
            b"planted-new-value-0123456789abcdef-long
",
        );
    outcome
        .assert_code(125)
        .assert_stderr_contains("the env backend cannot store secret://jwt_secret")
        .assert_no_leak(&["planted-new-value-0123456789abcdef-long"]);
}

#[test]
fn get_refuses_a_terminal_without_force() {
    // util-linux `script` runs the command on a pseudo-terminal, as a user's shell would.
    let binary = binary().display().to_string();
    let on_terminal = |args: &str| {
        let launch = Launch::new();
        let output = std::process::Command::new("script")
            .args(["-qec", &format!("{binary} {args}"), "/dev/null"])
            .current_dir(launch.dir.path())
            .env_clear()
            .envs(REQUIRED)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let refused = on_terminal("get jwt_secret");
    assert!(refused.contains("refusing to print"), "{refused}");
    assert!(!refused.contains(JWT_SECRET));
    assert!(on_terminal("get --force jwt_secret").contains(JWT_SECRET));
}
