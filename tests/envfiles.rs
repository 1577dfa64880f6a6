//! Env files as docker compose reads them, their precedence, placeholders and errors.

mod common;

use common::*;

fn child_env_with(env_file: &str) -> std::collections::BTreeMap<String, String> {
    let outcome = Launch::with_required()
        .file(".env.production", env_file)
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    outcome.child_env()
}

#[test]
fn dotenv_syntax() {
    let env = child_env_with(concat!(
        "# a comment\n",
        "\n",
        "PLAIN=value # trailing comment\n",
        "HASH=a#b\n",
        "export EXPORTED=yes\n",
        "SPACED = around equals\n",
        "SINGLE='literal $HOME ${HOME} \\n'\n",
        "DOUBLE=\"line1\\nline2 \\\"quoted\\\" back\\\\slash\"\n",
        "MULTI=\"first\nsecond\"\n",
        "AFTER_MULTI=ok\n",
        "EMPTY=\n",
        "EQUALS=a=b=c\n",
        "DOLLARS=\"cost $$5 and \\$6\"\n",
        "UNQUOTED_DOLLAR=\\$7\n",
    ));
    assert_eq!(env["PLAIN"], "value");
    assert_eq!(env["HASH"], "a#b");
    assert_eq!(env["EXPORTED"], "yes");
    assert_eq!(env["SPACED"], "around equals");
    assert_eq!(env["SINGLE"], "literal $HOME ${HOME} \\n");
    assert_eq!(env["DOUBLE"], "line1\nline2 \"quoted\" back\\slash");
    assert_eq!(env["MULTI"], "first\nsecond");
    assert_eq!(env["AFTER_MULTI"], "ok");
    assert_eq!(env["EMPTY"], "");
    assert_eq!(env["EQUALS"], "a=b=c");
    assert_eq!(env["DOLLARS"], "cost $5 and $6");
    assert_eq!(env["UNQUOTED_DOLLAR"], "$7");
}

#[test]
fn placeholders_refer_to_entries_in_any_order_and_to_the_environment() {
    let env = child_env_with(concat!(
        "URL=\"postgres://${DB_USER}:${CRONOS_AI_DB_PASSWORD}@${DB_HOST:-localhost}/$DB_NAME\"\n",
        "DB_USER=cronos\n",
        "DB_NAME=app\n",
        "EMPTY=\n",
        "COLON_DEFAULT=${EMPTY:-fallback}\n",
        "DASH_DEFAULT=${EMPTY-fallback}\n",
        "NESTED=${UNSET_A:-${UNSET_B:-deep}}\n",
    ));
    assert_eq!(
        env["URL"],
        format!("postgres://cronos:{DB_PASSWORD}@localhost/app")
    );
    assert_eq!(env["COLON_DEFAULT"], "fallback");
    assert_eq!(env["DASH_DEFAULT"], "");
    assert_eq!(env["NESTED"], "deep");
}

#[test]
fn process_environment_wins_unless_override() {
    let launch = Launch::with_required()
        .env("SHARED", "from-environment")
        .file(".env.production", "SHARED=from-file\n");
    let default = Outcome {
        output: launch
            .command()
            .args(["run", "--", "env", "-0"])
            .output()
            .unwrap(),
    };
    assert_eq!(default.child_env()["SHARED"], "from-environment");
    let overridden = Outcome {
        output: launch
            .command()
            .args(["run", "--override", "--", "env", "-0"])
            .output()
            .unwrap(),
    };
    assert_eq!(overridden.child_env()["SHARED"], "from-file");
}

#[test]
fn later_env_files_win_and_replace_the_default() {
    let outcome = Launch::with_required()
        .file(".env.production", "DEFAULT_ONLY=1\n")
        .file("a.env", "X=a\nFROM_A=${X}\n")
        .file("b.env", "X=b\n")
        .args([
            "run",
            "--env-file",
            "a.env",
            "--env-file",
            "b.env",
            "--",
            "env",
            "-0",
        ])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["X"], "b");
    assert_eq!(env["FROM_A"], "b", "placeholders see the merged set");
    assert!(
        !env.contains_key("DEFAULT_ONLY"),
        "--env-file replaces the default file"
    );
}

#[test]
fn cronos_ai_env_selects_the_default_file_and_no_env_file_skips_it() {
    let launch = Launch::with_required()
        .env("CRONOS_AI_ENV", "staging")
        .file(".env.production", "WHICH=production\n")
        .file(".env.staging", "WHICH=staging\n");
    let staging = Outcome {
        output: launch
            .command()
            .args(["run", "--", "env", "-0"])
            .output()
            .unwrap(),
    };
    assert_eq!(staging.child_env()["WHICH"], "staging");
    let none = Outcome {
        output: launch
            .command()
            .args(["run", "--no-env-file", "--", "env", "-0"])
            .output()
            .unwrap(),
    };
    assert!(!none.child_env().contains_key("WHICH"));
}

#[test]
fn a_cycle_is_an_error_that_prints_the_cycle() {
    Launch::with_required()
        .file(".env.production", "A=${B}\nB=x${C}\nC=$A\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("placeholders form a cycle: A -> B -> C -> A");
}

#[test]
fn malformed_lines_name_file_and_line() {
    Launch::with_required()
        .file("bad.env", "GOOD=1\n\nthis is not an entry\n")
        .args(["run", "--env-file", "bad.env", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("bad.env:3:");
    Launch::with_required()
        .file("open.env", "A=1\nB=\"never closed\nC=3\n")
        .args(["check", "--env-file", "open.env"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("open.env:2:");
}

#[test]
fn unset_placeholders_and_required_messages_are_errors() {
    Launch::with_required()
        .file(".env.production", "A=1\nB=${NOT_SET_ANYWHERE}\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains(".env.production:2: B: variable NOT_SET_ANYWHERE is not set")
        .assert_stderr_contains("${NOT_SET_ANYWHERE:-}");
    Launch::with_required()
        .file(
            ".env.production",
            "B=${REGION:?set REGION to the deployment region}\n",
        )
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("variable REGION is required: set REGION to the deployment region");
}

#[test]
fn missing_env_file_and_bad_references_are_clear_errors() {
    Launch::with_required()
        .args(["run", "--env-file", "missing.env", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("missing.env: cannot read the env file: no such file");
    Launch::with_required()
        .file(".env.production", "A=${sekret://db}\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("unknown reference scheme \"sekret://\"");
    Launch::with_required()
        .file(".env.production", "A=file://does/not/exist\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("A: cannot read file://")
        .assert_stderr_contains("does/not/exist: no such file");
}

#[test]
fn inline_comments_start_where_docker_compose_starts_them() {
    // Only " #" starts a comment; after a tab, "#" belongs to the value (compose-go's rule).
    let text = "TAB=v\t# x\nSPACE=v # y\nNONE=v#z\n";
    let ours = child_env_with(text);
    let launch = Launch::new().file("e.env", text).file(
        "compose.yaml",
        "services:\n  app:\n    image: x\n    env_file: e.env\n",
    );
    let compose = tools::compose_environment(
        &tools::compose_config(launch.dir.path(), "compose.yaml"),
        "app",
    );
    for key in ["TAB", "SPACE", "NONE"] {
        assert_eq!(ours[key], compose[key], "{key}");
    }
    assert_eq!(ours["TAB"], "v\t# x");
}
