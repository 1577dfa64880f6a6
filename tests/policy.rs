//! `policy`: the least-privilege policy of a deployment, applied for real where a server can
//! enforce it. The Vault policy is written to a real OpenBao and given to a token created
//! without the default policy: `run`, one `watch` poll and `rotate` work with it, and a path
//! outside it is denied. The AWS document is checked against the ARNs moto really gives and
//! the calls a real run, watcher and rotation make there (moto 5 cannot enforce it: its IAM
//! check authorizes Secrets Manager calls against resource `*`, so exact ARNs are never
//! matched there). The `az` lines run against a recording `az`, and every request a real run
//! and rotation make to the Key Vault fake has its role.

mod common;
mod watch_support;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::sync::OnceLock;

use common::moto::{REGION, moto};
use common::openbao::OpenBao;
use common::*;
use serde_json::Value;
use watch_support::Running;

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

/// The deployment each Vault test writes a policy for, under `secret/policy/<test>/`: three
/// table secrets (the database password cannot be rotated: no `rotation:` section), an extra
/// variable of the env file, and a template placeholder.
fn vault_deployment(test: &str) -> Launch {
    let config = format!(
        "secrets_manager:
  backend: vault
  vault_path: policy/{test}/app
secrets:
  jwt_secret: {{env: CRONOS_AI_JWT_SECRET, min_length: 32, rotate_every: 180d}}
  api_key: {{env: CRONOS_AI_API_KEY, min_length: 32}}
  database_password: {{env: CRONOS_AI_DB_PASSWORD, min_length: 16}}
"
    );
    for (name, value) in [
        ("jwt_secret", JWT_SECRET),
        ("api_key", API_KEY),
        ("database_password", DB_PASSWORD),
    ] {
        bao().put(
            "secret",
            &format!("policy/{test}/app/{name}"),
            &[("value", value)],
        );
    }
    bao().put(
        "secret",
        &format!("policy/{test}/shared/extra"),
        &[("token", "extra-token-value-1")],
    );
    bao().put(
        "secret",
        &format!("policy/{test}/shared/tmpl"),
        &[("value", "template-value-0001")],
    );
    bao().put(
        "secret",
        &format!("policy/{test}/outside"),
        &[("value", "outside-value-0001")],
    );
    Launch::new()
        .env("VAULT_ADDR", &bao().address)
        .file("config.yaml", &config)
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        .file(
            ".env.production",
            &format!("EXTRA_TOKEN=vault://secret/policy/{test}/shared/extra#token\n"),
        )
        .file(
            "app.tmpl",
            &format!("jwt=${{CRONOS_AI_JWT_SECRET}}\nextra=${{vault://secret/policy/{test}/shared/tmpl}}\n"),
        )
}

/// `policy ARGS` for the deployment; panics unless it succeeds; the policy text.
fn policy(launch: &Launch, args: &[&str]) -> String {
    let mut command = launch.command();
    command.arg("policy").args(args);
    let output = command.output().expect("run cronos-secrets policy");
    assert!(
        output.status.success(),
        "policy {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 policy")
}

fn token_with(name: &str, hcl: &str) -> String {
    bao().token_with_policy(name, hcl)
}

fn with_stdin(command: &mut std::process::Command, input: &[u8]) -> common::Outcome {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cronos-secrets");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    common::Outcome {
        output: child.wait_with_output().expect("wait"),
    }
}

fn field(path: &str, name: &str) -> String {
    bao().run(&[
        "kv",
        "get",
        "-mount=secret",
        &format!("-field={name}"),
        path,
    ])
}

/// The `path "…"` blocks of an HCL policy, with their capabilities.
fn hcl_paths(hcl: &str) -> BTreeMap<String, Vec<String>> {
    let mut paths = BTreeMap::new();
    let mut current = None;
    for line in hcl.lines() {
        if let Some(rest) = line.strip_prefix("path \"") {
            current = rest.split('"').next().map(str::to_string);
        } else if let (Some(path), Some(list)) =
            (&current, line.trim().strip_prefix("capabilities = ["))
        {
            let capabilities = list
                .trim_end_matches(']')
                .split(", ")
                .map(|capability| capability.trim_matches('"').to_string())
                .collect();
            paths.insert(path.clone(), capabilities);
        }
    }
    paths
}

#[test]
fn the_run_policy_reads_exactly_the_deployment_and_nothing_else() {
    let launch = vault_deployment("run");
    let hcl = policy(&launch, &["--for", "run", "--template", "app.tmpl"]);
    let read_only = || vec!["read".to_string()];
    let expected: BTreeMap<String, Vec<String>> = [
        "secret/data/policy/run/app/api_key",
        "secret/data/policy/run/app/database_password",
        "secret/data/policy/run/app/jwt_secret",
        "secret/data/policy/run/shared/extra",
        "secret/data/policy/run/shared/tmpl",
    ]
    .into_iter()
    .map(|path| (path.to_string(), read_only()))
    .collect();
    assert_eq!(hcl_paths(&hcl), expected, "{hcl}");
    // Vault's JSON policy syntax says the same, and Vault takes it.
    let json = policy(
        &launch,
        &["--for", "run", "--template", "app.tmpl", "--format", "json"],
    );
    let parsed: Value = serde_json::from_str(&json).expect("JSON policy");
    let from_json: BTreeMap<String, Vec<String>> = parsed["path"]
        .as_object()
        .expect("a path map")
        .iter()
        .map(|(path, rules)| {
            let capabilities = rules["capabilities"].as_array().unwrap();
            let capabilities = capabilities.iter().map(|c| c.as_str().unwrap().to_string());
            (path.clone(), capabilities.collect())
        })
        .collect();
    assert_eq!(from_json, expected);
    token_with("cronos-run-json", &json);
    let token = token_with("cronos-run", &hcl);
    let launch = launch.env("VAULT_TOKEN", &token);

    let ran = launch
        .command()
        .args(["run", "--render", "app.tmpl:app.conf", "--", "env", "-0"])
        .output()
        .expect("run");
    let ran = common::Outcome { output: ran };
    ran.assert_code(0);
    let env = ran.child_env();
    assert_eq!(env["CRONOS_AI_JWT_SECRET"], JWT_SECRET);
    assert_eq!(env["CRONOS_AI_DB_PASSWORD"], DB_PASSWORD);
    assert_eq!(env["EXTRA_TOKEN"], "extra-token-value-1");
    assert_eq!(
        read(&launch.path("app.conf")),
        format!("jwt={JWT_SECRET}\nextra=template-value-0001\n")
    );

    // One path beside the granted ones, and a write of a granted one: both refused.
    let mut outside = launch.command();
    outside.args(["get", "--force", "vault://secret/policy/run/outside"]);
    let outside = common::Outcome {
        output: outside.output().expect("get"),
    };
    outside
        .assert_code(125)
        .assert_stderr_contains("permission denied reading secret/data/policy/run/outside")
        .assert_no_leak(&["outside-value-0001"]);
    let set = with_stdin(
        launch.command().args(["set", "jwt_secret"]),
        b"a-new-jwt-secret-value-that-is-long-enough-1234",
    );
    set.assert_code(125)
        .assert_stderr_contains("permission denied");
    assert_eq!(field("policy/run/app/jwt_secret", "value"), JWT_SECRET);
}

#[test]
fn the_watch_policy_polls_metadata_and_keeps_its_token_alive() {
    let launch = vault_deployment("watch");
    let hcl = policy(&launch, &["--for", "watch", "--template", "app.tmpl"]);
    let paths = hcl_paths(&hcl);
    assert_eq!(
        paths["secret/metadata/policy/watch/shared/tmpl"],
        ["read"],
        "{hcl}"
    );
    assert_eq!(paths["auth/token/renew-self"], ["update"]);
    assert_eq!(paths["auth/token/lookup-self"], ["read"]);
    let token = token_with("cronos-watch", &hcl);
    let output = launch.path("shared/app.conf");
    let ready = launch.path("shared/ready");
    std::fs::create_dir_all(output.parent().unwrap()).unwrap();
    let launch = launch.env("VAULT_TOKEN", &token).args([
        "-v",
        "render",
        "app.tmpl",
        "-o",
        &output.display().to_string(),
        "--watch",
        "--interval",
        "300ms",
        "--debounce",
        "200ms",
        "--ready-file",
        &ready.display().to_string(),
    ]);
    let mut running = Running::start_plain(launch);
    running.wait_for("the ready file", |_| ready.exists());
    bao().put(
        "secret",
        "policy/watch/shared/tmpl",
        &[("value", "template-value-0002")],
    );
    running.wait_for("the poll that sees the change", |_| {
        std::fs::read_to_string(&output).unwrap_or_default()
            == format!("jwt={JWT_SECRET}\nextra=template-value-0002\n")
    });
    running.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(running.wait_exit(), 0);
    let stderr = running.stderr();
    // A metadata or token grant missing shows as a warning, the poll going on without it.
    for symptom in [
        "cannot read the KV metadata",
        "permission denied",
        "cannot renew",
    ] {
        assert!(!stderr.contains(symptom), "{symptom}:\n{stderr}");
    }
}

#[test]
fn the_rotate_policy_rotates_and_the_run_policy_cannot() {
    let launch = vault_deployment("rotate");
    let run_token = token_with("cronos-rotate-run", &policy(&launch, &["--for", "run"]));
    let refused = launch
        .command()
        .env("VAULT_TOKEN", &run_token)
        .args(["rotate", "--jwt", "--yes"])
        .output()
        .expect("rotate");
    assert_ne!(refused.status.code(), Some(0));
    assert_eq!(field("policy/rotate/app/jwt_secret", "value"), JWT_SECRET);

    let hcl = policy(&launch, &["--for", "rotate"]);
    let paths = hcl_paths(&hcl);
    let app = "secret/data/policy/rotate/app";
    assert_eq!(paths[&format!("{app}/jwt_secret")], ["read", "update"]);
    assert_eq!(
        paths[&format!("{app}/jwt_secret.pending")],
        ["create", "read"]
    );
    assert_eq!(
        paths["secret/metadata/policy/rotate/app/jwt_secret.pending"],
        ["delete"]
    );
    // Not rotatable here: its status is read, nothing is written.
    assert_eq!(paths[&format!("{app}/database_password.pending")], ["read"]);
    assert!(
        !paths.contains_key(&format!("{app}/database_password")),
        "{hcl}"
    );
    assert!(!paths.keys().any(|path| path.contains("shared")), "{hcl}");

    let launch = launch.env("VAULT_TOKEN", &token_with("cronos-rotate", &hcl));
    let rotated = common::Outcome {
        output: launch
            .command()
            .args(["rotate", "--jwt", "--api-key", "--yes"])
            .output()
            .expect("rotate"),
    };
    rotated
        .assert_code(0)
        .assert_no_leak(&[JWT_SECRET, API_KEY]);
    assert_ne!(field("policy/rotate/app/jwt_secret", "value"), JWT_SECRET);
    assert_eq!(
        field("policy/rotate/app/jwt_secret", "previous"),
        JWT_SECRET
    );
    let status = common::Outcome {
        output: launch
            .command()
            .args(["rotate", "--status", "--format", "json"])
            .output()
            .expect("rotate --status"),
    };
    status.assert_code(0);
    let rows: Value = serde_json::from_str(&status.stdout()).expect("status JSON");
    assert_eq!(rows.as_array().map(Vec::len), Some(3), "{rows}");
    assert!(!status.stdout().contains("denied"), "{}", status.stdout());
}

#[test]
fn an_unknown_purpose_gets_did_you_mean() {
    let outcome = Launch::new().args(["policy", "--for", "rotat"]).run();
    outcome
        .assert_code(2)
        .assert_stderr_contains("did you mean \"rotate\"?");
}

#[test]
fn the_env_backend_and_a_foreign_format_are_refused_with_a_hint() {
    Launch::new()
        .args(["policy"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("backend env: has no access policy")
        .assert_stderr_contains("hint: pass --backend vault");
    Launch::new()
        .args([
            "policy",
            "--backend",
            "aws_secrets_manager",
            "--format",
            "hcl",
        ])
        .run()
        .assert_code(125)
        .assert_stderr_contains("--format hcl: is not a policy format of aws_secrets_manager")
        .assert_stderr_contains("hint: aws_secrets_manager takes --format json");
}

/// IAM's resource matching: `*` any run of characters, `?` exactly one.
fn iam_matches(pattern: &str, arn: &str) -> bool {
    let (pattern, arn): (Vec<char>, Vec<char>) = (pattern.chars().collect(), arn.chars().collect());
    fn at(pattern: &[char], arn: &[char]) -> bool {
        match pattern.split_first() {
            None => arn.is_empty(),
            Some(('*', rest)) => (0..=arn.len()).any(|skip| at(rest, &arn[skip..])),
            Some(('?', rest)) => !arn.is_empty() && at(rest, &arn[1..]),
            Some((c, rest)) => arn.first() == Some(c) && at(rest, &arn[1..]),
        }
    }
    at(&pattern, &arn)
}

/// Action → the resources a statement grants it on.
fn grants_of(document: &Value) -> BTreeMap<String, BTreeSet<String>> {
    assert_eq!(document["Version"], "2012-10-17");
    let mut grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for statement in document["Statement"].as_array().expect("statements") {
        assert_eq!(statement["Effect"], "Allow");
        let list = |value: &Value| -> Vec<String> {
            match value {
                Value::String(one) => vec![one.clone()],
                Value::Array(many) => many
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect(),
                other => panic!("not a string or list: {other}"),
            }
        };
        for action in list(&statement["Action"]) {
            grants
                .entry(action)
                .or_default()
                .extend(list(&statement["Resource"]));
        }
    }
    grants
}

#[test]
fn the_aws_document_names_the_real_arns_and_the_actions_of_each_purpose() {
    let prefix = "policy-doc";
    let arns: BTreeMap<&str, String> = [
        ("jwt_secret", JWT_SECRET),
        ("api_key", API_KEY),
        ("database_password", DB_PASSWORD),
    ]
    .into_iter()
    .map(|(name, value)| (name, moto().create(&format!("{prefix}/{name}"), value)))
    .collect();
    let extra = moto().create("policy-shared/extra", "extra-token-value-1");
    // Shares a granted name as its prefix: the `-??????` suffix keeps it out.
    let decoy = moto().create(&format!("{prefix}/jwt_secret-decoy"), "decoy-value-00001");
    let launch = Launch::new()
        .file(
            "config.yaml",
            &format!(
                "secrets_manager:
  backend: aws_secrets_manager
  aws_region: {REGION}
  aws_prefix: {prefix}
secrets:
  jwt_secret: {{env: CRONOS_AI_JWT_SECRET, min_length: 32, rotate_every: 180d}}
  api_key: {{env: CRONOS_AI_API_KEY, min_length: 32}}
  database_password: {{env: CRONOS_AI_DB_PASSWORD, min_length: 16}}
"
            ),
        )
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        .file(
            ".env.production",
            "EXTRA_TOKEN=aws-sm://policy-shared/extra\n",
        );
    let account = arns["jwt_secret"].split(':').nth(4).unwrap().to_string();
    let document = |purpose: &str, more: &[&str]| -> BTreeMap<String, BTreeSet<String>> {
        let mut args = vec!["--for", purpose, "--aws-account", account.as_str()];
        args.extend(more);
        let text = policy(&launch, &args);
        grants_of(&serde_json::from_str(&text).expect("a JSON document"))
    };
    let covers = |grants: &BTreeMap<String, BTreeSet<String>>, action: &str, arn: &str| {
        grants
            .get(&format!("secretsmanager:{action}"))
            .is_some_and(|resources| resources.iter().any(|pattern| iam_matches(pattern, arn)))
    };
    let deployment: Vec<&String> = arns.values().chain([&extra]).collect();

    let run = document("run", &[]);
    for arn in &deployment {
        assert!(covers(&run, "GetSecretValue", arn), "{arn}: {run:?}");
    }
    assert!(!covers(&run, "GetSecretValue", &decoy), "{run:?}");
    assert_eq!(
        run["secretsmanager:BatchGetSecretValue"],
        BTreeSet::from(["*".to_string()])
    );
    assert_eq!(run.len(), 2, "run reads, nothing else: {run:?}");
    assert!(
        run["secretsmanager:GetSecretValue"]
            .iter()
            .all(|arn| arn.starts_with(&format!(
                "arn:aws:secretsmanager:{REGION}:{account}:secret:"
            )) && arn.ends_with("-??????")),
        "{run:?}"
    );

    let watch = document("watch", &[]);
    for arn in &deployment {
        assert!(covers(&watch, "DescribeSecret", arn), "{arn}: {watch:?}");
    }
    assert!(!watch.contains_key("secretsmanager:PutSecretValue"));

    let backup = document("backup", &[]);
    for arn in &deployment {
        assert!(
            covers(&backup, "ListSecretVersionIds", arn),
            "{arn}: {backup:?}"
        );
    }

    let rotate = document(
        "rotate",
        &["--kms-key", "arn:aws:kms:us-east-1:123456789012:key/k1"],
    );
    for action in [
        "PutSecretValue",
        "UpdateSecretVersionStage",
        "DescribeSecret",
        "ListSecretVersionIds",
    ] {
        assert!(
            covers(&rotate, action, &arns["jwt_secret"]),
            "{action}: {rotate:?}"
        );
        assert!(
            covers(&rotate, action, &arns["api_key"]),
            "{action}: {rotate:?}"
        );
    }
    assert!(!covers(
        &rotate,
        "PutSecretValue",
        &arns["database_password"]
    ));
    assert!(covers(
        &rotate,
        "ListSecretVersionIds",
        &arns["database_password"]
    ));
    assert!(
        !covers(&rotate, "GetSecretValue", &extra),
        "rotate reads no env file"
    );
    assert!(!rotate.contains_key("secretsmanager:BatchGetSecretValue"));
    assert_eq!(
        rotate["kms:GenerateDataKey"],
        BTreeSet::from(["arn:aws:kms:us-east-1:123456789012:key/k1".to_string()])
    );
}

/// The Secrets Manager actions (without the service prefix) a document grants on any resource.
fn actions_granted(launch: &Launch, purpose: &str) -> BTreeSet<String> {
    let text = policy(launch, &["--for", purpose, "--aws-account", "123456789012"]);
    grants_of(&serde_json::from_str(&text).expect("a JSON document"))
        .into_keys()
        .filter_map(|action| action.strip_prefix("secretsmanager:").map(str::to_string))
        .collect()
}

/// The actions moto answered for requests signed with `key`.
fn actions_called(key: &str) -> BTreeSet<String> {
    moto().counts(key).into_keys().collect()
}

/// moto cannot enforce the document, but it counts the calls: every action a real `run`, a
/// watcher's polls and `rotate` (a rotation, then `--status`) make is one their document grants.
#[test]
fn every_aws_call_of_each_purpose_is_granted_by_its_document() {
    let prefix = "policy-calls";
    for (name, value) in [
        ("jwt_secret", JWT_SECRET),
        ("api_key", API_KEY),
        ("database_password", DB_PASSWORD),
    ] {
        moto().create(&format!("{prefix}/{name}"), value);
    }
    moto().create("policy-calls-shared/extra", "extra-token-value-1");
    let launch = |key: &str| {
        Launch::new()
            .file(
                "config.yaml",
                &format!(
                    "secrets_manager:
  enabled: true
  backend: aws_secrets_manager
  aws_region: {REGION}
  aws_prefix: {prefix}
secrets:
  jwt_secret: {{env: CRONOS_AI_JWT_SECRET, min_length: 32, rotate_every: 180d}}
  api_key: {{env: CRONOS_AI_API_KEY, min_length: 32}}
  database_password: {{env: CRONOS_AI_DB_PASSWORD, min_length: 16}}
"
                ),
            )
            .env("CRONOS_SECRETS_CONFIG", "config.yaml")
            .file(
                ".env.production",
                "EXTRA_TOKEN=aws-sm://policy-calls-shared/extra\n",
            )
            .file("app.tmpl", "jwt=${CRONOS_AI_JWT_SECRET}\n")
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", &moto().endpoint)
    };

    let run = launch("POLICYCALLSRUN");
    let ran = common::Outcome {
        output: run
            .command()
            .args(["run", "--", "true"])
            .output()
            .expect("run"),
    };
    ran.assert_code(0);
    let called = actions_called("POLICYCALLSRUN");
    assert!(called.contains("BatchGetSecretValue"), "{called:?}");
    let granted = actions_granted(&run, "run");
    assert!(
        called.is_subset(&granted),
        "run called {called:?}, granted {granted:?}"
    );

    let watch = launch("POLICYCALLSWATCH");
    let output = watch.path("app.conf");
    let ready = watch.path("ready");
    let granted = actions_granted(&watch, "watch");
    let watching = watch.args([
        "render",
        "app.tmpl",
        "-o",
        &output.display().to_string(),
        "--watch",
        "--interval",
        "200ms",
        "--ready-file",
        &ready.display().to_string(),
    ]);
    let mut running = Running::start_plain(watching);
    running.wait_for("a poll", |_| {
        ready.exists() && actions_called("POLICYCALLSWATCH").contains("DescribeSecret")
    });
    running.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(running.wait_exit(), 0);
    let called = actions_called("POLICYCALLSWATCH");
    assert!(
        called.is_subset(&granted),
        "watch called {called:?}, granted {granted:?}"
    );

    let rotate = launch("POLICYCALLSROTATE");
    for args in [
        &["rotate", "--jwt", "--api-key", "--yes"][..],
        &["rotate", "--status"],
    ] {
        let outcome = common::Outcome {
            output: rotate.command().args(args).output().expect("rotate"),
        };
        outcome.assert_code(0);
    }
    let called = actions_called("POLICYCALLSROTATE");
    for expected in [
        "PutSecretValue",
        "UpdateSecretVersionStage",
        "ListSecretVersionIds",
    ] {
        assert!(called.contains(expected), "{called:?}");
    }
    let granted = actions_granted(&rotate, "rotate");
    assert!(
        called.is_subset(&granted),
        "rotate called {called:?}, granted {granted:?}"
    );
}

#[test]
fn the_aws_notes_say_what_the_document_could_not_know() {
    let outcome = Launch::new()
        .args(["policy", "--backend", "aws_secrets_manager"])
        .env("CRONOS_SECRETS_BACKEND", "aws_secrets_manager")
        .run();
    outcome
        .assert_code(0)
        .assert_stderr_contains("pass --aws-account ID")
        .assert_stderr_contains("no aws_region in the config")
        .assert_stderr_contains("customer-managed KMS key");
    let document: Value = serde_json::from_str(&outcome.stdout()).expect("JSON");
    assert!(
        outcome
            .stdout()
            .contains("arn:aws:secretsmanager:*:*:secret:cronos-ai/database_password-??????"),
        "{document}"
    );
}

/// Runs the `az` lines with a recording `az` first on PATH; its calls, one per line.
fn run_az_lines(script: &str, assignee: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    let az = dir.path().join("az");
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\necho \"$*\" >> {calls}\nif [ \"$1 $2\" = \"keyvault show\" ]; then echo /subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/$4; fi\n",
            calls = calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.path().join("assign.sh");
    std::fs::write(&file, script).unwrap();
    let mut command = std::process::Command::new("sh");
    command.arg(&file).env(
        "PATH",
        format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap()
        ),
    );
    if let Some(assignee) = assignee {
        command.env("ASSIGNEE", assignee);
    } else {
        command.env_remove("ASSIGNEE");
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    read(&calls).lines().map(str::to_string).collect()
}

#[test]
fn the_az_lines_assign_built_in_roles_at_each_secret_scope() {
    let launch = Launch::new()
        .file(
            "config.yaml",
            "secrets_manager:
  backend: azure_key_vault
  azure_vault_url: https://cronos-kv.vault.azure.net/
secrets:
  jwt_secret: {env: CRONOS_AI_JWT_SECRET, min_length: 32, rotate_every: 180d}
  database_password: {env: CRONOS_AI_DB_PASSWORD, min_length: 16}
",
        )
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        .file(
            ".env.production",
            "OTHER=azure-kv://other-kv.vault.azure.net/shared-token\n",
        );
    let scope = |vault: &str, name: &str| {
        format!(
            "--scope /subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/{vault}/secrets/{name}"
        )
    };
    let assignment = |role: &str, vault: &str, name: &str| {
        format!(
            "role assignment create --role {role} --assignee 11111111-2222 {}",
            scope(vault, name)
        )
    };
    let user = "Key Vault Secrets User";
    let officer = "Key Vault Secrets Officer";

    let run = run_az_lines(&policy(&launch, &["--for", "run"]), Some("11111111-2222"));
    let assigned: BTreeSet<String> = run
        .iter()
        .filter(|call| call.starts_with("role assignment"))
        .cloned()
        .collect();
    let expected: BTreeSet<String> = [
        ("cronos-kv", "database-password"),
        ("cronos-kv", "jwt-secret"),
        ("cronos-kv", "jwt-secret-previous"),
        ("other-kv", "shared-token"),
    ]
    .into_iter()
    .map(|(vault, name)| assignment(user, vault, name))
    .collect();
    assert_eq!(assigned, expected);
    assert!(run.contains(&"keyvault show --name other-kv --query id --output tsv".to_string()));

    // A backup also reads each secret's previous value, which launches of the database
    // password never get; it writes nothing.
    let backup = roles_assigned(&policy(&launch, &["--for", "backup"]));
    assert!(
        !roles_assigned(&policy(&launch, &["--for", "run"]))
            .contains_key("database-password-previous")
    );
    assert_eq!(
        backup.get("database-password-previous").map(String::as_str),
        Some(user)
    );
    assert!(backup.values().all(|role| role == user), "{backup:?}");

    let rotate = policy(&launch, &["--for", "rotate", "--assignee", "11111111-2222"]);
    let calls = run_az_lines(&rotate, None);
    for name in ["jwt-secret", "jwt-secret-pending", "jwt-secret-previous"] {
        assert!(
            calls.contains(&assignment(officer, "cronos-kv", name)),
            "{name}: {calls:#?}"
        );
    }
    assert!(calls.contains(&assignment(user, "cronos-kv", "database-password")));
    assert!(calls.contains(&assignment(user, "cronos-kv", "database-password-pending")));
    assert!(
        !calls.iter().any(|call| call.contains("shared-token")),
        "{calls:#?}"
    );
    assert_eq!(
        calls
            .iter()
            .filter(|call| call.contains("role assignment"))
            .count(),
        5
    );
}

/// Secret name → role, from `az` lines (not run: the fake's vault is 127.0.0.1).
fn roles_assigned(lines: &str) -> BTreeMap<String, String> {
    lines
        .lines()
        .filter_map(|line| {
            let role = line
                .strip_prefix("az role assignment create --role \"")?
                .split('"')
                .next()?;
            let name = line.rsplit("/secrets/").next()?.trim_end_matches('"');
            Some((name.to_string(), role.to_string()))
        })
        .collect()
}

/// The Key Vault fake does not check roles, but it logs each request: every secret a real run
/// reads has an assignment, and every secret a rotation writes (a new version, a tag change)
/// has "Key Vault Secrets Officer".
#[cfg(feature = "azure")]
#[test]
fn every_key_vault_request_of_each_purpose_has_its_role() {
    let fake = common::azure::shared();
    for (name, value) in [
        ("jwt-secret", JWT_SECRET),
        ("api-key", API_KEY),
        ("database-password", DB_PASSWORD),
    ] {
        fake.plant(0, name, value, serde_json::json!({}));
    }
    let config = format!(
        "secrets_manager:
  enabled: true
  backend: azure_key_vault
  azure_vault_url: \"{}/\"
  azure_verify_challenge_resource: false
secrets:
  jwt_secret: {{env: CRONOS_AI_JWT_SECRET, min_length: 32, rotate_every: 180d}}
  api_key: {{env: CRONOS_AI_API_KEY, min_length: 32}}
  database_password: {{env: CRONOS_AI_DB_PASSWORD, min_length: 16}}
",
        fake.vaults[0]
    );
    let launch = || {
        fake.launch_with_secret("policy-client")
            .file("config/cronos_ai.production.yaml", &config)
            .file(".env.production", "EXTRA=azure-kv://extra-token\n")
    };
    fake.plant(
        0,
        "extra-token",
        "extra-token-value-1",
        serde_json::json!({}),
    );
    // (kind, secret name) of the requests logged since `from`.
    let requests_since = |from: usize| -> Vec<(String, String)> {
        fake.requests()[from..]
            .iter()
            .filter_map(|request| {
                Some((
                    request["kind"].as_str()?.to_string(),
                    request["name"].as_str()?.to_ascii_lowercase(),
                ))
            })
            .collect()
    };
    let officer = "Key Vault Secrets Officer";

    let run = launch();
    let roles = roles_assigned(&policy(&run, &["--for", "run"]));
    let from = fake.requests().len();
    common::Outcome {
        output: run
            .command()
            .args(["run", "--", "true"])
            .output()
            .expect("run"),
    }
    .assert_code(0);
    let requests = requests_since(from);
    assert!(
        requests.iter().any(|(_, name)| name == "extra-token"),
        "{requests:?}"
    );
    for (kind, name) in &requests {
        assert!(
            roles.contains_key(name),
            "run: {kind} {name} has no assignment: {roles:?}"
        );
    }

    let rotate = launch();
    let roles = roles_assigned(&policy(&rotate, &["--for", "rotate"]));
    let from = fake.requests().len();
    for args in [
        &["rotate", "--jwt", "--api-key", "--yes"][..],
        &["rotate", "--status"],
    ] {
        common::Outcome {
            output: rotate.command().args(args).output().expect("rotate"),
        }
        .assert_code(0);
    }
    let requests = requests_since(from);
    assert!(
        requests.iter().any(|(kind, _)| kind == "put"),
        "{requests:?}"
    );
    for (kind, name) in &requests {
        let role = roles.get(name).map(String::as_str);
        match kind.as_str() {
            "put" | "patch" => assert_eq!(role, Some(officer), "rotate: {kind} {name}: {roles:?}"),
            _ => assert!(
                role.is_some(),
                "rotate: {kind} {name} has no assignment: {roles:?}"
            ),
        }
    }
    assert_eq!(
        roles.get("database-password").map(String::as_str),
        Some("Key Vault Secrets User")
    );
}

/// The plan holds values (the launcher's environment, literals in env files): none reaches a
/// policy, its notes or its log, at any level.
#[test]
fn a_policy_prints_no_value() {
    let outcome = Launch::with_required()
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .file(
            ".env.production",
            "LITERAL=planted-literal-value-77\nFROM_VAULT=vault://secret/app/db#password\n",
        )
        .args(["-vvv", "policy", "--for", "backup"])
        .run();
    outcome
        .assert_code(0)
        .assert_stdout_contains("path \"secret/data/app/db\"")
        .assert_no_leak(&[
            "planted-literal-value-77",
            DB_PASSWORD,
            REDIS_PASSWORD,
            JWT_SECRET,
            ENCRYPTION_KEY,
            API_KEY,
        ]);
}

/// `policy --for backup` applied to a token without the default policy: `backup` reads every
/// secret of the deployment (and a kept previous value) with it alone, and writes the file.
#[test]
fn the_backup_policy_lets_backup_read_the_whole_deployment() {
    let launch = vault_deployment("backup");
    // A rotated secret keeps its previous value in the same path's `previous` field.
    bao().put(
        "secret",
        "policy/backup/app/jwt_secret",
        &[
            ("value", JWT_SECRET),
            ("previous", "previous-jwt-value-000000000000001"),
        ],
    );
    let hcl = policy(&launch, &["--for", "backup", "--template", "app.tmpl"]);
    let token = token_with("cronos-backup", &hcl);
    let key = launch.path("backup.key");
    let made = std::process::Command::new("age-keygen")
        .args(["-o", &key.display().to_string()])
        .output()
        .expect("age-keygen is installed (Debian package age)");
    assert!(made.status.success());
    let recipient = std::process::Command::new("age-keygen")
        .args(["-y", &key.display().to_string()])
        .output()
        .unwrap();
    let recipient = String::from_utf8(recipient.stdout).unwrap();
    let file = launch.path("backup.age");
    let outcome = launch
        .env("VAULT_TOKEN", &token)
        .args(["backup", "-o", &file.display().to_string()])
        .args(["--recipient", recipient.trim(), "--template", "app.tmpl"])
        .run();
    assert!(
        // (the launch's directory, and the file in it, went with the launch)
        outcome.code() == 0 && outcome.stderr().contains("backed up 5 secrets"),
        "backup failed with the backup policy:\n{}",
        outcome.stderr()
    );
    outcome.assert_stderr_no_leak(&[JWT_SECRET, API_KEY, DB_PASSWORD]);
}
