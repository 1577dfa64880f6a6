//! Attacks and accidents (the red-team report): what the launcher refuses, bounds and never
//! echoes, with the backends that need no server.

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::process::Command;

use common::*;

const TOKEN: &str = "hvs.PLANTED-launcher-token-0123";

fn mkfifo(path: &std::path::Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

/// A launch whose environment holds the launcher's credentials.
fn with_credentials() -> Launch {
    Launch::with_required()
        .env("VAULT_TOKEN", TOKEN)
        .env("AZURE_CLIENT_SECRET", "planted-azure-client-secret")
        .env("CRONOS_SECRETS_VAULT_NAMESPACE", "planted-namespace")
}

#[test]
fn launcher_credentials_are_refused_under_any_other_name() {
    let lines = [
        "A=env://VAULT_TOKEN",
        "A=${VAULT_TOKEN}",
        "A=$VAULT_TOKEN",
        "A=prefix-${env://VAULT_TOKEN}",
        "A=secret://vault_token",
        "A=env://AZURE_CLIENT_SECRET",
        "A=env://CRONOS_SECRETS_VAULT_NAMESPACE",
    ];
    for line in lines {
        let outcome = with_credentials()
            .file("one.env", &format!("{line}\n"))
            .args(["--env-file", "one.env", "run", "--", "env", "-0"])
            .run();
        outcome
            .assert_code(125)
            .assert_stderr_contains("the launcher's own credential or setting")
            .assert_stderr_contains("--keep-launcher-env");
        outcome.assert_no_leak(&[TOKEN, "planted-azure-client-secret", "planted-namespace"]);
    }
    // A declared variable's inherited value and templates go through the same refusal.
    let inherited = with_credentials()
        .env("CRONOS_AI_API_KEY", "hello ${env://VAULT_TOKEN}")
        .args(["--no-env-file", "run", "--", "env", "-0"])
        .run();
    inherited
        .assert_code(125)
        .assert_stderr_contains("CRONOS_AI_API_KEY")
        .assert_stderr_contains("the launcher's own credential");
    inherited.assert_no_leak(&[TOKEN]);
    // An undeclared one is not resolved at all: it reaches the program as it is, so one stray
    // value in the launcher's environment cannot stop every launch.
    let stray = with_credentials()
        .env("GREETING", "hello ${env://VAULT_TOKEN}")
        .args(["--no-env-file", "run", "--", "env", "-0"])
        .run();
    stray.assert_code(0);
    assert_eq!(stray.child_env()["GREETING"], "hello ${env://VAULT_TOKEN}");
    stray.assert_no_leak(&[TOKEN]);
    let template = with_credentials()
        .file("t.tmpl", "token: ${env://VAULT_TOKEN}\n")
        .args(["--no-env-file", "render", "t.tmpl"])
        .run();
    template
        .assert_code(125)
        .assert_stderr_contains("the launcher's own credential");
    template.assert_no_leak(&[TOKEN]);
}

#[test]
fn keep_launcher_env_lets_run_pass_a_credential_on_purpose() {
    let outcome = with_credentials()
        .file("one.env", "A=env://VAULT_TOKEN\nB=${VAULT_TOKEN}\n")
        .args([
            "--env-file",
            "one.env",
            "run",
            "--keep-launcher-env",
            "--",
            "env",
            "-0",
        ])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["A"], TOKEN);
    assert_eq!(env["B"], TOKEN);
}

#[test]
fn inherited_values_are_resolved_only_when_unambiguous_or_declared() {
    let launch = Launch::with_required()
        .file("wheels/a.whl", "wheel")
        .file("repo", "the repository's contents")
        .file("jwt", JWT_SECRET);
    let wheels = format!("file://{}", launch.path("wheels").display());
    let repo = format!("file://{}", launch.path("repo").display());
    let jwt = format!("file://{}", launch.path("jwt").display());
    let outcome = launch
        .env("PIP_FIND_LINKS", &wheels)
        .env("GIT_URL", &repo)
        .env("GREETING", "env://CRONOS_AI_API_KEY")
        .env("CRONOS_AI_JWT_SECRET", &jwt)
        .env("CUSTOM", "planted-custom-value")
        .env("FROM_BACKEND", "secret://custom")
        .env("EMBEDDED", "x-${env://CRONOS_AI_API_KEY}")
        .env("EMBEDDED_FILE", &format!("x${{{jwt}}}"))
        .env("EMBEDDED_SECRET", "x-${secret://custom}")
        // A value that would be refused (a control character in a reference) is passed on
        // with a warning naming the variable: it does not stop the launch.
        .env("STRAY", "x-${secret://bad\tname}")
        .args(["--no-env-file", "run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    outcome
        .assert_stderr_contains("environment variable STRAY is passed to the program as it is")
        .assert_stderr_contains("control character");
    let env = outcome.child_env();
    assert_eq!(
        env["PIP_FIND_LINKS"], wheels,
        "a directory is not a failure"
    );
    assert_eq!(
        env["GIT_URL"], repo,
        "never replaced by the file's contents"
    );
    assert_eq!(env["GREETING"], "env://CRONOS_AI_API_KEY");
    assert_eq!(
        env["CRONOS_AI_JWT_SECRET"], JWT_SECRET,
        "declared: resolved"
    );
    assert_eq!(env["FROM_BACKEND"], "planted-custom-value");
    // `${env://…}` and `${file://…}` inside a longer value stay literal like whole values,
    // unless the variable is declared; other references are resolved.
    assert_eq!(env["EMBEDDED"], "x-${env://CRONOS_AI_API_KEY}");
    assert_eq!(env["EMBEDDED_FILE"], format!("x${{{jwt}}}"));
    assert_eq!(env["EMBEDDED_SECRET"], "x-planted-custom-value");
    assert_eq!(env["STRAY"], "x-${secret://bad\tname}");
    outcome.assert_stderr_no_leak(&[JWT_SECRET]);
    // A declared variable still fails closed.
    Launch::with_required()
        .env("CRONOS_AI_REDIS_PASSWORD", "x-${secret://bad\tname}")
        .args(["--no-env-file", "run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("environment variable CRONOS_AI_REDIS_PASSWORD")
        .assert_stderr_contains("control character");
}

#[test]
fn no_resolve_env_passes_inherited_values_byte_for_byte() {
    let outcome = Launch::with_required()
        .env("CUSTOM", "planted-custom-value")
        .env("FROM_BACKEND", "secret://custom")
        .env("EMBEDDED", "x-${env://CRONOS_AI_API_KEY}")
        .args([
            "--no-env-file",
            "--no-resolve-env",
            "run",
            "--",
            "env",
            "-0",
        ])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["FROM_BACKEND"], "secret://custom");
    assert_eq!(env["EMBEDDED"], "x-${env://CRONOS_AI_API_KEY}");
    // A declared secret holding a reference would reach the program as the reference: refused.
    Launch::with_required()
        .env("CRONOS_AI_JWT_SECRET", "file:///run/secrets/jwt-secret-of-32-characters")
        .args(["--no-env-file", "--no-resolve-env", "check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("environment variable CRONOS_AI_JWT_SECRET: holds a secret reference, but --no-resolve-env is set");
}

#[test]
fn the_env_backend_selects_a_json_key_or_refuses() {
    let json = r#"{"password":"pw-planted-1","other_secret":"TOPSECRET-sibling"}"#;
    let outcome = Launch::with_required()
        .env("JSONSEC", json)
        .file("j.env", "C=secret://jsonsec#password\n")
        .args(["--env-file", "j.env", "run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["C"], "pw-planted-1");
    let missing = Launch::with_required()
        .env("JSONSEC", json)
        .file("j.env", "C=secret://jsonsec#nokey\n")
        .args(["--env-file", "j.env", "check"])
        .run();
    missing.assert_code(1).assert_stdout_contains(
        "no key \"nokey\" in the JSON secret (its keys: other_secret, password)",
    );
    missing.assert_no_leak(&["TOPSECRET-sibling", "pw-planted-1"]);
}

#[test]
fn file_references_read_regular_files_of_bounded_size_only() {
    let launch = Launch::with_required().file("big", &"x".repeat(2 * 1024 * 1024));
    mkfifo(&launch.path("fifo"));
    let cases = [
        (
            "A=file:///dev/zero",
            "is a character device, not a regular file",
        ),
        (
            "A=file://fifo",
            "is a FIFO (named pipe), not a regular file",
        ),
        ("A=file://big", "is larger than the limit of 1 MiB"),
    ];
    for (line, message) in cases {
        std::fs::write(launch.path("one.env"), format!("{line}\n")).unwrap();
        let started = std::time::Instant::now();
        let outcome = Outcome {
            output: launch
                .command()
                .args(["--env-file", "one.env", "--timeout", "5s", "check"])
                .output()
                .unwrap(),
        };
        outcome.assert_code(1).assert_stdout_contains(message);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{line}: a FIFO or device must be refused at once, not waited on"
        );
    }
}

#[test]
fn inputs_have_a_size_limit() {
    Launch::with_required()
        .args(["--env-file", "/dev/zero", "check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains(
            "/dev/zero: cannot read the env file: is larger than the limit of 16 MiB",
        );
    Launch::with_required()
        .args(["--config", "/dev/zero", "check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("is larger than the limit of 16 MiB");
    Launch::with_required()
        .args(["--no-env-file", "render", "/dev/zero"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("is larger than the limit of 16 MiB");
    let huge = vec![b'x'; 2 * 1024 * 1024];
    Launch::with_required()
        .args(["set", "jwt_secret"])
        .run_with_stdin(&huge)
        .assert_code(125)
        .assert_stderr_contains("cannot read the new value: is larger than the limit of 1 MiB");
}

#[test]
fn set_refuses_values_every_later_launch_would_reject() {
    // Validation comes before any backend: the env backend, which cannot store, is never asked.
    let cases: [(&[u8], &str); 3] = [
        (
            b"x",
            "is too short: 1 characters, at least 32 required; nothing was stored",
        ),
        (
            b"planted\0value-of-more-than-32-characters",
            "contains a NUL byte",
        ),
        (
            &[b'a'; 40],
            "is weak: one character repeated; nothing was stored",
        ),
    ];
    for (value, message) in cases {
        Launch::with_required()
            .args(["set", "jwt_secret"])
            .run_with_stdin(value)
            .assert_code(125)
            .assert_stderr_contains(message);
    }
    // --force lets a weak but valid value through to the backend (which here cannot store).
    Launch::with_required()
        .args(["set", "--force", "jwt_secret"])
        .run_with_stdin(&[b'a'; 40])
        .assert_code(125)
        .assert_stderr_contains("the env backend cannot store secret://jwt_secret");
}

#[test]
fn a_placeholder_chain_too_deep_is_an_error_not_a_crash() {
    for (count, cyclic) in [(7_000, false), (10_000, true)] {
        let mut text = String::new();
        for index in 0..count - 1 {
            text.push_str(&format!("A{index}=${{A{}}}\n", index + 1));
        }
        let last = if cyclic { "${A0}" } else { "end" };
        text.push_str(&format!("A{}={last}\n", count - 1));
        let outcome = Launch::with_required()
            .file("chain.env", &text)
            .args(["--env-file", "chain.env", "run", "--", "true"])
            .run();
        outcome.assert_code(125);
        let stderr = outcome.stderr();
        assert!(
            stderr.contains("more than 200 deep") || stderr.contains("cycle"),
            "{}",
            &stderr[..stderr.len().min(2000)]
        );
    }
}

#[test]
fn a_variable_over_the_kernel_limit_is_named_by_check_and_run() {
    let big = format!("COPY={}\n", "v".repeat(140 * 1024));
    let check = Launch::with_required()
        .file("big.env", &big)
        .args(["--env-file", "big.env", "check"])
        .run();
    check
        .assert_code(1)
        .assert_stdout_contains("COPY (from big.env:1) is 143360 bytes, and Linux refuses to start a program with a variable (NAME=value) over 128 KiB");
    Launch::with_required()
        .file("big.env", &big)
        .args(["--env-file", "big.env", "run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("COPY (from big.env:1) is 143360 bytes");
}

#[test]
fn absurd_durations_are_usage_errors() {
    for value in [
        "18446744073709551615",
        "9223372036854775807",
        "30000000000000000w",
    ] {
        for flag in ["--timeout", "--jitter"] {
            Launch::with_required()
                .args([flag, value, "check"])
                .run()
                .assert_code(2)
                .assert_stderr_contains("is longer than the limit of 1d");
        }
    }
}

#[test]
fn output_never_replaces_a_device_fifo_or_directory() {
    let launch = Launch::with_required().file("t.tmpl", "jwt: ${CRONOS_AI_JWT_SECRET}\n");
    mkfifo(&launch.path("fifo"));
    std::fs::create_dir(launch.path("dir")).unwrap();
    for destination in ["fifo", "dir"] {
        for args in [
            vec!["--no-env-file", "export", "-o", destination],
            vec!["--no-env-file", "render", "t.tmpl", "-o", destination],
        ] {
            launch
                .command()
                .args(&args)
                .output()
                .map(|output| Outcome { output })
                .unwrap()
                .assert_code(125)
                .assert_stderr_contains("only a regular file is replaced");
        }
    }
    assert!(
        std::fs::metadata(launch.path("fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(launch.path("dir").is_dir());
    // `-o -` is standard output.
    let stdout = Outcome {
        output: launch
            .command()
            .args(["--no-env-file", "render", "t.tmpl", "-o", "-"])
            .output()
            .unwrap(),
    };
    stdout
        .assert_code(0)
        .assert_stdout_contains(&format!("jwt: {JWT_SECRET}"));
    assert!(!launch.path("-").exists());
}

#[test]
fn run_render_puts_every_file_in_place_or_none() {
    let launch = Launch::with_required().file("t.tmpl", "jwt: ${CRONOS_AI_JWT_SECRET}\n");
    std::fs::create_dir(launch.path("isdir")).unwrap();
    launch
        .command()
        .args([
            "--no-env-file",
            "run",
            "--render",
            "t.tmpl:out1.yaml",
            "--render",
            "t.tmpl:isdir",
            "--",
            "true",
        ])
        .output()
        .map(|output| Outcome { output })
        .unwrap()
        .assert_code(125);
    assert!(
        !launch.path("out1.yaml").exists(),
        "no secrets file left behind"
    );
    let leftovers: Vec<_> = std::fs::read_dir(launch.dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn install_into_a_new_directory_creates_it() {
    let launch = Launch::new();
    launch
        .command()
        .args(["install", "newdir"])
        .output()
        .map(|output| Outcome { output })
        .unwrap()
        .assert_code(0);
    let installed = launch.path("newdir/cronos-secrets");
    assert!(installed.is_file());
    assert_eq!(mode(&installed), 0o755);
    std::fs::write(launch.path("plain"), "x").unwrap();
    launch
        .command()
        .args(["install", "plain"])
        .output()
        .map(|output| Outcome { output })
        .unwrap()
        .assert_code(125)
        .assert_stderr_contains("not a directory");
}

#[test]
fn audit_log_fails_closed_never_follows_links_and_is_private() {
    let launch = Launch::with_required().file("j.env", "A=env://CRONOS_AI_API_KEY\n");
    // /dev/full: every write fails, so the program must not start.
    let full = Outcome {
        output: launch
            .command()
            .args([
                "--env-file",
                "j.env",
                "--audit-log",
                "/dev/full",
                "run",
                "--",
                "sh",
                "-c",
                "echo started",
            ])
            .output()
            .unwrap(),
    };
    full.assert_code(125)
        .assert_stderr_contains("cannot write the audit record");
    assert!(!full.stdout().contains("started"));
    // A symlink is not followed.
    std::fs::write(launch.path("victim"), "").unwrap();
    std::os::unix::fs::symlink(launch.path("victim"), launch.path("audit.log")).unwrap();
    let linked = Outcome {
        output: launch
            .command()
            .args(["--env-file", "j.env", "--audit-log", "audit.log", "check"])
            .output()
            .unwrap(),
    };
    linked
        .assert_code(125)
        .assert_stderr_contains("it is a symbolic link");
    assert_eq!(std::fs::read(launch.path("victim")).unwrap(), b"");
    // An existing 0644 log becomes 0600.
    std::fs::write(launch.path("open.log"), "").unwrap();
    std::fs::set_permissions(
        launch.path("open.log"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let kept = Outcome {
        output: launch
            .command()
            .args(["--env-file", "j.env", "--audit-log", "open.log", "check"])
            .output()
            .unwrap(),
    };
    kept.assert_code(0);
    assert_eq!(mode(&launch.path("open.log")), 0o600);
    assert!(read(&launch.path("open.log")).contains("secret read"));
}

#[test]
fn nothing_is_echoed_from_bad_lines_or_settings() {
    let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let outcome = Launch::with_required()
        .file("b.env", &format!("{hex}\n"))
        .args(["--env-file", "b.env", "check"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("b.env:1: invalid key (it starts with a digit");
    outcome.assert_no_leak(&[&hex[..12]]);
    let backend = Launch::with_required()
        .env("CRONOS_SECRETS_BACKEND", TOKEN)
        .args(["--no-env-file", "check"])
        .run();
    backend
        .assert_code(125)
        .assert_stderr_contains("unknown backend");
    backend.assert_no_leak(&[TOKEN]);
    let newline = Launch::with_required()
        .file("n.env", "X=\"secret://ho\\nme\"\n")
        .args(["--env-file", "n.env", "check"])
        .run();
    newline
        .assert_code(125)
        .assert_stderr_contains("control character");
    assert!(!newline.stderr().contains("me\""), "{}", newline.stderr());
}

#[test]
fn override_values_are_text_not_yaml() {
    let outcome = Launch::with_required()
        .env("CRONOS_SECRETS_BACKEND", "aws_secrets_manager")
        .env("CRONOS_SECRETS_AWS_PREFIX", "0x1F")
        .file("p.env", "A=secret://db\nB=secret://other\n")
        .args(["--env-file", "p.env", "check", "--plan"])
        .run();
    outcome.assert_code(0).assert_stdout_contains("0x1F/db");
    Launch::with_required()
        .env("CRONOS_SECRETS_VAULT_MAX_CONCURRENCY", "1e3")
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .args(["--no-env-file", "check", "--plan"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("CRONOS_SECRETS_VAULT_MAX_CONCURRENCY: expected a whole number");
}

/// As PID 1 (a container without --init) the kernel drops default-fatal signals: the launcher's
/// own handlers must end a launch stuck on a silent server at once, starting nothing.
#[test]
fn sigterm_ends_a_stuck_launch_even_as_pid_1() {
    if Command::new("unshare")
        .args(["-pf", "--mount-proc", "true"])
        .status()
        .map_or(true, |status| !status.success())
    {
        panic!("this test needs unshare(1) and permission for PID namespaces (run as root)");
    }
    // A server that accepts and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let launch = Launch::with_required()
        .env("VAULT_ADDR", &address)
        .env("VAULT_TOKEN", TOKEN)
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .file("one.env", "X=secret://jwt\n");
    let child = Command::new("unshare")
        .args(["-pf", "--mount-proc"])
        .arg(binary())
        .args([
            "--env-file",
            "one.env",
            "--timeout",
            "60s",
            "run",
            "--",
            "sh",
            "-c",
            "echo started",
        ])
        .current_dir(launch.dir.path())
        .env_clear()
        .envs(
            launch
                .command()
                .get_envs()
                .filter_map(|(k, v)| Some((k, v?))),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the launcher (PID 1 inside) has connected, then signal it from outside.
    let (_held, _) = listener.accept().unwrap();
    let launcher =
        std::fs::read_to_string(format!("/proc/{}/task/{}/children", child.id(), child.id()))
            .unwrap()
            .split_whitespace()
            .next()
            .expect("unshare's child")
            .to_string();
    let started = std::time::Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &launcher])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "ended at the signal, not the timeout"
    );
    assert_eq!(
        output.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("started"));
}

/// `secrets_manager.audit_log` (or `CRONOS_SECRETS_AUDIT_LOG`) names the audit log when
/// `--audit-log` does not: the first event of the launch goes there, never a value; the flag
/// wins over the config.
#[test]
fn the_configs_audit_log_is_written_like_the_flags() {
    let launch = Launch::with_required()
        .file("j.env", "A=env://CRONOS_AI_API_KEY\n")
        .file(
            "config.yaml",
            "secrets_manager:\n  backend: env\n  audit_log: logs/audit.jsonl\n",
        )
        .env("CRONOS_SECRETS_CONFIG", "config.yaml");
    std::fs::create_dir_all(launch.path("logs")).unwrap();
    let run = |extra: &[&str]| Outcome {
        output: launch
            .command()
            .args(["--env-file", "j.env"])
            .args(extra)
            .args(["run", "--", "true"])
            .output()
            .unwrap(),
    };
    let outcome = run(&[]);
    outcome.assert_code(0);
    let written = read(&launch.path("logs/audit.jsonl"));
    assert!(written.contains("secret read"), "{written}");
    assert!(written.contains("env://CRONOS_AI_API_KEY"), "{written}");
    assert_eq!(mode(&launch.path("logs/audit.jsonl")), 0o600);
    // Not on stderr as well: the file is the audit log.
    assert!(!outcome.stderr().contains("secret read"));
    outcome.assert_no_leak(&[API_KEY]);
    assert!(!written.contains(API_KEY));
    // --audit-log wins over the config.
    let lines = written.lines().count();
    run(&["--audit-log", "flag.jsonl"]).assert_code(0);
    assert!(read(&launch.path("flag.jsonl")).contains("secret read"));
    assert_eq!(
        read(&launch.path("logs/audit.jsonl")).lines().count(),
        lines
    );
}
