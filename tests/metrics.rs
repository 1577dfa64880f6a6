//! The metrics for Prometheus (docs/monitoring.md): `rotate --status --format prometheus` and
//! the watchers' `--metrics-file`, from real runs against OpenBao, checked by Prometheus's own
//! `promtool` (`check metrics` on each output; `check rules` and `test rules` on the example
//! alert rules, fed the series the outputs hold), and never holding a secret value.

mod common;
mod watch_support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::openbao::{OpenBao, ROOT_TOKEN};
use common::*;
use nix::sys::signal::Signal;
use watch_support::Running;

const RULES: &str = "examples/monitoring/cronos-secrets-alerts.yml";

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs promtool; a missing promtool fails with what to install, never skips.
fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(repository())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot run promtool: {error} (Debian package prometheus; scripts/test.sh installs it)")
        });
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write to promtool");
    drop(input);
    let output = child.wait_with_output().expect("promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// `promtool check metrics`: parses, and no lint problem (names, suffixes, HELP, TYPE).
fn assert_promtool_accepts(metrics: &str) {
    let (ok, said) = promtool(&["check", "metrics"], Some(metrics));
    assert!(
        ok && said.trim().is_empty(),
        "promtool check metrics: {said}\n{metrics}"
    );
}

/// Every sample of an exposition text: the series (`name{labels}`) and its value (other
/// lines are skipped: `promtool check metrics` judges the format).
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The value of the one sample whose series starts with `prefix`.
fn value(text: &str, prefix: &str) -> Option<f64> {
    samples(text)
        .into_iter()
        .find(|(series, _)| series.starts_with(prefix))
        .map(|(_, value)| value)
}

/// The labels of a series `name{a="x",b="y"}` (values without escapes, as ours are here).
fn labels(series: &str) -> BTreeMap<String, String> {
    let Some((_, inner)) = series.split_once('{') else {
        return BTreeMap::new();
    };
    inner
        .trim_end_matches('}')
        .split("\",")
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once("=\"").expect("label");
            (name.to_string(), value.trim_end_matches('"').to_string())
        })
        .collect()
}

/// An alert the rules should raise: its name and the labels of the series it fires on.
struct Expected {
    alert: &'static str,
    labels: BTreeMap<String, String>,
}

/// `promtool test rules` on the example rules with `series` (`name{labels}` and promtool's
/// values notation, one sample a minute) at `eval_time`: exactly the `expected` alerts fire,
/// and every other alert of the file stays silent. Expected labels and annotations are the
/// rule's own, filled in from the series' labels.
fn assert_alerts(series: &[(String, String)], eval_time: &str, expected: &[Expected]) {
    let rules: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&read(&repository().join(RULES))).expect("rules YAML");
    // As Prometheus fills `{{ $labels.x }}`: a label the alert lacks is empty.
    let placeholder = regex::Regex::new(r"\{\{ \$labels\.(\w+) \}\}").unwrap();
    let mut tests = Vec::new();
    for rule in rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|group| group["rules"].as_sequence().unwrap())
    {
        let alert = rule["alert"].as_str().expect("an alert rule");
        let firing: Vec<serde_json::Value> = expected
            .iter()
            .filter(|expected| expected.alert == alert)
            .map(|expected| {
                let mut labels = expected.labels.clone();
                for (name, value) in rule["labels"].as_mapping().into_iter().flatten() {
                    labels.insert(
                        name.as_str().unwrap().to_string(),
                        value.as_str().unwrap().to_string(),
                    );
                }
                let annotations: BTreeMap<String, String> = rule["annotations"]
                    .as_mapping()
                    .into_iter()
                    .flatten()
                    .map(|(name, template)| {
                        let text = placeholder.replace_all(
                            template.as_str().unwrap(),
                            |found: &regex::Captures| {
                                expected.labels.get(&found[1]).cloned().unwrap_or_default()
                            },
                        );
                        assert!(!text.contains("{{"), "unfilled template in {text}");
                        (name.as_str().unwrap().to_string(), text.into_owned())
                    })
                    .collect();
                serde_json::json!({"exp_labels": labels, "exp_annotations": annotations})
            })
            .collect();
        tests.push(serde_json::json!({
            "eval_time": eval_time,
            "alertname": alert,
            "exp_alerts": firing,
        }));
    }
    for expected in expected {
        assert!(
            tests.iter().any(|test| test["alertname"] == expected.alert),
            "no rule named {}",
            expected.alert
        );
    }
    let input: Vec<serde_json::Value> = series
        .iter()
        .map(|(series, values)| serde_json::json!({"series": series, "values": values}))
        .collect();
    let file = serde_json::json!({
        "rule_files": [repository().join(RULES)],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input, "alert_rule_test": tests}],
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("alerts.test.yml");
    std::fs::write(&path, serde_yaml_ng::to_string(&file).unwrap()).expect("write test");
    let (ok, said) = promtool(&["test", "rules", &path.display().to_string()], None);
    assert!(ok, "promtool test rules: {said}\n{}", read(&path));
}

fn expected(alert: &'static str, series: &str) -> Expected {
    Expected {
        alert,
        labels: labels(series),
    }
}

#[test]
fn the_example_alert_rules_pass_promtool_check_rules() {
    let dir = repository().join("examples/monitoring");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/monitoring")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yml"))
        .map(|path| path.display().to_string())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut args = vec!["check", "rules"];
    args.extend(files.iter().map(String::as_str));
    let (ok, said) = promtool(&args, None);
    assert!(ok && said.contains("SUCCESS"), "{said}");
}

/// The rotation table: one secret of each state (the API key's one-second schedule makes its
/// real age overdue; the database password is never planted, so its metadata is unreadable).
const TABLE: &str = "secrets:
  jwt_secret: {env: CRONOS_AI_JWT_SECRET, min_length: 32, rotate_every: 180d}
  api_key: {env: CRONOS_AI_API_KEY, min_length: 32, rotate_every: 1s}
  encryption_key: {env: CRONOS_AI_ENCRYPTION_KEY, min_length: 32, rotate_every: 365d}
  database_password: {env: CRONOS_AI_DB_PASSWORD, min_length: 16, rotate_every: 90d}
";

#[test]
fn rotate_status_metrics_pass_promtool_and_raise_exactly_the_rotation_alerts() {
    let prefix = "metrics/rotation";
    for (name, value) in [
        ("jwt_secret", JWT_SECRET),
        ("api_key", API_KEY),
        ("encryption_key", ENCRYPTION_KEY),
    ] {
        bao().put("secret", &format!("{prefix}/{name}"), &[("value", value)]);
    }
    let config = format!(
        "secrets_manager:\n  enabled: true\n  backend: vault\n  vault_path: {prefix}\n{TABLE}"
    );
    let launch = || {
        Launch::new()
            .env("VAULT_ADDR", &bao().address)
            .env("VAULT_TOKEN", ROOT_TOKEN)
            .file("config.yaml", &config)
            .env("CRONOS_SECRETS_CONFIG", "config.yaml")
            .args(["--no-env-file"])
    };
    // A rotation killed after its first step leaves the pending slot an alert is about.
    let killed = launch()
        .env("CRONOS_SECRETS_ROTATE_FAULT", "sigkill-after:create")
        .args(["rotate", "encryption_key", "--yes"])
        .run();
    assert_eq!(killed.code(), -1, "{}", killed.stderr());
    // The API key's schedule (1s) passes.
    std::thread::sleep(Duration::from_millis(1100));
    let status = launch()
        .env("RUST_LOG", "trace")
        .args(["rotate", "--status", "--format", "prometheus"])
        .run();
    // Printed metrics exit 0 even with overdue secrets: `> tmp && mv` must publish them.
    status.assert_code(0);
    status.assert_no_leak(&[JWT_SECRET, API_KEY, ENCRYPTION_KEY, ROOT_TOKEN]);
    let text = status.stdout();
    assert_promtool_accepts(&text);
    let series = |metric: &str, name: &str| {
        format!("cronos_secrets_rotation_{metric}{{name=\"{name}\",backend=\"vault\"}}")
    };
    let of = |metric: &str, name: &str| value(&text, &series(metric, name));
    assert_eq!(of("overdue", "api_key"), Some(1.0), "{text}");
    assert_eq!(of("overdue", "jwt_secret"), Some(0.0), "{text}");
    assert_eq!(of("pending", "encryption_key"), Some(1.0), "{text}");
    assert_eq!(of("pending", "jwt_secret"), Some(0.0), "{text}");
    assert_eq!(of("status_unknown", "database_password"), Some(1.0));
    assert_eq!(of("overdue", "database_password"), None, "unknown is not 0");
    let age = of("age_seconds", "jwt_secret").expect("an age");
    assert!((0.0..3600.0).contains(&age), "{age}");
    let due = of("due_timestamp_seconds", "jwt_secret").expect("a due time");
    let taken = value(&text, "cronos_secrets_rotation_status_timestamp_seconds").unwrap();
    let half_year = 180.0 * 86_400.0;
    assert!((due - taken - half_year).abs() < 3600.0, "{due} {taken}");

    // The alerts, on these very series held for three hours.
    let input: Vec<(String, String)> = samples(&text)
        .into_iter()
        .map(|(series, value)| (series, format!("{value}x180")))
        .collect();
    assert_alerts(
        &input,
        "2h",
        &[
            expected(
                "CronosSecretsRotationOverdue",
                &series("overdue", "api_key"),
            ),
            expected(
                "CronosSecretsRotationPending",
                &series("pending", "encryption_key"),
            ),
            expected(
                "CronosSecretsRotationStatusUnknown",
                &series("status_unknown", "database_password"),
            ),
        ],
    );
    // The status job stopped two days ago: the stale alert, and only it, is new.
    let stale: Vec<(String, String)> = input
        .iter()
        .map(|(series, values)| match series.as_str() {
            "cronos_secrets_rotation_status_timestamp_seconds" => {
                (series.clone(), "0x3000".to_string())
            }
            _ => (series.clone(), values.replace("x180", "x3000")),
        })
        .collect();
    assert_alerts(
        &stale,
        "50h",
        &[
            expected(
                "CronosSecretsRotationPending",
                &series("pending", "encryption_key"),
            ),
            expected(
                "CronosSecretsRotationStatusUnknown",
                &series("status_unknown", "database_password"),
            ),
            expected(
                "CronosSecretsRotationOverdue",
                &series("overdue", "api_key"),
            ),
            expected(
                "CronosSecretsRotationStatusStale",
                "cronos_secrets_rotation_status_timestamp_seconds",
            ),
        ],
    );
}

fn put(test: &str, value: &str) {
    bao().put(
        "secret",
        &format!("metrics/{test}/app"),
        &[("value", value)],
    );
}

/// APP_SECRET from `secret/metrics/<test>/app` on the server at `address`.
fn watched(test: &str, address: &str) -> Launch {
    Launch::new()
        .file(
            "config.yaml",
            "secrets:\n  app_secret:\n    env: APP_SECRET\n    min_length: 16\n",
        )
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        .env("VAULT_ADDR", address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .env(
            "APP_SECRET",
            &format!("vault://secret/metrics/{test}/app#value"),
        )
}

fn metrics_text(file: &Path) -> String {
    std::fs::read_to_string(file).unwrap_or_default()
}

/// The `watch` series of `file`, or 0 before it exists.
fn watch_value(file: &Path, metric: &str) -> f64 {
    value(
        &metrics_text(file),
        &format!("cronos_secrets_watch_{metric}{{"),
    )
    .unwrap_or(0.0)
}

#[test]
fn run_watch_metrics_count_polls_failures_and_restarts_against_a_real_server() {
    // Its own server: this test stops it.
    let server = OpenBao::start(false);
    let test = "run";
    let path = format!("metrics/{test}/app");
    server.put("secret", &path, &[("value", "watched-secret-0001")]);
    let launch = watched(test, &server.address);
    let file: PathBuf = launch.path("textfile/app.prom");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let file_arg = file.display().to_string();
    let launch = launch.args([
        "-v",
        "run",
        "--watch",
        "--interval",
        "300ms",
        "--debounce",
        "100ms",
        "--timeout",
        "1s",
        "--metrics-file",
        &file_arg,
        "--",
    ]);
    let mut running = Running::start(launch, "plain", &[]);
    running.wait_for_starts(1);

    // Polls: the last successful poll's time advances.
    running.wait_for("a successful poll", |_| {
        watch_value(&file, "last_successful_poll_timestamp_seconds") > 0.0
    });
    let first = watch_value(&file, "last_successful_poll_timestamp_seconds");
    running.wait_for("a later successful poll", |_| {
        watch_value(&file, "last_successful_poll_timestamp_seconds") > first
    });
    let text = metrics_text(&file);
    assert_promtool_accepts(&text);
    assert_eq!(mode(&file), 0o644);
    let version = |text: &str, id: &str| {
        let line = format!(
            "cronos_secrets_watch_secret_version_info{{watcher=\"app\",reference=\"vault://secret/metrics/{test}/app#value\",backend=\"vault\",version=\"{id}\"}} 1"
        );
        text.lines().any(|candidate| candidate == line)
    };
    assert!(version(&text, "1"), "{text}");
    assert_eq!(watch_value(&file, "restarts_total"), 0.0);
    assert_eq!(watch_value(&file, "poll_failures_total"), 0.0);
    assert_eq!(watch_value(&file, "poll_interval_seconds"), 0.3);

    // A changed secret: one restart counted, the new version id shown.
    server.put("secret", &path, &[("value", "watched-secret-0002")]);
    running.wait_for_starts(2);
    running.wait_for("the restart counted", |_| {
        watch_value(&file, "restarts_total") == 1.0
    });
    running.wait_for("the new version", |_| version(&metrics_text(&file), "2"));

    // The server stops: failed polls are counted and the last success stays put.
    drop(server);
    running.wait_for("a failed poll counted", |_| {
        watch_value(&file, "poll_failures_total") >= 1.0
    });
    let stuck = watch_value(&file, "last_successful_poll_timestamp_seconds");
    let failures = watch_value(&file, "poll_failures_total");
    running.wait_for("more failed polls", |_| {
        watch_value(&file, "poll_failures_total") > failures
    });
    assert_eq!(
        watch_value(&file, "last_successful_poll_timestamp_seconds"),
        stuck
    );
    assert!(running.is_running());
    let text = metrics_text(&file);
    assert_promtool_accepts(&text);
    for planted in ["watched-secret-0001", "watched-secret-0002", ROOT_TOKEN] {
        assert!(!text.contains(planted), "the metrics hold {planted}");
        assert!(
            !running.stderr().contains(planted),
            "stderr holds {planted}"
        );
    }
    running.signal(Signal::SIGTERM);
    running.wait_exit();

    watch_alerts_fire_on_the_series_of(&text);
}

/// The watcher alerts on the series of a real metrics file (its names and labels): a watcher
/// whose successful polls stopped and that restarts every minute raises both; a copy that
/// polls on time and restarted once raises neither.
fn watch_alerts_fire_on_the_series_of(text: &str) {
    let mut input = Vec::new();
    let mut firing = Vec::new();
    for (series, _) in samples(text) {
        let metric = series.split('{').next().unwrap();
        let healthy = series.replace("watcher=\"app\"", "watcher=\"healthy\"");
        let (stuck_values, healthy_values) = match metric {
            // Seconds since the test's epoch: stuck at 1m, or keeping up with the clock.
            "cronos_secrets_watch_last_successful_poll_timestamp_seconds" => {
                firing.push(expected("CronosSecretsWatcherNotPolling", &series));
                ("60x60", "0+60x60")
            }
            "cronos_secrets_watch_poll_interval_seconds" => ("60x60", "60x60"),
            "cronos_secrets_watch_restarts_total" => {
                firing.push(expected("CronosSecretsWatcherRestartStorm", &series));
                ("0+1x60", "0x30 1x30")
            }
            _ => ("1x60", "1x60"),
        };
        input.push((series.clone(), stuck_values.to_string()));
        input.push((healthy, healthy_values.to_string()));
    }
    assert_eq!(firing.len(), 2, "{text}");
    assert_alerts(&input, "40m", &firing);
}

#[test]
fn render_watch_metrics_replace_a_symlink_and_have_no_restarts() {
    let test = "render";
    put(test, "rendered-secret-0001");
    let launch = watched(test, &bao().address).file("app.tmpl", "secret=${APP_SECRET}\n");
    let output = launch.path("app.conf");
    // The metrics path is a symlink to a file that must not be written through it.
    let target = launch.path("elsewhere.txt");
    std::fs::write(&target, "untouched\n").unwrap();
    let file = launch.path("sidecar.prom");
    std::os::unix::fs::symlink(&target, &file).unwrap();
    let launch = launch.args([
        "render",
        "app.tmpl",
        "-o",
        &output.display().to_string(),
        "--watch",
        "--interval",
        "300ms",
        "--metrics-file",
        &file.display().to_string(),
    ]);
    let mut running = Running::start_plain(launch);
    running.wait_for("two polls", |_| watch_value(&file, "polls_total") >= 2.0);
    assert_eq!(read(&target), "untouched\n");
    assert!(!std::fs::symlink_metadata(&file).unwrap().is_symlink());
    let text = metrics_text(&file);
    assert_promtool_accepts(&text);
    assert!(text.contains("watcher=\"sidecar\""), "{text}");
    assert!(
        !text.contains("restarts_total"),
        "no program, no restarts: {text}"
    );
    assert!(!text.contains("rendered-secret-0001"));
    running.signal(Signal::SIGTERM);
    assert_eq!(running.wait_exit(), 0);
}

#[test]
fn a_metrics_file_that_cannot_be_written_stops_the_watch_before_it_starts() {
    let launch = watched("unwritable", "http://127.0.0.1:9").args([
        "run",
        "--watch",
        "--metrics-file",
        "no-such-dir/app.prom",
        "--",
        "true",
    ]);
    let outcome = launch.run();
    assert_ne!(outcome.code(), 0);
    outcome
        .assert_stderr_contains("--metrics-file")
        .assert_stderr_contains("hint:");
}
