//! The shipped examples, run where they can be: Kubernetes manifests against the schema and
//! their templates rendered, the local-dev flows as a developer types them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::tools::*;
use common::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "yaml")
        {
            found.push(path);
        }
    }
}

#[test]
fn every_kubernetes_manifest_validates_against_the_schema() {
    let mut manifests = Vec::new();
    yaml_files(&repo().join("examples/kubernetes"), &mut manifests);
    assert!(manifests.len() >= 6, "{manifests:?}");
    manifests.push(repo().join("examples/azure/aks-workload-identity.yaml"));
    let paths: Vec<&Path> = manifests.iter().map(PathBuf::as_path).collect();
    kubernetes_validate(&paths);
}

/// The ConfigMap `data` of a manifest, by key.
fn config_map(manifest: &str, name: &str) -> serde_json::Value {
    yaml_documents(&repo().join(manifest))
        .into_iter()
        .find(|document| document["kind"] == "ConfigMap" && document["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no ConfigMap {name} in {manifest}"))["data"]
        .clone()
}

#[test]
fn launcher_configs_in_the_manifests_plan_reads_from_vault() {
    for (manifest, name) in [
        (
            "examples/kubernetes/binary-copy/cronos-ai.yaml",
            "cronos-secrets-config",
        ),
        (
            "examples/kubernetes/render-init/cronos-ai.yaml",
            "cronos-ai-templates",
        ),
        (
            "examples/kubernetes/sidecar/cronos-ai.yaml",
            "cronos-ai-sidecar-templates",
        ),
    ] {
        let data = config_map(manifest, name);
        let (_, config) = data
            .as_object()
            .unwrap()
            .iter()
            .find(|(key, _)| key.starts_with("cronos"))
            .unwrap();
        let outcome = Launch::new().plan_with_config(config.as_str().unwrap());
        let row = outcome.assert_code(0).row("CRONOS_AI_JWT_SECRET");
        assert!(row.contains("vault") && row.contains("jwt_secret"), "{row}");
    }
}

/// The render-init pattern's init containers, run here with the env backend in place of
/// Vault: the app's config template renders, and the .env reads back.
#[test]
fn render_init_containers_write_the_apps_files() {
    let data = config_map(
        "examples/kubernetes/render-init/cronos-ai.yaml",
        "cronos-ai-templates",
    );
    let template = data["cronos_ai.production.yaml"].as_str().unwrap();
    let launch = Launch::with_required()
        .file("templates/cronos_ai.production.yaml", template)
        .file("run/.keep", "");
    let render = launch.args([
        "--no-env-file",
        "render",
        "templates/cronos_ai.production.yaml",
        "-o",
        "run/cronos_ai.production.yaml",
    ]);
    render.run().assert_code(0);
    let rendered = render.path("run/cronos_ai.production.yaml");
    assert_eq!(mode(&rendered), 0o600);
    let config = &yaml_documents(&rendered)[0];
    assert_eq!(config["database"]["password"], DB_PASSWORD);
    assert_eq!(config["security"]["api_key"], API_KEY);

    let export = Launch::with_required().args(["--no-env-file", "export", "-o", ".env"]);
    export.run().assert_code(0);
    let check = Launch::new()
        .file(".env", &read(&export.path(".env")))
        .args(["--env-file", ".env", "check"])
        .run();
    check.assert_code(0);
}

/// The native sidecar's `render --watch` and its startup probe, run here with the env backend
/// in place of Vault: the probe fails until the first render is complete, then passes.
#[test]
fn sidecar_is_ready_once_its_first_render_is_complete() {
    let manifest = "examples/kubernetes/sidecar/cronos-ai.yaml";
    let data = config_map(manifest, "cronos-ai-sidecar-templates");
    let sidecar = &yaml_documents(&repo().join(manifest))
        .into_iter()
        .find(|document| document["kind"] == "Deployment")
        .unwrap()["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(sidecar["restartPolicy"], "Always");
    let probe: Vec<String> = sidecar["startupProbe"]["exec"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1) // the image's /cronos-secrets: here, the binary under test
        .map(|arg| arg.as_str().unwrap().replace("/run/cronos-ai", "run"))
        .collect();
    let launch = Launch::with_required()
        .file(
            "templates/cronos_ai.production.yaml",
            data["cronos_ai.production.yaml"].as_str().unwrap(),
        )
        .file("run/.keep", "");
    let probe_code = |launch: &Launch| {
        let mut command = launch.command();
        command.args(&probe).output().unwrap().status.code()
    };
    assert_ne!(
        probe_code(&launch),
        Some(0),
        "ready before the first render"
    );
    let mut sidecar = launch
        .command()
        .args([
            "--no-env-file",
            "render",
            "templates/cronos_ai.production.yaml",
            "-o",
            "run/cronos_ai.production.yaml",
            "--watch",
            "--interval",
            "1s",
            "--ready-file",
            "run/ready",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while probe_code(&launch) != Some(0) {
        assert!(start.elapsed().as_secs() < 20, "never ready");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let config = &yaml_documents(&launch.path("run/cronos_ai.production.yaml"))[0];
    assert_eq!(config["security"]["jwt_secret"], JWT_SECRET);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sidecar.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert_eq!(sidecar.wait().unwrap().code(), Some(0));
}

fn local_example(command: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(binary(), dir.path().join("cronos-secrets")).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let output = Command::new("sh")
        .args(["-c", command])
        .current_dir(repo())
        .env_clear()
        .env("PATH", path)
        .env("HOME", "/home/developer")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{command}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn local_development_flows_give_the_app_the_same_variables() {
    let launched = local_example(
        "cronos-secrets --env-file examples/local/.env.development run -- examples/local/app.sh",
    );
    let evaluated = local_example("examples/local/dev-shell.sh");
    let without_pid = |text: &str| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(without_pid(&evaluated), without_pid(&launched));
    assert!(
        launched.contains("CRONOS_AI_JWT_SECRET       "),
        "{launched}"
    );
    assert!(
        !launched.contains(" 0 characters"),
        "every secret resolved:\n{launched}"
    );
    assert!(
        launched.contains("LOG_LEVEL                  debug"),
        "{launched}"
    );
}

/// A copy of the repository's local example (the scripts, the env file, the throw-away
/// secret files) in a temporary directory, so a test can remove a piece of it.
fn local_example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("examples/local");
    std::fs::create_dir_all(copy.join("secrets")).unwrap();
    for file in ["app.sh", "dev-shell.sh", ".env.development"] {
        std::fs::copy(repo().join("examples/local").join(file), copy.join(file)).unwrap();
    }
    for entry in std::fs::read_dir(repo().join("examples/local/secrets")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join("secrets").join(entry.file_name())).unwrap();
    }
    dir
}

/// The README's shell pattern for local development, as the README shows it.
fn readme_dev_shell_lines() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("# or load the variables into your shell once")
        .expect("the README's local development block");
    let block = &readme[start..];
    let block = &block[..block.find("```").unwrap()];
    block.lines().skip(1).collect::<Vec<_>>().join("\n")
}

/// Runs `script` with `sh` in `dir`, with a PATH that has the launcher only when `with_binary`.
fn run_shell_pattern(dir: &Path, script: &str, with_binary: bool) -> std::process::Output {
    let bin = tempfile::tempdir().unwrap();
    if with_binary {
        std::os::unix::fs::symlink(binary(), bin.path().join("cronos-secrets")).unwrap();
    }
    Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()))
        .env("HOME", "/home/developer")
        .output()
        .unwrap()
}

#[test]
fn the_shell_pattern_stops_when_the_launcher_is_missing_or_a_secret_is_unreadable() {
    let readme_lines = readme_dev_shell_lines();
    assert!(readme_lines.contains("|| exit 1"), "{readme_lines}");
    let shipped = "examples/local/dev-shell.sh";
    for script in [shipped, readme_lines.as_str()] {
        // As shipped, everything present: the app starts with every secret.
        let copy = local_example_copy();
        let output = run_shell_pattern(copy.path(), script, true);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{script}: {output:?}");
        assert!(stdout.contains("app: started"), "{script}: {stdout}");
        assert!(!stdout.contains(" 0 characters"), "{script}: {stdout}");

        // The command is not installed: the script stops, the app never starts.
        let output = run_shell_pattern(copy.path(), script, false);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success(), "{script}: {output:?}");
        assert!(!stdout.contains("app: started"), "{script}: {stdout}");

        // One secret file is gone: the launcher names it, the script stops.
        std::fs::remove_file(copy.path().join("examples/local/secrets/api_key")).unwrap();
        let output = run_shell_pattern(copy.path(), script, true);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{script}: {output:?}");
        assert!(!stdout.contains("app: started"), "{script}: {stdout}");
        assert!(stderr.contains("api_key"), "{script}: {stderr}");
    }
}

/// The IAM documents shipped beside the AWS example are `policy`'s output for its config, so
/// they grant exactly the secrets that config reads and cannot drift from the command.
#[test]
fn the_aws_iam_examples_are_what_policy_prints_for_the_example_config() {
    let dir = repo().join("examples/aws");
    for (file, purpose) in [
        ("iam-read-policy.json", "run"),
        ("iam-rotation-policy.json", "rotate"),
    ] {
        let output = Command::new(binary())
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args([
                "--config",
                "cronos_ai.production.yaml",
                "policy",
                "--for",
                purpose,
            ])
            .args(["--aws-account", "123456789012"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let shipped = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            shipped,
            "examples/aws/{file} differs from `policy --for {purpose}`: regenerate it"
        );
        assert!(!shipped.contains("cronos-ai/*"), "{file} grants a wildcard");
    }
}
