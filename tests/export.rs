//! `export`: the resolved set, quoted so that every reader gets the same bytes back.

mod common;

use std::collections::BTreeMap;

use common::tools::*;
use common::*;

/// Values that break naive quoting: quotes, `$`, newlines, `#`, `=`, backslashes, unicode.
const TRICKY: [(&str, &str); 12] = [
    ("TRICKY_QUOTES", "it's \"quoted\" and 'single'"),
    ("TRICKY_DOLLARS", "$HOME ${HOME} $$ $(id) `id` \\$x"),
    ("TRICKY_NEWLINES", "line one\nline two\n\n"),
    ("TRICKY_HASH", "# not a comment = still the value #"),
    ("TRICKY_BACKSLASHES", "back\\slash \\n \\\\ \\t"),
    ("TRICKY_ENDS_IN_BACKSLASH", "ends in \\"),
    ("TRICKY_QUOTE_AND_BACKSLASH", "it's \\ and ends \\"),
    ("TRICKY_UNICODE", "héllo ✓ 日本語 🔐"),
    ("TRICKY_SPACES", "  padded  "),
    ("TRICKY_EMPTY", ""),
    ("TRICKY_EQUALS", "=a=b="),
    ("TRICKY_TAB_CR", "tab\there\rcarriage"),
];

/// The five required secrets in the environment; the tricky values passed through from the
/// launcher's environment by `KEY` lines of the env file, so they count as env-file entries.
fn launch() -> Launch {
    let mut env_file = String::new();
    let mut launch = Launch::with_required();
    for (name, value) in TRICKY {
        env_file.push_str(name);
        env_file.push('\n');
        launch = launch.env(name, value);
    }
    launch
        .env("NOT_EXPORTED", "the rest of the environment")
        .env("SHADOWING", "from the environment")
        .env("VAULT_TOKEN", "planted-launcher-token-Hv8")
        .file("secrets/db_url", "postgresql://planted-db-url\n")
        .file(
            ".env.production",
            &format!(
                "{env_file}DB_URL=file://secrets/db_url\nSHADOWING=from the file\nVAULT_TOKEN=x\n"
            ),
        )
}

fn expected() -> BTreeMap<String, String> {
    let mut expected: BTreeMap<String, String> = TRICKY
        .iter()
        .chain(REQUIRED.iter())
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    expected.insert("DB_URL".into(), "postgresql://planted-db-url".into());
    expected.insert("SHADOWING".into(), "from the environment".into());
    expected
}

fn export(format: &str) -> (Launch, String) {
    let launch = launch().args(["export", "--format", format, "-o", "out"]);
    launch.run().assert_code(0).assert_no_leak(&[
        DB_PASSWORD,
        JWT_SECRET,
        "planted-db-url",
        "planted-launcher-token-Hv8",
    ]);
    assert_eq!(mode(&launch.path("out")), 0o600);
    (launch, "out".to_string())
}

#[test]
fn dotenv_reads_back_the_same_through_our_parser_sh_and_docker_compose() {
    let (launch, out) = export("dotenv");
    let dir = launch.dir.path();

    let ours = Launch::new()
        .file(".env.test", &read(&launch.path(&out)))
        .args([
            "--env-file",
            ".env.test",
            "run",
            "--pristine",
            "--",
            "env",
            "-0",
        ])
        .run();
    ours.assert_code(0);
    assert_eq!(ours.child_env(), expected(), "our env-file parser");

    assert_eq!(sh_env(dir, &format!(". ./{out}")), expected(), "sh");

    std::fs::write(
        dir.join("compose.yaml"),
        format!("services:\n  app:\n    image: scratch\n    env_file: {out}\n"),
    )
    .unwrap();
    let config = compose_config(dir, "compose.yaml");
    assert_eq!(
        compose_environment(&config, "app"),
        expected(),
        "docker compose"
    );
}

#[test]
fn shell_format_evals_to_the_same_values() {
    let (launch, out) = export("shell");
    let env = sh_env(launch.dir.path(), &format!("eval \"$(cat {out})\""));
    assert_eq!(env, expected());
    assert!(read(&launch.path(&out)).starts_with("export "));
}

#[test]
fn json_holds_exactly_the_resolved_set() {
    let (launch, out) = export("json");
    let parsed: BTreeMap<String, String> = serde_json::from_str(&read(&launch.path(&out))).unwrap();
    assert_eq!(parsed, expected());
}

#[test]
fn k8s_secret_is_a_valid_manifest_with_the_same_values() {
    let launch = launch()
        .env("TRICKY_YAML", "yes")
        .env("TRICKY_NUMBER", "0755")
        .env("TRICKY_NULL", "~")
        .env("TRICKY_LINE_SEPARATOR", "a\u{2028}b\u{85}c")
        .file(
            ".env.production",
            "TRICKY_YAML\nTRICKY_NUMBER\nTRICKY_NULL\nTRICKY_LINE_SEPARATOR\nTRICKY_NEWLINES\n",
        )
        .args([
            "export",
            "--format",
            "k8s-secret",
            "--name",
            "app-env",
            "-o",
            "secret.yaml",
        ]);
    launch.run().assert_code(0);
    let path = launch.path("secret.yaml");
    kubernetes_validate(&[&path]);
    let documents = yaml_documents(&path);
    let manifest = &documents[0];
    assert_eq!(manifest["kind"], "Secret");
    assert_eq!(manifest["metadata"]["name"], "app-env");
    let data = &manifest["stringData"];
    assert_eq!(data["TRICKY_YAML"], "yes");
    assert_eq!(data["TRICKY_NUMBER"], "0755");
    assert_eq!(data["TRICKY_NULL"], "~");
    assert_eq!(data["TRICKY_LINE_SEPARATOR"], "a\u{2028}b\u{85}c");
    assert_eq!(data["TRICKY_NEWLINES"], "line one\nline two\n\n");
    assert_eq!(data["CRONOS_AI_API_KEY"], API_KEY);
}

#[test]
fn values_no_quoting_can_carry_are_refused_by_name_without_the_value() {
    let outcome = Launch::with_required()
        .env("BAD", "planted-it's-`both`")
        .file(".env.production", "BAD\n")
        .args(["export", "-o", "out"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("BAD: the value holds both a single quote and a backtick")
        .assert_stderr_contains("hint: use --format json")
        .assert_no_leak(&["planted-it's"]);
    let launch = Launch::with_required()
        .file(".env.production", "a.b=1\n")
        .args(["export", "--format", "shell"]);
    launch
        .run()
        .assert_code(125)
        .assert_stderr_contains("a.b: not a shell variable name");
}

#[test]
fn nothing_is_written_when_a_secret_does_not_resolve() {
    let launch = Launch::with_required()
        .file("out", "previous")
        .file(".env.production", "MISSING=file://nowhere\n")
        .args(["export", "-o", "out"]);
    launch
        .run()
        .assert_code(125)
        .assert_stderr_contains("MISSING");
    assert_eq!(read(&launch.path("out")), "previous");
}

#[test]
fn refuses_to_print_to_a_terminal_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    // `script` runs the command with a pseudo-terminal as its stdout.
    let in_terminal = |extra: &str| {
        let command = format!("{} --no-env-file export {extra}", binary().display());
        let output = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(REQUIRED)
            .current_dir(dir.path())
            .output()
            .expect("script, from util-linux");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let refused = in_terminal("");
    assert!(
        refused.contains("refusing to print secrets to a terminal"),
        "{refused}"
    );
    assert!(!refused.contains(API_KEY));
    assert!(in_terminal("--force").contains(API_KEY));
}
