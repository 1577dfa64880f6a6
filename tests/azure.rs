//! The Azure Key Vault backend against the in-repo fake (tests/common/azure_fake.py) over
//! HTTPS: every credential flow, the 401 challenge and its domain check, name mapping,
//! versions, attributes, Key Vault's errors, throttling, slow and dead token endpoints,
//! get/set/check — and Microsoft's own Python SDK against the same fake, so the fake stays
//! faithful. Nothing here contacts 169.254.169.254 or any non-loopback address.

#![cfg(feature = "azure")]

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::azure::{AzureFake, TENANT, shared, tls};
use common::connect_proxy;
use common::*;
use serde_json::{Value, json};

/// Requests the fake logged for `names` (gets, challenges) and for `client_id` (tokens).
fn count(fake: &AzureFake, kind: &str, names: &[&str], client_id: Option<&str>) -> usize {
    fake.requests()
        .iter()
        .filter(|request| request["kind"] == kind)
        .filter(|request| match kind {
            "token" => client_id.is_none_or(|id| request["client_id"] == id),
            "challenge" => names.iter().any(|name| {
                request["path"]
                    .as_str()
                    .is_some_and(|path| path.contains(&format!("/{name}")))
            }),
            _ => names.iter().any(|name| request["name"] == *name),
        })
        .count()
}

fn run_env(launch: Launch, env_file: &str) -> Outcome {
    launch
        .file(".env.production", env_file)
        .args(["run", "--", "env", "-0"])
        .run()
}

fn run_true(launch: Launch, env_file: &str) -> Outcome {
    launch
        .file(".env.production", env_file)
        .args(["run", "--", "sh", "-c", "echo started"])
        .run()
}

#[test]
fn the_guides_secrets_come_from_key_vault_with_one_challenge_one_token_and_one_get_each() {
    let fake = shared();
    let names = [
        "guide-db-password",
        "guide-redis-password",
        "guide-jwt-secret",
    ];
    let values = [DB_PASSWORD, REDIS_PASSWORD, JWT_SECRET];
    for (name, value) in names.iter().zip(values) {
        fake.plant(0, name, value, json!({}));
    }
    let outcome = run_env(
        fake.launch_with_secret("client-guide"),
        "CRONOS_AI_DB_PASSWORD=secret://guide_db_password\nCRONOS_AI_REDIS_PASSWORD=secret://guide-redis-password\nCRONOS_AI_JWT_SECRET=azure-kv://guide-jwt-secret\nSAME_AGAIN=secret://guide_db_password\n",
    );
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["CRONOS_AI_DB_PASSWORD"], DB_PASSWORD);
    assert_eq!(env["CRONOS_AI_REDIS_PASSWORD"], REDIS_PASSWORD);
    assert_eq!(env["CRONOS_AI_JWT_SECRET"], JWT_SECRET);
    assert_eq!(env["SAME_AGAIN"], DB_PASSWORD);
    // The launcher's credential never reaches the program.
    assert!(!env.contains_key("AZURE_CLIENT_SECRET"));
    outcome.assert_stderr_no_leak(&[
        DB_PASSWORD,
        REDIS_PASSWORD,
        JWT_SECRET,
        "client-secret-of-client-guide",
        "fake-",
    ]);
    assert_eq!(count(fake, "get", &names, None), 3, "one GET per secret");
    assert_eq!(
        count(fake, "challenge", &names, None),
        1,
        "one challenge per vault"
    );
    assert_eq!(
        count(fake, "token", &[], Some("client-guide")),
        1,
        "one token per launch"
    );
}

#[test]
fn json_keys_versions_and_a_second_vault() {
    let fake = shared();
    let first = fake.plant(0, "pinned-secret", "first-version-value-1234", json!({}));
    fake.plant(0, "pinned-secret", "second-version-value-5678", json!({}));
    fake.plant(
        0,
        "json-secret",
        r#"{"user":"cronos","password":"json-password-value-99"}"#,
        json!({}),
    );
    let outcome = run_env(
        fake.launch_with_secret("client-versions"),
        &format!(
            "LATEST=secret://pinned-secret\nFIRST=azure-kv://pinned-secret?version={first}\nPASSWORD=secret://json_secret#password\n"
        ),
    );
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["LATEST"], "second-version-value-5678");
    assert_eq!(env["FIRST"], "first-version-value-1234");
    assert_eq!(env["PASSWORD"], "json-password-value-99");
    assert_eq!(count(fake, "token", &[], Some("client-versions")), 1);
}

/// Requests (challenges and reads) the fake logged for secret `name` in the vault `host`.
fn requests_to(fake: &AzureFake, host: &str, name: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|request| request["vault"] == host)
        .filter(|request| {
            request["name"] == name
                || request["path"]
                    .as_str()
                    .is_some_and(|path| path.contains(&format!("/{name}")))
        })
        .count()
}

#[test]
fn each_vault_gets_a_token_of_its_own_and_the_relaxed_check_is_said_under_quiet() {
    // A fake of its own: its challenge names the resource https://vault.test, which a second
    // vault reached by name (v1.vault.test, through a CONNECT proxy to 127.0.0.1) matches.
    let fake = AzureFake::start();
    fake.configure(json!({"resource": "https://vault.test"}));
    let proxy = connect_proxy::ConnectProxy::start();
    let port = fake.host(1).rsplit_once(':').unwrap().1.to_string();
    let second = format!("v1.vault.test:{port}");
    fake.plant(
        0,
        "first-vault-secret",
        "value-from-the-first-vault",
        json!({}),
    );
    fake.plant_in(
        &second,
        "second-vault-secret",
        "value-from-the-second-vault",
        json!({}),
    );
    let launch = fake
        .launch_with_secret("client-two-vaults")
        .env("HTTPS_PROXY", &proxy.address)
        .file(
            ".env.production",
            &format!("A=secret://first-vault-secret\nB=azure-kv://{second}/second-vault-secret\n"),
        )
        .args(["-q", "run", "--", "env", "-0"]);
    let outcome = launch.run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["A"], "value-from-the-first-vault");
    assert_eq!(env["B"], "value-from-the-second-vault");
    assert!(proxy.tunnels().contains(&second), "{:?}", proxy.tunnels());
    // As Microsoft's SDKs do (one client per vault): two vaults, two tokens.
    assert_eq!(count(&fake, "token", &[], Some("client-two-vaults")), 2);
    // The configured vault (127.0.0.1) does not match the resource: accepted, and said so
    // even under -q.
    outcome
        .assert_stderr_contains("does not match the vault's host \"127.0.0.1\"")
        .assert_stderr_contains("accepted for the configured vault only")
        .assert_stderr_no_leak(&["value-from-the-", "client-secret-of-"]);
}

#[test]
fn the_relaxed_check_covers_the_configured_vault_only() {
    let fake = shared();
    fake.plant(0, "relaxed-here", "relaxed-here-value-1", json!({}));
    fake.plant(
        1,
        "relaxed-elsewhere",
        "relaxed-elsewhere-value-1",
        json!({}),
    );
    // An env-file line may name another vault, but it must pass the domain check on its own.
    let launch = fake.launch_with_secret("client-relaxed").file(
        ".env.production",
        &format!(
            "A=secret://relaxed-here\nB=azure-kv://{}/relaxed-elsewhere\n",
            fake.host(1)
        ),
    );
    let outcome = launch.args(["run", "--", "sh", "-c", "echo started"]).run();
    outcome
        .assert_code(125)
        .assert_stderr_contains(&format!("Azure Key Vault {}", fake.vaults[1]))
        .assert_stderr_contains("does not match the vault's host")
        .assert_stderr_contains("covers secrets_manager.azure_vault_url only")
        .assert_stderr_no_leak(&["relaxed-elsewhere-value-1", "relaxed-here-value-1"]);
    assert!(!outcome.stdout().contains("started"));
    // The other vault got its unauthenticated challenge and nothing else: no token, no read.
    assert_eq!(count(fake, "get", &["relaxed-elsewhere"], None), 0);
    assert_eq!(count(fake, "token", &[], Some("client-relaxed")), 1);
}

#[test]
fn an_inherited_value_never_chooses_the_vault_host() {
    let fake = shared();
    fake.plant(0, "inherited-here", "inherited-here-value-1", json!({}));
    fake.plant(1, "banner", "EVIL-VALUE-0123456789abcdefghij", json!({}));
    let banner = format!("azure-kv://{}/banner", fake.host(1));
    let launch = fake
        .launch_with_secret("client-inherited")
        .env("APP_BANNER", &banner)
        .env("APP_EMBEDDED", &format!("x-${{{banner}}}"));
    let outcome = run_env(launch, "X=secret://inherited-here\n");
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["X"], "inherited-here-value-1");
    // Passed on as it is, like an inherited env:// or file:// value: the host is never asked.
    assert_eq!(env["APP_BANNER"], banner);
    assert_eq!(env["APP_EMBEDDED"], format!("x-${{{banner}}}"));
    assert_eq!(requests_to(fake, &fake.host(1), "banner"), 0);
    outcome.assert_no_leak(&["EVIL-VALUE-0123456789abcdefghij"]);
}

#[test]
fn names_key_vault_cannot_hold_and_two_spellings_of_one_secret_are_errors_naming_both() {
    let fake = shared();
    fake.plant(0, "spelled-twice", "spelled-twice-value-123", json!({}));
    let outcome = run_true(
        fake.launch_with_secret("client-spelling"),
        "A=secret://spelled_twice\nB=azure-kv://Spelled-Twice\nC=azure-kv://has.dot\n",
    );
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("azure-kv://Spelled-Twice and secret://spelled_twice both name")
        .assert_stderr_contains("\"has.dot\" cannot be a Key Vault secret name")
        .assert_stderr_no_leak(&["spelled-twice-value-123"]);
    assert!(!outcome.stdout().contains("started"));
}

#[test]
fn workload_identity_sends_the_federated_token_as_a_client_assertion() {
    let fake = shared();
    fake.plant(0, "wi-secret", "workload-identity-value-42", json!({}));
    fake.assertion("client-wi", "eyJ.federated-token-of-client-wi.sig");
    let launch = fake.launch();
    let token_file = launch.path("azure-identity-token");
    std::fs::write(&token_file, "eyJ.federated-token-of-client-wi.sig\n").unwrap();
    let outcome = run_env(
        launch
            .env("AZURE_CLIENT_ID", "client-wi")
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_FEDERATED_TOKEN_FILE", &token_file.to_string_lossy()),
        "WI=secret://wi-secret\n",
    );
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["WI"], "workload-identity-value-42");
    outcome.assert_stderr_no_leak(&["workload-identity-value-42", "federated-token-of-client-wi"]);
}

#[test]
fn the_tenant_comes_from_the_challenge_when_azure_tenant_id_is_unset() {
    let fake = shared();
    fake.plant(0, "tenantless", "tenant-from-challenge-value", json!({}));
    let outcome = run_env(
        fake.launch_with_secret("client-tenantless")
            .remove_env("AZURE_TENANT_ID"),
        "T=secret://tenantless\n",
    );
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["T"], "tenant-from-challenge-value");
}

#[test]
fn a_broken_token_file_under_auto_reports_workload_identity_not_imds() {
    let fake = shared();
    let started = Instant::now();
    let outcome = run_true(
        fake.launch()
            .env("AZURE_CLIENT_ID", "client-broken-file")
            .env("AZURE_TENANT_ID", TENANT)
            .env(
                "AZURE_FEDERATED_TOKEN_FILE",
                "/var/run/secrets/azure/tokens/missing-token",
            ),
        "X=secret://anything\n",
    );
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("workload identity")
        .assert_stderr_contains("/var/run/secrets/azure/tokens/missing-token")
        .assert_stderr_contains("no such file");
    assert!(!outcome.stderr().contains("IMDS"), "{}", outcome.stderr());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn app_service_managed_identity_uses_identity_endpoint_and_header() {
    let fake = shared();
    fake.plant(0, "app-service-secret", "app-service-value-77", json!({}));
    let outcome = run_env(
        fake.launch()
            .env("IDENTITY_ENDPOINT", &format!("{}/msi/token", fake.plain))
            .env("IDENTITY_HEADER", "fake-identity-header"),
        "S=secret://app-service-secret\n",
    );
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["S"], "app-service-value-77");
}

#[test]
fn imds_managed_identity_at_the_overridden_address_and_its_own_errors() {
    let fake = shared();
    fake.plant(0, "imds-secret", "imds-value-31415", json!({}));
    let outcome = run_env(fake.launch(), "S=secret://imds-secret\n");
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["S"], "imds-value-31415");
    // A user-assigned identity that is not on this "VM".
    let outcome = run_true(
        fake.launch().env("AZURE_CLIENT_ID", "not-assigned-here"),
        "S=secret://imds-secret\n",
    );
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("Identity not found")
        .assert_stderr_contains("client id not-assigned-here")
        .assert_stderr_contains("az vm identity assign");
}

#[test]
fn an_imds_that_never_answers_fails_within_the_probe_limit_not_the_launch_timeout() {
    let fake = shared();
    // Accepts connections (the kernel's backlog) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", silent.local_addr().unwrap());
    let started = Instant::now();
    let outcome = fake
        .launch()
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &address)
        .file(".env.production", "S=secret://whatever\n")
        .args(["--timeout", "60s", "run", "--", "true"])
        .run();
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("managed identity via IMDS")
        .assert_stderr_contains("not running on an Azure VM")
        .assert_stderr_contains("azure_auth: cli");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn the_cli_flow_uses_az_account_get_access_token() {
    let fake = shared();
    fake.plant(0, "cli-secret", "cli-value-2718", json!({}));
    let launch = fake.launch();
    // The launch's directory goes when the launch does: the arguments are kept elsewhere.
    let record = tempfile::tempdir().unwrap();
    let bin = launch.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let az = bin.join("az");
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\nprintf '{{\"accessToken\": \"{}\", \"tokenType\": \"Bearer\"}}'\n",
            record.path().join("args").display(),
            fake.cli_token()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let outcome = run_env(
        launch
            .env("PATH", &path)
            .env("CRONOS_SECRETS_AZURE_AUTH", "cli"),
        "S=secret://cli-secret\n",
    );
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["S"], "cli-value-2718");
    let args = std::fs::read_to_string(record.path().join("args")).unwrap();
    assert!(args.contains("account get-access-token"), "{args}");
    assert!(
        args.contains("--scope https://vault.azure.net/.default"),
        "{args}"
    );
}

#[test]
fn a_challenge_for_another_domain_gets_no_token_unless_the_check_is_off() {
    let fake = shared();
    fake.plant(0, "domain-check", "domain-check-value-1", json!({}));
    let launch = fake
        .launch_with_secret("client-domain")
        .env("CRONOS_SECRETS_AZURE_VERIFY_CHALLENGE_RESOURCE", "true");
    let outcome = run_true(launch, "S=secret://domain-check\n");
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("does not match the vault's host \"127.0.0.1\"")
        .assert_stderr_contains("azure_verify_challenge_resource: false");
    assert_eq!(count(fake, "token", &[], Some("client-domain")), 0);
}

#[test]
fn key_vault_errors_name_vault_secret_flow_and_fix() {
    let fake = shared();
    let outcome = run_true(
        fake.launch_with_secret("client-errors"),
        "S=secret://never_stored\n",
    );
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("secret \"never-stored\" not found")
        .assert_stderr_contains(&fake.vaults[0])
        .assert_stderr_contains("client secret, client id client-errors")
        .assert_stderr_contains("az keyvault secret set --vault-name 127 --name never-stored");

    fake.plant(0, "rbac-denied", "rbac-value-1", json!({}));
    fake.fault("get", "rbac-denied", 403, "ForbiddenByRbac", 1);
    let outcome = run_true(
        fake.launch_with_secret("client-errors"),
        "S=secret://rbac-denied\n",
    );
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("Key Vault Secrets User")
        .assert_stderr_contains(
            "az role assignment create --role \"Key Vault Secrets User\" --assignee client-errors",
        );

    fake.plant(0, "firewalled", "firewall-value-1", json!({}));
    fake.fault("get", "firewalled", 403, "ForbiddenByFirewall", 1);
    let outcome = run_true(
        fake.launch_with_secret("client-errors"),
        "S=secret://firewalled\n",
    );
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("firewall")
        .assert_stderr_contains("az keyvault network-rule add");
    outcome.assert_stderr_no_leak(&["rbac-value-1", "firewall-value-1"]);
}

#[test]
fn disabled_expired_and_not_yet_valid_versions_fail_closed_and_say_when() {
    let fake = shared();
    fake.plant(
        0,
        "disabled-secret",
        "disabled-value-1",
        json!({"enabled": false}),
    );
    fake.plant(
        0,
        "expired-secret",
        "expired-value-1",
        json!({"exp": 1_700_000_000}),
    );
    fake.plant(
        0,
        "future-secret",
        "future-value-1",
        json!({"nbf": 4_102_444_800u64}),
    );
    // A timestamp before 1970 is not "none": a negative expiry has passed.
    fake.plant(
        0,
        "expired-before-1970",
        "expired-before-1970-value-1",
        json!({"exp": i64::MIN}),
    );
    let outcome = run_true(
        fake.launch_with_secret("client-attributes"),
        "A=secret://disabled-secret\nB=secret://expired-secret\nC=secret://future-secret\nD=secret://expired-before-1970\n",
    );
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("is disabled")
        .assert_stderr_contains("az keyvault secret set-attributes")
        .assert_stderr_contains("expired at 2023-11-14T22:13:20Z")
        .assert_stderr_contains("not valid before 2100-01-01T00:00:00Z")
        .assert_stderr_contains("secret \"expired-before-1970\" expired at 1970-01-01T00:00:00Z")
        .assert_stderr_no_leak(&[
            "disabled-value-1",
            "expired-value-1",
            "future-value-1",
            "expired-before-1970-value-1",
        ]);
    assert!(!outcome.stdout().contains("started"));
    // … and a negative start has been reached.
    fake.plant(
        0,
        "valid-since-before-1970",
        "valid-since-1969-value",
        json!({"nbf": -1}),
    );
    let outcome = run_env(
        fake.launch_with_secret("client-attributes"),
        "E=secret://valid-since-before-1970\n",
    );
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["E"], "valid-since-1969-value");
}

#[test]
fn throttling_and_server_errors_are_retried_honouring_retry_after() {
    let fake = shared();
    fake.plant(0, "throttled-secret", "throttled-value-1", json!({}));
    fake.fault("get", "throttled-secret", 429, "Throttled", 2);
    fake.plant(0, "flaky-secret", "flaky-value-1", json!({}));
    fake.fault("get", "flaky-secret", 503, "ServiceUnavailable", 2);
    let started = Instant::now();
    let outcome = run_env(
        fake.launch_with_secret("client-throttled"),
        "A=secret://throttled-secret\nB=secret://flaky-secret\n",
    );
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["A"], "throttled-value-1");
    assert_eq!(outcome.child_env()["B"], "flaky-value-1");
    // Two Retry-After: 1 answers in a row.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_slow_token_endpoint_is_given_up_on_at_the_deadline_and_a_dead_one_is_named() {
    let fake = AzureFake::start();
    fake.plant(0, "slow-token", "slow-token-value", json!({}));
    fake.configure(json!({"token_delay": 20}));
    let started = Instant::now();
    let outcome = fake
        .launch_with_secret("client-slow")
        .file(".env.production", "S=secret://slow-token\n")
        .args(["--timeout", "2s", "run", "--", "true"])
        .run();
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains(
            "cannot get a Key Vault token (client secret, client id client-slow)",
        )
        .assert_stderr_contains(&fake.authority.replace("https://", ""));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );

    fake.configure(json!({"token_delay": 0, "token_dead": true}));
    let outcome = fake
        .launch_with_secret("client-dead")
        .file(".env.production", "S=secret://slow-token\n")
        .args(["--timeout", "2s", "run", "--", "true"])
        .run();
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("token endpoint")
        .assert_stderr_contains("kept answering 503")
        .assert_stderr_contains("AZURE_AUTHORITY_HOST");
}

#[test]
fn an_unreachable_vault_fails_each_secret_under_its_own_name() {
    let fake = shared();
    // Nothing listens there: the vault is down, and the challenge fails for all at once.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let vault = format!("https://{}", closed.local_addr().unwrap());
    drop(closed);
    let outcome = fake
        .launch_with_secret("client-unreachable")
        .file(
            "config/cronos_ai.production.yaml",
            &format!(
                "secrets_manager:\n  enabled: true\n  backend: azure_key_vault\n  azure_vault_url: \"{vault}/\"\nsecrets: {{}}\n"
            ),
        )
        .file(
            ".env.production",
            "APP_API_KEY=secret://api-key\nAPP_JWT_SECRET=secret://jwt-secret\n",
        )
        .args(["--timeout", "2s", "check"])
        .run();
    outcome.assert_code(1);
    let stdout = outcome.stdout();
    for (variable, own, other) in [
        ("APP_API_KEY", "api-key", "jwt-secret"),
        ("APP_JWT_SECRET", "jwt-secret", "api-key"),
    ] {
        let problem = stdout
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{variable}: ")))
            .unwrap_or_else(|| panic!("no problem for {variable}:\n{stdout}"));
        assert!(
            problem.contains(&format!(
                "Azure Key Vault {vault}, secret \"{own}\": no answer"
            )),
            "{problem}"
        );
        assert!(!problem.contains(other), "{problem}");
    }
}

#[test]
fn a_wrong_client_secret_says_so_without_echoing_it() {
    let fake = shared();
    fake.client("client-wrong", "the-right-secret");
    let outcome = run_true(
        fake.launch()
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", "client-wrong")
            .env("AZURE_CLIENT_SECRET", "a-wrong-client-secret-value"),
        "S=secret://anything\n",
    );
    outcome.assert_code(125);
    outcome
        .assert_stderr_contains("AADSTS7000215")
        .assert_stderr_contains("az ad app credential reset --id client-wrong")
        .assert_stderr_no_leak(&["a-wrong-client-secret-value", "the-right-secret"]);
}

#[test]
fn set_creates_only_with_create_then_writes_new_versions_that_get_and_check_read() {
    let fake = shared();
    let launch = || fake.launch_with_secret("client-set");
    let outcome = launch()
        .args(["set", "secret://set_me"])
        .run_with_stdin(b"first-set-value-123456");
    outcome.assert_code(125);
    outcome.assert_stderr_contains("--create");
    launch()
        .args(["set", "--create", "secret://set_me"])
        .run_with_stdin(b"first-set-value-123456")
        .assert_code(0);
    launch()
        .args(["set", "secret://set_me"])
        .run_with_stdin(b"second-set-value-654321")
        .assert_code(0);
    let outcome = launch().args(["get", "azure-kv://set-me"]).run();
    outcome.assert_code(0);
    assert_eq!(outcome.stdout().trim_end(), "second-set-value-654321");
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|request| request["kind"] == "put" && request["name"] == "set-me")
            .count(),
        2
    );
    // The existence checks list versions (attributes only) and never download the value
    // about to be overwritten: the only GET of the secret is `get`'s.
    assert_eq!(count(fake, "list", &["set-me", "set_me"], None), 2);
    assert_eq!(count(fake, "get", &["set-me"], None), 1);

    fake.plant(
        0,
        "checked-secret",
        "checked-secret-value-12345678",
        json!({"exp": 4_102_444_800u64}),
    );
    let outcome = launch()
        .file(".env.production", "CHECKED=secret://checked-secret\n")
        .args(["check"])
        .run();
    outcome.assert_code(0);
    let row = outcome.row("CHECKED");
    assert!(row.contains("2100-01-01T00:00:00Z"), "{row}");
    assert!(row.contains("0m"), "{row}");
    outcome.assert_no_leak(&["checked-secret-value-12345678"]);
}

#[test]
fn the_audit_event_carries_version_and_expiry_but_no_value() {
    let fake = shared();
    let version = fake.plant(
        0,
        "audited",
        "audited-value-1234567",
        json!({"exp": 4_102_444_800u64}),
    );
    let outcome = fake
        .launch_with_secret("client-audit")
        .file(".env.production", "AUDITED=secret://audited\n")
        .args(["--log-format", "json", "run", "--", "true"])
        .run();
    outcome.assert_code(0);
    let event: Value = outcome
        .stderr()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|event| event.to_string().contains("secret read"))
        .expect("an audit event");
    let text = event.to_string();
    assert!(text.contains(&version), "{text}");
    assert!(text.contains("2100-01-01T00:00:00Z"), "{text}");
    outcome.assert_no_leak(&["audited-value-1234567"]);
}

#[test]
fn check_plan_shows_key_vault_locations_without_any_request() {
    let outcome = Launch::new()
        .file(
            "config/cronos_ai.production.yaml",
            "secrets_manager:\n  backend: azure_key_vault\n  azure_vault_url: https://cronos-ai-vault.vault.azure.net/\nsecrets: {}\n",
        )
        .file(".env.production", "DB=secret://database_password\n")
        .args(["check", "--plan"])
        .run();
    outcome.assert_stdout_contains(
        "https://cronos-ai-vault.vault.azure.net/secrets/database-password",
    );
}

/// Microsoft's Python SDK (azure-keyvault-secrets, azure-identity) against the same fake: get,
/// set and list versions with the client-secret, workload-identity and App Service
/// managed-identity credentials. If the official client cannot use the fake, the fake is
/// wrong, and so are the tests above.
#[test]
fn microsofts_python_sdk_works_against_the_fake() {
    let fake = shared();
    fake.client("client-sdk", "client-secret-of-client-sdk");
    fake.assertion("client-sdk-wi", "eyJ.sdk-federated-token.sig");
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "eyJ.sdk-federated-token.sig").unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/azure_sdk_check.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("VAULT_URL", &fake.vaults[0])
        .env("AUTHORITY", &fake.authority)
        .env("TENANT", TENANT)
        .env("CA_FILE", &tls().ca)
        .env("SSL_CERT_FILE", &tls().ca)
        .env("REQUESTS_CA_BUNDLE", &tls().ca)
        .env("TOKEN_FILE", &token_file)
        .env("IDENTITY_ENDPOINT_URL", format!("{}/msi/token", fake.plain))
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &fake.plain)
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "the Azure SDK could not use the fake:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    for flow in ["client_secret", "workload_identity", "app_service"] {
        assert!(stdout.contains(&format!("{flow}: ok")), "{stdout}");
    }
}

#[test]
fn ssl_cert_file_adds_a_ca_and_a_fifo_or_missing_file_is_named_at_once() {
    let fake = shared();
    fake.plant(0, "ca-checked", "ca-checked-value-0123456789", json!({}));
    let launch = || fake.launch_with_secret("client-ca");
    let env_file = "CA_CHECKED=secret://ca_checked\n";
    // The test CA through SSL_CERT_FILE (what launch() sets) is trusted beside the built-in roots.
    run_env(launch(), env_file).assert_code(0);

    let missing = launch().env("SSL_CERT_FILE", "/nonexistent/ca.pem");
    let outcome = run_true(missing, env_file);
    outcome.assert_code(125);
    outcome.assert_stderr_contains("cannot read SSL_CERT_FILE");
    outcome.assert_stderr_contains("/nonexistent/ca.pem");

    // A FIFO would block a plain read forever; it is refused without waiting for the deadline.
    let fifo_launch = launch();
    let fifo = fifo_launch.path("ca.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let started = std::time::Instant::now();
    let outcome = run_true(
        fifo_launch
            .env("SSL_CERT_FILE", fifo.to_str().unwrap())
            .args(["--timeout", "60s"]),
        env_file,
    );
    outcome.assert_code(125);
    outcome.assert_stderr_contains("SSL_CERT_FILE");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}
