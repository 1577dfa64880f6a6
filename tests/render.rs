//! `render` and `run --render`: config templates filled with the launch's resolved values.

mod common;

use common::*;

const FILE_SECRET: &str = "planted-template-file-secret-X7q";

/// A template in a subdirectory, with a secret file beside it (`file://` is relative to it).
fn launch() -> Launch {
    Launch::with_required()
        .env("RUST_LOG", "trace")
        .env("APP_PORT", "8080")
        .file("conf/secret.txt", &format!("{FILE_SECRET}\n"))
        .file(".env.production", "DB_HOST=db.internal\n")
        .file(
            "conf/app.yaml.tmpl",
            "# $HOME and $$ stay\r\ndatabase:\n  host: ${DB_HOST}\n  password: \"${secret://database_password}\"\n\
             jwt: ${CRONOS_AI_JWT_SECRET}\nfile: ${file://secret.txt}\nport: ${APP_PORT:-80}\nlevel: ${LOG_LEVEL:-info}\n",
        )
}

fn expected() -> String {
    format!(
        "# $HOME and $ stay\r\ndatabase:\n  host: db.internal\n  password: \"{DB_PASSWORD}\"\n\
         jwt: {JWT_SECRET}\nfile: {FILE_SECRET}\nport: 8080\nlevel: info\n"
    )
}

#[test]
fn renders_to_stdout_byte_for_byte() {
    let outcome = launch()
        .remove_env("RUST_LOG")
        .args(["render", "conf/app.yaml.tmpl"])
        .run();
    outcome.assert_code(0);
    assert_eq!(outcome.stdout(), expected());
    // The rendered file is the answer: audit lines only when asked (-v or --audit-log).
    assert_eq!(outcome.stderr(), "");
    // RUST_LOG=trace: the audit events, and no value at any level.
    let verbose = launch().args(["render", "conf/app.yaml.tmpl"]).run();
    verbose.assert_code(0);
    assert_eq!(verbose.stdout(), expected());
    assert!(
        !verbose.stderr().contains(DB_PASSWORD),
        "{}",
        verbose.stderr()
    );
    assert!(
        verbose.stderr().contains("conf/app.yaml.tmpl:4:14"),
        "audit names the placeholder"
    );
}

#[test]
fn writes_the_output_atomically_with_a_private_mode() {
    let launch = launch().file("out/app.yaml", "old contents").args([
        "render",
        "conf/app.yaml.tmpl",
        "-o",
        "out/app.yaml",
    ]);
    launch
        .run()
        .assert_code(0)
        .assert_no_leak(&[DB_PASSWORD, FILE_SECRET]);
    assert_eq!(read(&launch.path("out/app.yaml")), expected());
    assert_eq!(mode(&launch.path("out/app.yaml")), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(launch.path("out")).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");

    let shared = launch.args(["--mode", "0640"]);
    shared.run().assert_code(0);
    assert_eq!(mode(&shared.path("out/app.yaml")), 0o640);
}

#[test]
fn an_unresolvable_placeholder_names_its_line_and_column_and_writes_nothing() {
    let launch = launch()
        .file("out.yaml", "previous")
        .file(
            "bad.tmpl",
            "ok: ${DB_HOST}\n  a: ${NOT_SET}\n  b: ${file://missing.txt}\n  token: ${VAULT_TOKEN}\n",
        )
        .env("VAULT_TOKEN", "planted-vault-token-Zq")
        .args(["render", "bad.tmpl", "-o", "out.yaml"]);
    let outcome = launch.run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("bad.tmpl:2:6: variable NOT_SET is not set")
        .assert_stderr_contains("bad.tmpl:4:10: VAULT_TOKEN is the launcher's own credential")
        .assert_stderr_contains("hint: write $${VAULT_TOKEN}")
        .assert_no_leak(&["planted-vault-token-Zq", DB_PASSWORD]);
    assert_eq!(read(&launch.path("out.yaml")), "previous");

    // Placeholders that parse but cannot be fetched are named by their place too.
    let fetch = Launch::with_required()
        .file("t", "a\n b ${file://missing.txt}\n")
        .args(["render", "t"])
        .run();
    fetch
        .assert_code(125)
        .assert_stderr_contains("t:2:4:")
        .assert_stderr_contains("missing.txt");
    Launch::with_required()
        .file("t", "x ${A B}\n")
        .args(["render", "t"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("t:1:3: invalid variable name");
}

#[test]
fn run_renders_every_file_before_the_program_starts() {
    let launch = launch()
        .file("second.tmpl", "second=${DB_HOST}\n")
        .args([
            "run",
            "--render",
            "conf/app.yaml.tmpl:rendered/app.yaml",
            "--render",
            "second.tmpl:rendered/second.conf",
            "--",
            "sh",
            "-c",
            "stat -c %a rendered/app.yaml rendered/second.conf && cat rendered/second.conf",
        ])
        .file("rendered/.keep", "");
    let outcome = launch.run();
    outcome.assert_code(0);
    assert_eq!(outcome.stdout(), "600\n600\nsecond=db.internal\n");
    assert_eq!(read(&launch.path("rendered/app.yaml")), expected());
}

#[test]
fn run_starts_nothing_and_writes_nothing_when_one_template_fails() {
    let launch = launch()
        .file("bad.tmpl", "x=${NOPE}\n")
        .file("rendered/.keep", "")
        .args([
            "run",
            "--render",
            "conf/app.yaml.tmpl:rendered/app.yaml",
            "--render",
            "bad.tmpl:rendered/bad.conf",
            "--",
            "sh",
            "-c",
            "echo started",
        ]);
    let outcome = launch.run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("bad.tmpl:1:3: variable NOPE is not set");
    assert!(!outcome.stdout().contains("started"));
    assert!(!launch.path("rendered/app.yaml").exists());

    // A destination that cannot be written: the other file is not moved into place either.
    let blocked = self::launch().file("rendered/blocked/.keep", "").args([
        "run",
        "--render",
        "conf/app.yaml.tmpl:rendered/app.yaml",
        "--render",
        "conf/app.yaml.tmpl:no-such-dir/app.yaml",
        "--",
        "sh",
        "-c",
        "echo started",
    ]);
    let outcome = blocked.run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("no-such-dir/app.yaml: cannot create a temporary file");
    assert!(!blocked.path("rendered/app.yaml").exists());
}

#[test]
fn run_render_takes_a_source_and_a_destination() {
    Launch::with_required()
        .args(["run", "--render", "only-one-path", "--", "true"])
        .run()
        .assert_code(2)
        .assert_stderr_contains("expected TEMPLATE:OUTPUT");
}

/// On the env backend, `${secret://NAME}` in a template is the value `run` would give NAME's
/// variable: an env-file entry counts, as it does for `check`.
#[test]
fn a_secret_placeholder_reads_the_env_file_entry_on_the_env_backend() {
    let outcome = Launch::with_required()
        .remove_env("CRONOS_AI_DB_PASSWORD")
        .file("secrets/db", DB_PASSWORD)
        .file(
            ".env.development",
            "CRONOS_AI_DB_PASSWORD=file://secrets/db\n",
        )
        .file("secret.yaml", "password: ${secret://database_password}\n")
        .args(["--env-file", ".env.development", "render", "secret.yaml"])
        .run();
    outcome.assert_code(0);
    assert_eq!(outcome.stdout(), format!("password: {DB_PASSWORD}\n"));
}
