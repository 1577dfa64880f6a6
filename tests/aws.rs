//! The AWS Secrets Manager backend against moto's real server: references, JSON keys, version
//! pins, binary secrets, batching (counted by the server), failures, get/set and check.

#![cfg(feature = "aws")] // `--no-default-features` builds have no AWS backend to test

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::moto::{REGION, moto};
use common::*;

/// One test's corner of the shared server: its own access key id (so the server counts its
/// calls apart, and words in it choose injected failures) and its own name prefix.
struct AwsTest {
    prefix: String,
    access_key: String,
}

impl AwsTest {
    fn new(name: &str) -> AwsTest {
        AwsTest::with_failures(name, "")
    }

    /// `failures`: words of tests/common/moto_counting.py (DENYBATCH, FLAKY, …).
    fn with_failures(name: &str, failures: &str) -> AwsTest {
        AwsTest {
            prefix: format!("test-{name}"),
            access_key: format!(
                "AKID{failures}{}",
                name.to_ascii_uppercase().replace('_', "")
            ),
        }
    }

    fn id(&self, name: &str) -> String {
        format!("{}/{name}", self.prefix)
    }

    /// Creates `<prefix>/name`; returns its ARN.
    fn secret(&self, name: &str, value: &str) -> String {
        moto().create(&self.id(name), value)
    }

    /// The backend selected by the config file, no built-in required secrets, moto's endpoint
    /// and region from the standard variables, fake keys, no instance metadata.
    fn launch(&self) -> Launch {
        Launch::new()
            .file(
                "config/cronos_ai.production.yaml",
                &format!(
                    "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\n  aws_prefix: {}\nsecrets: {{}}\n",
                    self.prefix
                ),
            )
            .env("AWS_ACCESS_KEY_ID", &self.access_key)
            .env("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", &moto().endpoint)
    }

    /// Runs `env -0` with `env_file` as `.env.production`.
    fn run_env(&self, env_file: &str) -> Outcome {
        self.launch()
            .file(".env.production", env_file)
            .args(["run", "--", "env", "-0"])
            .run()
    }

    fn calls(&self) -> BTreeMap<String, u64> {
        moto().counts(&self.access_key)
    }
}

/// stdout carries the program's environment in run tests; stderr must never carry a value.
fn assert_stderr_clean(outcome: &Outcome, values: &[&str]) {
    for value in values {
        assert!(
            !outcome.stderr().contains(value),
            "stderr leaks {value:?}:\n{}",
            outcome.stderr()
        );
    }
}

fn calls(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
    entries
        .iter()
        .map(|(action, count)| (action.to_string(), *count))
        .collect()
}

#[test]
fn the_guides_required_secrets_come_from_aws_in_one_batch_call() {
    let test = AwsTest::new("guide");
    let names = [
        ("database_password", DB_PASSWORD),
        ("redis_password", REDIS_PASSWORD),
        ("jwt_secret", JWT_SECRET),
        ("encryption_key", ENCRYPTION_KEY),
        ("api_key", API_KEY),
    ];
    for (name, value) in names {
        test.secret(name, value);
    }
    // The built-in table: each required secret falls back to secret://NAME.
    let outcome = test
        .launch()
        .file(
            "config/cronos_ai.production.yaml",
            &format!(
                "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\n  aws_prefix: {}\n",
                test.prefix
            ),
        )
        .env("RUST_LOG", "trace")
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    for (variable, value) in REQUIRED {
        assert_eq!(env[variable], value, "{variable}");
    }
    assert_stderr_clean(&outcome, &REQUIRED.map(|(_, value)| value));
    outcome.assert_stderr_contains(&format!("location=aws-sm {}/jwt_secret", test.prefix));
    assert_eq!(test.calls(), calls(&[("BatchGetSecretValue", 1)]));
}

#[test]
fn json_keys_select_fields_and_the_secret_is_read_once() {
    let test = AwsTest::new("json");
    test.secret(
        "db",
        r#"{"username":"cronos","password":"planted-json-pw-8Hq2","port":5432,"tls":true}"#,
    );
    let outcome = test.run_env(&format!(
        "DB_USER=secret://db#username\nDB_PASSWORD=aws-sm://{}/db#password\nDB_PORT=secret://db#port\nDB_TLS=secret://db#tls\nDB_URL=\"postgresql://${{secret://db#username}}:${{secret://db#password}}@db:${{secret://db#port}}/app\"\nWHOLE=secret://db\n",
        test.prefix
    ));
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["DB_USER"], "cronos");
    assert_eq!(env["DB_PASSWORD"], "planted-json-pw-8Hq2");
    assert_eq!(env["DB_PORT"], "5432", "numbers as their JSON text");
    assert_eq!(env["DB_TLS"], "true");
    assert_eq!(
        env["DB_URL"],
        "postgresql://cronos:planted-json-pw-8Hq2@db:5432/app"
    );
    assert!(
        env["WHOLE"].starts_with('{'),
        "without #KEY, the whole string"
    );
    // Five references, two reference forms, one secret: one call.
    assert_eq!(test.calls(), calls(&[("GetSecretValue", 1)]));
}

#[test]
fn a_missing_key_names_the_keys_but_no_values_and_starts_nothing() {
    let test = AwsTest::new("missing_key");
    test.secret(
        "db",
        r#"{"username":"planted-user-x1","password":"planted-json-pw-3Kd9"}"#,
    );
    let outcome = test
        .launch()
        .env("RUST_LOG", "trace")
        .file(".env.production", "DB_PASSWORD=secret://db#pasword\n")
        .args(["run", "--", "sh", "-c", "echo started"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains(&format!(
            "aws-sm {}/db#pasword: no key \"pasword\" in the JSON secret (its keys: password, username)",
            test.prefix
        ))
        .assert_stderr_contains("hint:")
        .assert_no_leak(&["planted-user-x1", "planted-json-pw-3Kd9", "started"]);
}

#[test]
fn version_stages_and_ids_pin_versions_with_get_secret_value() {
    let test = AwsTest::new("versions");
    test.secret("rotating", "planted-first-version-11");
    let first = moto().current_version(&test.id("rotating"));
    moto().put(&test.id("rotating"), "planted-second-version-22");
    test.secret("other", "planted-other-33");
    let outcome = test.run_env(&format!(
        "CURRENT=secret://rotating\nSTAGED=secret://rotating?version_stage=AWSPREVIOUS\nBY_ID=aws-sm://{}/rotating?version_id={first}\nOTHER=secret://other\n",
        test.prefix
    ));
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["CURRENT"], "planted-second-version-22");
    assert_eq!(env["STAGED"], "planted-first-version-11");
    assert_eq!(env["BY_ID"], "planted-first-version-11");
    assert_eq!(env["OTHER"], "planted-other-33");
    // The two current versions share a batch; each pin is its own GetSecretValue.
    assert_eq!(
        test.calls(),
        calls(&[("BatchGetSecretValue", 1), ("GetSecretValue", 2)])
    );

    let unknown = test.run_env("OLD=secret://rotating?version_id=no-such-version\n");
    unknown
        .assert_code(125)
        .assert_stderr_contains("no version no-such-version of secret")
        .assert_stderr_contains("list-secret-version-ids");
}

#[test]
fn arns_work_as_bare_values_and_in_aws_sm_references() {
    let test = AwsTest::new("arns");
    let arn = test.secret("by_arn", "planted-arn-value-44");
    let json_arn = test.secret("json_by_arn", r#"{"token":"planted-arn-token-55"}"#);
    let outcome = test.run_env(&format!(
        "BARE={arn}\nSCHEME=aws-sm://{arn}\nKEYED=aws-sm://{json_arn}#token\nBY_NAME=secret://by_arn\n"
    ));
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["BARE"], "planted-arn-value-44");
    assert_eq!(env["SCHEME"], "planted-arn-value-44");
    assert_eq!(env["KEYED"], "planted-arn-token-55");
    assert_eq!(env["BY_NAME"], "planted-arn-value-44");
    assert_eq!(test.calls(), calls(&[("BatchGetSecretValue", 1)]));

    // In the launcher's own environment, as ECS task definitions and secrets-init users set it.
    let from_process = test
        .launch()
        .env("API_KEY", &arn)
        .args(["run", "--", "env", "-0"])
        .run();
    from_process.assert_code(0);
    assert_eq!(from_process.child_env()["API_KEY"], "planted-arn-value-44");
}

#[test]
fn binary_secrets_need_base64_encoding() {
    let test = AwsTest::new("binary");
    moto().create_binary(&test.id("keyfile"), "AJ+SlnBsYW50ZWQ=");
    test.secret("text", "hi");
    let outcome =
        test.run_env("KEY=secret://keyfile?encoding=base64\nTEXT=secret://text?encoding=base64\n");
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["KEY"], "AJ+SlnBsYW50ZWQ=");
    assert_eq!(
        outcome.child_env()["TEXT"],
        "aGk=",
        "base64 of a text secret too"
    );

    test.run_env("KEY=secret://keyfile\n")
        .assert_code(125)
        .assert_stderr_contains("holds binary data (SecretBinary)")
        .assert_stderr_contains("add ?encoding=base64");
}

#[test]
fn a_missing_secret_names_the_id_region_and_fix_and_starts_nothing() {
    let test = AwsTest::new("not_found");
    test.secret("present", "planted-present-66");
    let outcome = test
        .launch()
        .file(".env.production", "A=secret://present\nB=secret://absent\n")
        .args(["run", "--", "sh", "-c", "echo started"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains(&format!(
            "B: aws-sm {0}/absent: secret {0}/absent not found in us-east-1 (ResourceNotFoundException",
            test.prefix
        ))
        .assert_stderr_contains(&format!("cronos-secrets set --create aws-sm://{}/absent", test.prefix))
        .assert_no_leak(&["planted-present-66", "started"]);
}

#[test]
fn forty_five_secrets_take_three_batch_calls_and_no_single_reads() {
    let test = AwsTest::new("batch45");
    let mut env_file = String::new();
    for index in 0..45 {
        test.secret(
            &format!("s{index}"),
            &format!("planted-batch-value-{index:02}"),
        );
        env_file.push_str(&format!("SECRET_{index}=secret://s{index}\n"));
    }
    let outcome = test.run_env(&env_file);
    outcome.assert_code(0);
    let env = outcome.child_env();
    for index in 0..45 {
        assert_eq!(
            env[&format!("SECRET_{index}")],
            format!("planted-batch-value-{index:02}")
        );
    }
    // ceil(45 / 20) = 3 calls; the server rejects any call with more than 20 ids.
    assert_eq!(test.calls(), calls(&[("BatchGetSecretValue", 3)]));
}

#[test]
fn a_batch_refused_for_one_bad_id_is_asked_per_secret_so_the_error_names_that_one() {
    let test = AwsTest::new("bad_id");
    test.secret("good", "planted-good-value");
    test.secret("also_good", "planted-also-good");
    let outcome =
        test.run_env("GOOD=secret://good\nALSO=secret://also_good\nBAD=aws-sm://bad name\n");
    outcome
        .assert_code(125)
        .assert_stderr_contains("BAD: aws-sm bad name: secret bad name not found");
    assert!(!outcome.stderr().contains("GOOD:"), "{}", outcome.stderr());
    assert_eq!(
        test.calls(),
        calls(&[("BatchGetSecretValue", 1), ("GetSecretValue", 3)])
    );
}

#[test]
fn a_secret_deleted_between_launches_fails_the_next_launch_clearly() {
    let test = AwsTest::new("deleted");
    test.secret("gone", "planted-gone-77");
    test.secret("scheduled", "planted-scheduled-88");
    let env_file = "GONE=secret://gone\nSCHEDULED=secret://scheduled\n";
    test.run_env(env_file).assert_code(0);

    moto().delete(&test.id("gone"), true);
    moto().delete(&test.id("scheduled"), false);
    let outcome = test.run_env(env_file);
    outcome
        .assert_code(125)
        .assert_stderr_contains(&format!("secret {}/gone not found", test.prefix))
        .assert_stderr_contains(&format!(
            "secret {}/scheduled is scheduled for deletion",
            test.prefix
        ))
        .assert_stderr_contains("restore-secret")
        .assert_no_leak(&["planted-gone-77", "planted-scheduled-88"]);
}

#[test]
fn a_role_that_may_not_batch_reads_secret_by_secret_and_says_so_once() {
    let test = AwsTest::with_failures("no_batch", "DENYBATCH");
    let mut env_file = String::new();
    for index in 0..25 {
        test.secret(&format!("s{index}"), &format!("planted-nobatch-{index:02}"));
        env_file.push_str(&format!("SECRET_{index}=secret://s{index}\n"));
    }
    let outcome = test.run_env(&env_file);
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["SECRET_24"], "planted-nobatch-24");
    let warnings = outcome
        .stderr()
        .matches("secretsmanager:BatchGetSecretValue")
        .count();
    assert_eq!(warnings, 1, "{}", outcome.stderr());
    // Two batch calls were refused (they run at once), then one read per secret.
    assert_eq!(
        test.calls(),
        calls(&[("BatchGetSecretValue", 2), ("GetSecretValue", 25)])
    );
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let test = AwsTest::with_failures("flaky", "FLAKY");
    test.secret("a", "planted-flaky-a");
    test.secret("b", "planted-flaky-b");
    let outcome = test.run_env("A=secret://a\nB=secret://b\n");
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["B"], "planted-flaky-b");
    // Throttled, then a 500, then answered.
    assert_eq!(test.calls(), calls(&[("BatchGetSecretValue", 3)]));
}

#[test]
fn throttling_that_never_ends_fails_within_the_deadline() {
    let test = AwsTest::with_failures("throttled", "THROTTLED");
    test.secret("a", "planted-throttled-a");
    let started = Instant::now();
    let outcome = test
        .launch()
        .file(".env.production", "A=secret://a\n")
        .args(["--timeout", "3s", "run", "--", "true"])
        .run();
    let elapsed = started.elapsed();
    outcome
        .assert_code(125)
        .assert_stderr_contains(&format!("{}/a", test.prefix));
    assert!(
        outcome.stderr().contains("throttled") || outcome.stderr().contains("timed out"),
        "{}",
        outcome.stderr()
    );
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    assert!(test.calls()["GetSecretValue"] > 1, "retried");
}

#[test]
fn access_denied_names_the_iam_action_and_resource() {
    let test = AwsTest::with_failures("denied", "DENYGET");
    test.secret("db", "planted-denied-99");
    test.run_env("DB=secret://db\n")
        .assert_code(125)
        .assert_stderr_contains(&format!("access denied to secret {}/db for GetSecretValue", test.prefix))
        .assert_stderr_contains(&format!(
            "grant secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:*:secret:{}/db-*",
            test.prefix
        ))
        .assert_no_leak(&["planted-denied-99"]);
}

#[test]
fn decryption_failures_in_a_batch_say_to_grant_kms_decrypt() {
    let test = AwsTest::with_failures("kms", "KMSFAIL");
    test.secret("a", "planted-kms-a");
    test.secret("b", "planted-kms-b");
    let outcome = test.run_env("A=secret://a\nB=secret://b\n");
    outcome
        .assert_code(125)
        .assert_stderr_contains(&format!(
            "AWS cannot decrypt secret {}/a with its KMS key",
            test.prefix
        ))
        .assert_stderr_contains(&format!(
            "AWS cannot decrypt secret {}/b with its KMS key",
            test.prefix
        ))
        .assert_stderr_contains("kms:Decrypt")
        .assert_no_leak(&["planted-kms-a", "planted-kms-b"]);
}

#[test]
fn a_vault_version_on_a_named_secret_is_rejected_for_aws() {
    let test = AwsTest::new("vault_param");
    test.secret("db", "planted-vault-param");
    test.run_env("DB=secret://db?version=2\n")
        .assert_code(125)
        .assert_stderr_contains("?version= is Vault's and Azure's version parameter")
        .assert_stderr_contains("?version_id=");
}

#[test]
fn the_config_endpoint_url_and_region_are_used() {
    let test = AwsTest::new("config_endpoint");
    test.secret("db", "planted-config-endpoint");
    let outcome = test
        .launch()
        .remove_env("AWS_ENDPOINT_URL")
        .remove_env("AWS_REGION")
        .file(
            "config/cronos_ai.production.yaml",
            &format!(
                "secrets_manager:\n  enabled: true\n  backend: aws_secrets_manager\n  aws_prefix: {}\n  aws_region: {REGION}\n  aws_endpoint_url: {}\nsecrets: {{}}\n",
                test.prefix,
                moto().endpoint
            ),
        )
        .file(".env.production", "DB=secret://db\n")
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["DB"], "planted-config-endpoint");
}

#[test]
fn no_credentials_anywhere_fail_fast_and_say_where_they_were_looked_for() {
    let test = AwsTest::new("no_credentials");
    let started = Instant::now();
    let outcome = test
        .launch()
        .remove_env("AWS_ACCESS_KEY_ID")
        .remove_env("AWS_SECRET_ACCESS_KEY")
        .file(".env.production", "DB=secret://db\n")
        .args(["run", "--", "true"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("backend aws_secrets_manager: no AWS credentials found")
        .assert_stderr_contains("AWS_PROFILE")
        .assert_stderr_contains("hint: export AWS_ACCESS_KEY_ID");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(test.calls().is_empty());
}

#[test]
fn an_unanswering_metadata_service_is_given_up_on_within_seconds() {
    // A local stand-in for EC2 instance metadata that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let test = AwsTest::new("silent_imds");
    let started = Instant::now();
    let outcome = test
        .launch()
        .remove_env("AWS_ACCESS_KEY_ID")
        .remove_env("AWS_SECRET_ACCESS_KEY")
        .remove_env("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)
        .file(".env.production", "DB=secret://db\n")
        .args(["run", "--", "true"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("no AWS credentials found");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_unreachable_endpoint_is_named_in_the_error() {
    let test = AwsTest::new("unreachable");
    let endpoint = format!("http://127.0.0.1:{}", server::free_port());
    test.launch()
        .env("AWS_ENDPOINT_URL", &endpoint)
        .file(".env.production", "DB=secret://db\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains(&format!(
            "aws-sm {}/db: cannot reach AWS Secrets Manager at {endpoint}",
            test.prefix
        ))
        .assert_stderr_contains("Connection refused");
}

#[test]
fn no_region_is_a_clear_error() {
    let test = AwsTest::new("no_region");
    test.launch()
        .remove_env("AWS_REGION")
        .file(".env.production", "DB=secret://db\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("no AWS region is configured")
        .assert_stderr_contains("aws_region");
}

fn set(test: &AwsTest, args: &[&str], value: &str) -> Outcome {
    test.launch()
        .args(["set"])
        .args(args)
        .run_with_stdin(value.as_bytes())
}

#[test]
fn set_creates_only_with_create_then_writes_new_versions_that_get_reads() {
    let test = AwsTest::new("get_set");
    set(
        &test,
        &["api_key"],
        "planted-set-first-value-0123456789abcdef\n",
    )
    .assert_code(125)
    .assert_stderr_contains(&format!("secret {}/api_key does not exist", test.prefix))
    .assert_stderr_contains("pass --create")
    .assert_no_leak(&["planted-set-first-value-0123456789abcdef"]);

    let created = set(
        &test,
        &["--create", "api_key"],
        "planted-set-first-value-0123456789abcdef\n",
    );
    created
        .assert_code(0)
        .assert_stderr_contains("stored secret://api_key (version ")
        .assert_no_leak(&["planted-set-first-value-0123456789abcdef"]);
    let get = test.launch().args(["get", "api_key"]).run();
    assert_eq!(
        get.assert_code(0).stdout(),
        "planted-set-first-value-0123456789abcdef"
    );

    set(
        &test,
        &["api_key"],
        "planted-set-second-value-0123456789abcdef\n",
    )
    .assert_code(0);
    let current = test.launch().args(["get", "api_key"]).run();
    assert_eq!(
        current.assert_code(0).stdout(),
        "planted-set-second-value-0123456789abcdef"
    );
    let previous = test
        .launch()
        .args(["get", "secret://api_key?version_stage=AWSPREVIOUS"])
        .run();
    assert_eq!(
        previous.assert_code(0).stdout(),
        "planted-set-first-value-0123456789abcdef"
    );

    set(&test, &["secret://api_key#field"], "x\n")
        .assert_code(125)
        .assert_stderr_contains("set writes a whole secret, not one #KEY of it");
    let calls = test.calls();
    assert_eq!(calls["CreateSecret"], 1);
    // Refused without --create, tried before creating, then the second value.
    assert_eq!(calls["PutSecretValue"], 3);
}

#[test]
fn check_shows_each_secrets_version_and_age_and_plan_calls_nothing() {
    let test = AwsTest::new("check");
    test.secret("db", r#"{"password":"planted-check-pw-0000"}"#);
    let version = moto().put(&test.id("db"), r#"{"password":"planted-check-pw-1111"}"#);
    let launch = test
        .launch()
        .file(".env.production", "DB_PASSWORD=secret://db#password\n");

    let plan = launch.command().args(["check", "--plan"]).output().unwrap();
    let plan = Outcome { output: plan };
    plan.assert_code(0).assert_stdout_contains(&format!(
        "-> aws_secrets_manager aws-sm {}/db#password",
        test.prefix
    ));
    assert!(test.calls().is_empty(), "--plan fetches nothing");

    let checked = launch
        .command()
        .args(["-vvv", "check", "--format", "json"])
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let checked = Outcome { output: checked };
    checked
        .assert_code(0)
        .assert_no_leak(&["planted-check-pw-0000", "planted-check-pw-1111"]);
    let rows: serde_json::Value = serde_json::from_str(&checked.stdout()).unwrap();
    let row = &rows[0];
    assert_eq!(row["variable"], "DB_PASSWORD");
    assert_eq!(row["version"], version.as_str());
    assert_eq!(row["age"], "0m");
    assert_eq!(row["length"], "planted-check-pw-1111".len());
}

#[test]
fn values_never_reach_stderr_at_trace_level_in_success_or_failure() {
    let test = AwsTest::new("hygiene");
    test.secret("a", "planted-hygiene-aaaa");
    test.secret(
        "json",
        r#"{"k":"planted-hygiene-kkkk","other":"planted-hygiene-oooo"}"#,
    );
    let planted = [
        "planted-hygiene-aaaa",
        "planted-hygiene-kkkk",
        "planted-hygiene-oooo",
    ];
    let ok = test
        .launch()
        .env("RUST_LOG", "trace")
        .file(".env.production", "A=secret://a\nK=secret://json#k\n")
        .args(["-vvv", "run", "--", "true"])
        .run();
    ok.assert_code(0).assert_no_leak(&planted);
    let failed = test
        .launch()
        .env("RUST_LOG", "trace")
        .file(
            ".env.production",
            "A=secret://a\nK=secret://json#missing\nN=secret://nope\n",
        )
        .args(["-vvv", "--log-format", "json", "run", "--", "true"])
        .run();
    failed.assert_code(125).assert_no_leak(&planted);
    let table = test
        .launch()
        .file(".env.production", "A=secret://a\nK=secret://json#k\n")
        .args(["check"])
        .run();
    table.assert_code(0).assert_no_leak(&planted);
}
