//! The Vault backend against a real OpenBao dev server (one per test binary).

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::OnceLock;

use common::openbao::{OpenBao, ROOT_TOKEN};
use common::*;

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

/// A launch pointed at the shared server with the root token and no required secrets.
fn launch() -> Launch {
    Launch::new()
        .env("VAULT_ADDR", &bao().address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .file("none.yaml", "secrets: {}\n")
        .env("CRONOS_SECRETS_CONFIG", "none.yaml")
}

const GUIDE_CONFIG: &str = r#"secrets_manager:
  enabled: true
  backend: "vault"
  vault_addr: "${VAULT_ADDR}"
  vault_token: "${VAULT_TOKEN}"
  vault_mount_point: "secret"
  vault_path: "cronos-ai/guide"
"#;

#[test]
fn guide_layout_fills_the_required_secrets() {
    let bao = bao();
    for (name, value) in [
        ("database_password", DB_PASSWORD),
        ("redis_password", REDIS_PASSWORD),
        ("jwt_secret", JWT_SECRET),
        ("encryption_key", ENCRYPTION_KEY),
        ("api_key", API_KEY),
    ] {
        bao.put(
            "secret",
            &format!("cronos-ai/guide/{name}"),
            &[("value", value)],
        );
    }
    let outcome = Launch::new()
        .env("VAULT_ADDR", &bao.address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .file("config/cronos_ai.production.yaml", GUIDE_CONFIG)
        .args(["run", "--", "env", "-0"])
        .run();
    outcome
        .assert_code(0)
        .assert_stderr_no_leak(&[JWT_SECRET, DB_PASSWORD]);
    let env = outcome.child_env();
    for (name, value) in REQUIRED {
        assert_eq!(env[name], value, "{name}");
    }
    assert!(
        !env.contains_key("VAULT_TOKEN"),
        "the launcher's token stays with the launcher"
    );
    assert_eq!(env["VAULT_ADDR"], bao.address);
}

#[test]
fn check_shows_version_and_age_never_values() {
    let bao = bao();
    bao.put(
        "secret",
        "check/jwt",
        &[("value", "first-version-value-000000000000000")],
    );
    bao.put("secret", "check/jwt", &[("value", JWT_SECRET)]);
    let outcome = launch()
        .file(".env.production", "JWT=secret://jwt\n")
        .env("CRONOS_SECRETS_VAULT_PATH", "check")
        .args(["check", "--format", "json"])
        .run();
    outcome
        .assert_code(0)
        .assert_no_leak(&[JWT_SECRET, "first-version-value"]);
    let rows: serde_json::Value = serde_json::from_str(&outcome.stdout()).unwrap();
    let row = &rows[0];
    assert_eq!(row["variable"], "JWT");
    assert_eq!(row["version"], "2");
    assert_eq!(row["age"], "0m");
    assert!(
        row["source"]
            .as_str()
            .unwrap()
            .contains("vault secret/check/jwt#value")
    );
}

#[test]
fn vault_scheme_keys_versions_and_json_values() {
    let bao = bao();
    bao.put(
        "secret",
        "any/db",
        &[("username", "cronos"), ("password", "pw-one")],
    );
    bao.put(
        "secret",
        "any/db",
        &[("username", "cronos"), ("password", "pw-two")],
    );
    let json = bao.path("structured.json");
    common::openbao::write_file(
        &json,
        r#"{"port": 5432, "tls": true, "hosts": ["a", "b"], "name": "x"}"#,
    );
    bao.run(&[
        "kv",
        "put",
        "-mount=secret",
        "any/structured",
        &format!("@{}", json.display()),
    ]);
    let outcome = launch()
        .file(
            ".env.production",
            concat!(
                "USER=vault://secret/any/db#username\n",
                "PASS=vault://secret/any/db#password\n",
                "OLD=vault://secret/any/db#password?version=1\n",
                "PORT=vault://secret/any/structured#port\n",
                "HOSTS=vault://secret/any/structured#hosts\n",
                "URL=\"postgres://${USER}:${PASS}@db:${PORT}/app\"\n",
            ),
        )
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["USER"], "cronos");
    assert_eq!(env["PASS"], "pw-two");
    assert_eq!(env["OLD"], "pw-one");
    assert_eq!(env["PORT"], "5432");
    assert_eq!(env["HOSTS"], r#"["a","b"]"#);
    assert_eq!(env["URL"], "postgres://cronos:pw-two@db:5432/app");
}

#[test]
fn kv_version_1_mounts_are_detected() {
    let bao = bao();
    bao.run(&["secrets", "enable", "-path=legacy", "-version=1", "kv"]);
    bao.put("legacy", "app/key", &[("value", "from-kv-v1")]);
    bao.put("legacy", "app/other", &[("value", "other-kv-v1")]);
    bao.put("legacy", "app/third", &[("value", "third-kv-v1")]);
    let lookups = bao.count("sys/internal/ui/mounts/legacy");
    let outcome = launch()
        .file(
            ".env.production",
            "A=vault://legacy/app/key\nB=vault://legacy/app/other\nC=vault://legacy/app/third\n",
        )
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["A"], "from-kv-v1");
    assert_eq!(outcome.child_env()["C"], "third-kv-v1");
    // The optimistic v2 reads fail, and the three share one mount lookup.
    assert_eq!(bao.count("sys/internal/ui/mounts/legacy") - lookups, 1);
    // Configured instead of detected: no v2 read, and still one lookup per mount (not per
    // secret), because a v1 read takes the path raw and the server must call the mount KV.
    let lookups = bao.count("sys/internal/ui/mounts/legacy");
    let v2_reads = bao.count("legacy/data/");
    let configured = launch()
        .env("CRONOS_SECRETS_VAULT_KV_VERSION", "1")
        .file(
            ".env.production",
            "A=vault://legacy/app/key\nB=vault://legacy/app/other\nC=vault://legacy/app/third\n",
        )
        .args(["run", "--", "env", "-0"])
        .run();
    configured.assert_code(0);
    assert_eq!(configured.child_env()["A"], "from-kv-v1");
    assert_eq!(configured.child_env()["C"], "third-kv-v1");
    assert_eq!(bao.count("sys/internal/ui/mounts/legacy") - lookups, 1);
    assert_eq!(bao.count("legacy/data/"), v2_reads);
}

/// Requests that would hand the launcher's token or the server's configuration to the program.
fn system_reads(bao: &OpenBao) -> usize {
    bao.count("auth/") + bao.count("sys/mounts") + bao.count("sys/config") + bao.count("cubbyhole/")
}

#[test]
fn vault_references_name_a_kv_mount_never_vaults_own_api() {
    let bao = bao();
    let config = "secrets: {}\nsecrets_manager: {backend: vault, vault_path: cronos-ai/production, vault_kv_version: 1}\n";
    // The red-team repro: an inherited whole value, and env-file lines, with KV v1 configured.
    for (inherited, line, mount) in [
        ("vault://auth/token/lookup-self#id", "", "auth"),
        ("", "X=vault://auth/token/lookup-self#policies", "auth"),
        ("", "X=vault://sys/mounts#secret/", "sys"),
        ("", "X=vault://sys/config/state/sanitized#storage", "sys"),
        ("", "X=vault://cubbyhole/mine#value", "cubbyhole"),
        ("", "X=vault://Identity/entity/name/x#id", "identity"),
    ] {
        for kv_version in ["1", "2", ""] {
            let before = system_reads(bao);
            let mut launch = launch()
                .file("v1.yaml", config)
                .env("CRONOS_SECRETS_CONFIG", "v1.yaml")
                .file(".env.production", &format!("{line}\n"))
                .args([
                    "run",
                    "--",
                    "sh",
                    "-c",
                    "echo \"APP_NAME=$APP_NAME X=$X\"; touch started",
                ]);
            if !inherited.is_empty() {
                launch = launch.env("APP_NAME", inherited);
            }
            if !kv_version.is_empty() {
                launch = launch.env("CRONOS_SECRETS_VAULT_KV_VERSION", kv_version);
            }
            let outcome = launch.run();
            let variable = if inherited.is_empty() {
                "X"
            } else {
                "APP_NAME"
            };
            outcome
                .assert_code(125)
                .assert_stderr_contains(variable)
                .assert_stderr_contains("is Vault's own API, not a KV secrets engine")
                .assert_stderr_contains("hint: a vault:// reference names a KV mount")
                .assert_no_leak(&[ROOT_TOKEN, "[\"root\"]"]);
            assert!(
                outcome
                    .stderr()
                    .to_lowercase()
                    .contains(&format!("\"{mount}/\"")),
                "{inherited}{line}: {}",
                outcome.stderr()
            );
            assert!(!launch.path("started").exists(), "{inherited}{line}: ran");
            assert_eq!(
                system_reads(bao),
                before,
                "{inherited}{line} (kv {kv_version}): a request was sent"
            );
        }
    }
    // Nor can the configured mount be one of them.
    launch()
        .env("CRONOS_SECRETS_VAULT_MOUNT_POINT", "auth")
        .file(".env.production", "X=secret://token/lookup-self#id\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("secrets_manager.vault_mount_point")
        .assert_stderr_contains("\"auth/\" is Vault's own API")
        .assert_no_leak(&[ROOT_TOKEN]);
}

#[test]
fn a_mount_that_is_not_kv_is_refused_by_name() {
    let bao = bao();
    let mounts = bao.run(&["secrets", "list"]);
    if !mounts.contains("transit/") {
        bao.run(&["secrets", "enable", "transit"]);
        bao.run(&["write", "-f", "transit/keys/app"]);
    }
    if !mounts.contains("totp/") {
        bao.run(&["secrets", "enable", "-path=totp", "totp"]);
    }
    for line in [
        "X=vault://transit/keys/app#type",
        "X=vault://totp/keys/app#key",
    ] {
        for kv_version in ["1", ""] {
            let mount = &line["X=vault://".len()..line.find("/keys").unwrap()];
            let raw_reads = bao.count(&format!("{mount}/keys"));
            let mut launch = launch()
                .file(".env.production", &format!("{line}\n"))
                .args(["run", "--", "touch", "started"]);
            if !kv_version.is_empty() {
                launch = launch.env("CRONOS_SECRETS_VAULT_KV_VERSION", kv_version);
            }
            let outcome = launch.run();
            outcome
                .assert_code(125)
                .assert_stderr_contains("X")
                .assert_stderr_contains(&format!(
                    "mount \"{mount}\" is a \"{mount}\" engine, not a KV secrets engine"
                ))
                .assert_stderr_contains("hint: point the reference at a KV mount")
                .assert_no_leak(&[ROOT_TOKEN]);
            assert!(!launch.path("started").exists(), "{line}: ran");
            assert_eq!(
                bao.count(&format!("{mount}/keys")),
                raw_reads,
                "{line} (kv {kv_version}): read raw"
            );
        }
    }
}

#[test]
fn one_read_per_path_and_no_mount_lookup_on_kv_v2() {
    let bao = bao();
    let many: Vec<(String, String)> = (0..100)
        .map(|i| (format!("k{i}"), format!("value-{i}")))
        .collect();
    let pairs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    bao.put("secret", "counts/many-keys", &pairs);
    for i in 0..20 {
        bao.put(
            "secret",
            &format!("counts/path-{i}"),
            &[("value", &format!("v{i}"))],
        );
    }
    let mut env_file = String::new();
    for i in 0..100 {
        env_file.push_str(&format!("K{i}=vault://secret/counts/many-keys#k{i}\n"));
    }
    for i in 0..20 {
        // Each path twice: the second reference must not cost a second read.
        env_file.push_str(&format!(
            "P{i}=secret://path-{i}\nQ{i}=\"x${{secret://path-{i}}}\"\n"
        ));
    }
    let before_reads = bao.count("secret/data/counts/");
    let before_lookups = bao.count("sys/internal/ui/mounts/secret");
    let outcome = launch()
        .env("CRONOS_SECRETS_VAULT_PATH", "counts")
        .file(".env.production", &env_file)
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["K99"], "value-99");
    assert_eq!(env["Q7"], "xv7");
    let reads = bao.count("secret/data/counts/") - before_reads;
    assert_eq!(
        reads, 21,
        "100 keys of one path = 1 read, plus 20 paths = 20 reads"
    );
    assert_eq!(
        bao.count("sys/internal/ui/mounts/secret") - before_lookups,
        0,
        "a KV v2 mount is read optimistically: no mount lookup"
    );
}

#[test]
fn missing_path_and_key_fail_fast_with_the_fix() {
    let bao = bao();
    let before = bao.count("secret/data/missing/");
    let outcome = launch()
        .file(".env.production", "A=vault://secret/missing/thing\n")
        .args(["run", "--", "sh", "-c", "echo STARTED"])
        .run();
    outcome
        .assert_code(125)
        .assert_stderr_contains("not found: secret/data/missing/thing")
        .assert_stderr_contains("store it with: bao kv put -mount=secret missing/thing value=");
    assert!(!outcome.stdout().contains("STARTED"));
    assert_eq!(
        bao.count("secret/data/missing/") - before,
        1,
        "a 404 is not retried"
    );

    bao.put(
        "secret",
        "missing/keyed",
        &[("user", "u"), ("pass", "planted-pass-value")],
    );
    launch()
        .file(
            ".env.production",
            "A=vault://secret/missing/keyed#password\n",
        )
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains(
            "secret/data/missing/keyed has no key \"password\" (keys: pass, user)",
        )
        .assert_no_leak(&["planted-pass-value"]);
}

#[test]
fn missing_required_secret_names_where_to_store_it() {
    let outcome = Launch::new()
        .env("VAULT_ADDR", &bao().address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .env("CRONOS_SECRETS_VAULT_PATH", "cronos-ai/nowhere")
        .args(["check"])
        .run();
    outcome
        .assert_code(1)
        .assert_stdout_contains("JWT secret not configured: set CRONOS_AI_JWT_SECRET (or JWT_SECRET), or store jwt_secret in the vault backend (not found: secret/data/cronos-ai/nowhere/jwt_secret)");
}

#[test]
fn denied_policy_says_which_capability_is_missing() {
    let bao = bao();
    bao.put("secret", "denied/jwt", &[("value", "planted-denied-value")]);
    let policy = bao.path("narrow.hcl");
    common::openbao::write_file(
        &policy,
        "path \"secret/data/other/*\" { capabilities = [\"read\"] }\n",
    );
    bao.run(&["policy", "write", "narrow", &policy.display().to_string()]);
    let token = bao.run(&["token", "create", "-policy=narrow", "-field=token"]);
    launch()
        .env("VAULT_TOKEN", &token)
        .file(".env.production", "A=vault://secret/denied/jwt\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains(
            "permission denied reading secret/data/denied/jwt (auth: token): the token's policies must grant \"read\" on that path",
        )
        .assert_no_leak(&["planted-denied-value", &token]);
}

#[test]
fn approle_login_revocation_and_stripped_credentials() {
    let bao = bao();
    bao.put("secret", "approle/jwt", &[("value", JWT_SECRET)]);
    let policy = bao.path("approle.hcl");
    common::openbao::write_file(
        &policy,
        "path \"secret/data/approle/*\" { capabilities = [\"read\"] }\n",
    );
    bao.run(&[
        "policy",
        "write",
        "approle-read",
        &policy.display().to_string(),
    ]);
    bao.run(&["auth", "enable", "approle"]);
    bao.run(&[
        "write",
        "auth/approle/role/cronos-ai",
        "token_policies=approle-read",
    ]);
    let role_id = bao.run(&[
        "read",
        "-field=role_id",
        "auth/approle/role/cronos-ai/role-id",
    ]);
    let secret_id = bao.run(&[
        "write",
        "-f",
        "-field=secret_id",
        "auth/approle/role/cronos-ai/secret-id",
    ]);
    let revocations = bao.count("auth/token/revoke-self");
    let outcome = launch()
        .remove_env("VAULT_TOKEN")
        .env("CRONOS_SECRETS_VAULT_AUTH__METHOD", "approle")
        .env("VAULT_ROLE_ID", &role_id)
        .env("VAULT_SECRET_ID", &secret_id)
        .env("RUST_LOG", "trace")
        .file(".env.production", "JWT=vault://secret/approle/jwt\n")
        .args(["run", "--revoke-token", "--", "env", "-0"])
        .run();
    outcome
        .assert_code(0)
        .assert_stderr_no_leak(&[JWT_SECRET, &secret_id]);
    let env = outcome.child_env();
    assert_eq!(env["JWT"], JWT_SECRET);
    for credential in [
        "VAULT_ROLE_ID",
        "VAULT_SECRET_ID",
        "CRONOS_SECRETS_VAULT_AUTH__METHOD",
    ] {
        assert!(
            !env.contains_key(credential),
            "{credential} reached the program"
        );
    }
    assert!(bao.count("auth/approle/login") >= 1);
    assert_eq!(
        bao.count("auth/token/revoke-self"),
        revocations + 1,
        "the login token was revoked"
    );

    // The same login from files, as a Kubernetes secret volume would provide them.
    let secret_id = bao.run(&[
        "write",
        "-f",
        "-field=secret_id",
        "auth/approle/role/cronos-ai/secret-id",
    ]);
    let from_files = launch()
        .remove_env("VAULT_TOKEN")
        .file("approle/role-id", &format!("{role_id}\n"))
        .file("approle/secret-id", &format!("{secret_id}\n"))
        .file(
            "approle.yaml",
            "secrets: {}\nsecrets_manager:\n  backend: vault\n  vault_auth:\n    method: approle\n    role_id_file: approle/role-id\n    secret_id_file: approle/secret-id\n",
        )
        .env("CRONOS_SECRETS_CONFIG", "approle.yaml")
        .file(".env.production", "JWT=vault://secret/approle/jwt\n")
        .args(["run", "--", "env", "-0"])
        .run();
    from_files.assert_code(0);
    assert_eq!(from_files.child_env()["JWT"], JWT_SECRET);

    launch()
        .remove_env("VAULT_TOKEN")
        .env("CRONOS_SECRETS_VAULT_AUTH__METHOD", "approle")
        .env("VAULT_ROLE_ID", &role_id)
        .env("VAULT_SECRET_ID", "not-the-secret-id")
        .file(
            ".env.production",
            "JWT=vault://secret/approle/jwt\nDB=vault://secret/approle/db\n",
        )
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("Vault authentication failed (approle at auth/approle)")
        .assert_stderr_contains("check VAULT_ROLE_ID / VAULT_SECRET_ID")
        // One failed login fails both reads; each names its own secret.
        .assert_stderr_contains("JWT: Vault authentication failed")
        .assert_stderr_contains("(reading secret/approle/jwt#value)")
        .assert_stderr_contains("DB: Vault authentication failed")
        .assert_stderr_contains("(reading secret/approle/db#value)");
}

#[test]
fn namespaces_are_sent_with_every_request() {
    let bao = bao();
    bao.run(&["namespace", "create", "team-a"]);
    bao.run(&[
        "secrets",
        "enable",
        "-namespace=team-a",
        "-path=secret",
        "kv-v2",
    ]);
    bao.run(&[
        "kv",
        "put",
        "-namespace=team-a",
        "-mount=secret",
        "ns/key",
        "value=in-team-a",
    ]);
    let outcome = launch()
        .env("VAULT_NAMESPACE", "team-a")
        .file(".env.production", "A=vault://secret/ns/key\n")
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["A"], "in-team-a");
    launch()
        .file(".env.production", "A=vault://secret/ns/key\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("not found: secret/data/ns/key");
}

#[test]
fn rate_limit_quota_429s_are_ridden_out() {
    let bao = bao();
    bao.run(&["secrets", "enable", "-path=throttled", "kv-v2"]);
    for i in 0..6 {
        bao.put(
            "throttled",
            &format!("s{i}"),
            &[("value", &format!("throttled-{i}"))],
        );
    }
    bao.run(&[
        "write",
        "sys/quotas/rate-limit/throttled",
        "path=throttled/",
        "rate=2",
        "interval=1s",
    ]);
    let env_file: String = (0..6)
        .map(|i| format!("S{i}=vault://throttled/s{i}\n"))
        .collect();
    let outcome = launch()
        .env("RUST_LOG", "cronos_secrets=debug")
        .file(".env.production", &env_file)
        .args(["run", "--timeout", "60s", "--", "env", "-0"])
        .run();
    outcome
        .assert_code(0)
        .assert_stderr_contains("vault asked to retry");
    let env = outcome.child_env();
    for i in 0..6 {
        assert_eq!(env[&format!("S{i}")], format!("throttled-{i}"));
    }
}

#[test]
fn server_stopped_mid_launch_fails_at_the_deadline_without_starting() {
    let dedicated = OpenBao::start(false);
    dedicated.run(&["secrets", "enable", "-path=slow", "kv-v2"]);
    for i in 0..4 {
        dedicated.put("slow", &format!("s{i}"), &[("value", "v")]);
    }
    // One read a second: the launch is still waiting for secrets when the server goes away.
    dedicated.run(&[
        "write",
        "sys/quotas/rate-limit/slow",
        "path=slow/",
        "rate=1",
        "interval=1s",
    ]);
    let env_file: String = (0..4)
        .map(|i| format!("S{i}=vault://slow/s{i}\n"))
        .collect();
    let launch = Launch::new()
        .env("VAULT_ADDR", &dedicated.address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .env("RUST_LOG", "cronos_secrets=debug")
        .file("none.yaml", "secrets: {}\n")
        .file(".env.production", &env_file)
        .args([
            "--config",
            "none.yaml",
            "run",
            "--timeout",
            "4s",
            "--",
            "sh",
            "-c",
            "echo STARTED",
        ]);
    let mut child = launch
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.contains("vault asked to retry") {
            break;
        }
        line.clear();
    }
    assert!(
        seen.contains("vault asked to retry"),
        "the launch never waited on the server:\n{seen}"
    );
    drop(dedicated); // stops the server while the launcher is backing off
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(125), "{seen}{rest}");
    assert!(!stdout.contains("STARTED"), "the program must not start");
    assert!(
        rest.contains("cannot reach Vault at http://127.0.0.1:"),
        "{rest}"
    );
    assert!(rest.contains("raise --timeout"), "{rest}");
}

#[test]
fn tls_uses_vault_cacert_and_names_it_on_failure() {
    let tls = OpenBao::start(true);
    tls.put("secret", "tls/key", &[("value", "over-tls")]);
    let ca = tls.ca_file.clone().unwrap();
    let base = || {
        Launch::new()
            .env("VAULT_ADDR", &tls.address)
            .env("VAULT_TOKEN", ROOT_TOKEN)
            .env("CRONOS_SECRETS_BACKEND", "vault")
            .file("none.yaml", "secrets: {}\n")
            .file(".env.production", "A=vault://secret/tls/key\n")
    };
    let trusted = base()
        .env("VAULT_CACERT", &ca.display().to_string())
        .args(["--config", "none.yaml", "run", "--", "env", "-0"])
        .run();
    trusted.assert_code(0);
    assert_eq!(trusted.child_env()["A"], "over-tls");
    let skipped = base()
        .env("VAULT_SKIP_VERIFY", "true")
        .args(["--config", "none.yaml", "run", "--", "env", "-0"])
        .run();
    skipped.assert_code(0).assert_stderr_contains(
        "VAULT_SKIP_VERIFY is set: Vault's TLS certificate is NOT verified",
    );
    assert_eq!(skipped.child_env()["A"], "over-tls");
    base()
        .args(["--config", "none.yaml", "run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains(&format!("TLS failure talking to {}/", tls.address))
        .assert_stderr_contains("no VAULT_CACERT")
        .assert_stderr_contains("hint: set VAULT_CACERT");
}

#[test]
fn get_and_set_keep_other_keys_and_read_from_stdin() {
    let bao = bao();
    bao.put(
        "secret",
        "rotate/jwt_secret",
        &[("value", "old-value"), ("note", "kept")],
    );
    let outcome = launch()
        .env("CRONOS_SECRETS_VAULT_PATH", "rotate")
        .args(["set", "jwt_secret"])
        .run_with_stdin(
            b"planted-new-jwt-value-0123456789abcdef
",
        );
    outcome
        .assert_code(0)
        .assert_stderr_contains("stored secret://jwt_secret (version 2)")
        .assert_no_leak(&["planted-new-jwt-value-0123456789abcdef"]);
    assert_eq!(
        bao.run(&[
            "kv",
            "get",
            "-mount=secret",
            "-field=value",
            "rotate/jwt_secret"
        ]),
        "planted-new-jwt-value-0123456789abcdef"
    );
    assert_eq!(
        bao.run(&[
            "kv",
            "get",
            "-mount=secret",
            "-field=note",
            "rotate/jwt_secret"
        ]),
        "kept"
    );
    let get = launch()
        .env("CRONOS_SECRETS_VAULT_PATH", "rotate")
        .args(["get", "jwt_secret"])
        .run();
    assert_eq!(
        get.assert_code(0).stdout(),
        "planted-new-jwt-value-0123456789abcdef"
    );
}

#[test]
fn token_from_the_vault_token_file_and_jitter() {
    let bao = bao();
    bao.put("secret", "tokenfile/a", &[("value", "via-token-file")]);
    let launch = launch()
        .remove_env("VAULT_TOKEN")
        .file("home/.vault-token", &format!("{ROOT_TOKEN}\n"));
    let home = launch.path("home");
    let outcome = launch
        .env("HOME", &home.display().to_string())
        .file(".env.production", "A=vault://secret/tokenfile/a\n")
        .args(["run", "--jitter", "200ms", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    assert_eq!(outcome.child_env()["A"], "via-token-file");
    launch_without_token()
        .file(".env.production", "A=vault://secret/tokenfile/a\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("Vault authentication failed: no token")
        .assert_stderr_contains("set VAULT_TOKEN");
}

fn launch_without_token() -> Launch {
    let launch = launch().remove_env("VAULT_TOKEN");
    let empty_home = launch.path("empty-home");
    launch.env("HOME", &empty_home.display().to_string())
}

#[test]
fn trace_logging_never_shows_values_or_the_token() {
    let bao = bao();
    bao.put("secret", "hygiene/a", &[("value", "planted-vault-value-1")]);
    let outcome = launch()
        .env("RUST_LOG", "trace")
        .file(".env.production", "A=vault://secret/hygiene/a\n")
        .args(["-vvv", "--log-format", "json", "check"])
        .run();
    outcome
        .assert_code(0)
        .assert_no_leak(&["planted-vault-value-1", ROOT_TOKEN]);
}

#[test]
fn references_cannot_climb_out_of_their_mount_or_vault_path() {
    let bao = bao();
    // A KV v1 mount: `kv/../auth/token/lookup-self` used to answer with the token's own data.
    if !bao.run(&["secrets", "list"]).contains("trav/") {
        bao.run(&["secrets", "enable", "-path=trav", "-version=1", "kv"]);
    }
    for (line, bad) in [
        (
            "X=vault://trav/../auth/token/lookup-self#id",
            "a \"..\" segment",
        ),
        (
            "X=secret://../../../../sys/wrapping/lookup",
            "a \"..\" segment",
        ),
        (
            "X=vault://secret/app/%2e%2e/%2E%2E/sys/health",
            "an encoded \"%2e\"",
        ),
        ("X=vault://secret/app%2F..%2Fx", "an encoded \"%2F\""),
        ("X=vault://secret/app/./x", "a \".\" segment"),
        ("X=vault://secret/app//x", "an empty segment"),
    ] {
        let lookups = bao.count("auth/token/lookup-self");
        let sys = bao.count("sys/wrapping") + bao.count("sys/health");
        let launch = launch()
            .env("CRONOS_SECRETS_VAULT_PATH", "cronos-ai/production")
            .file(".env.production", &format!("{line}\n"))
            .args(["run", "--", "touch", "started"]);
        let outcome = launch.run();
        outcome
            .assert_code(125)
            .assert_stderr_contains(&format!("the Vault path has {bad}"))
            .assert_stderr_contains("cannot leave its mount")
            .assert_no_leak(&[ROOT_TOKEN]);
        assert!(!launch.path("started").exists(), "{line}: the program ran");
        assert_eq!(bao.count("auth/token/lookup-self"), lookups, "{line}");
        assert_eq!(
            bao.count("sys/wrapping") + bao.count("sys/health"),
            sys,
            "{line}"
        );
    }
    // The configured prefix is checked the same way.
    launch()
        .env("CRONOS_SECRETS_VAULT_PATH", "cronos-ai/../../sys")
        .file(".env.production", "X=secret://jwt_secret\n")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("secrets_manager.vault_path")
        .assert_stderr_contains("the Vault path has a \"..\" segment");
}

#[test]
fn the_plan_shows_the_kv_path_each_reference_reads() {
    let reads = || bao().count("secret/data/cronos-ai/production/jwt_secret") + bao().count("kv/");
    let before = reads();
    let outcome = launch()
        .env("CRONOS_SECRETS_VAULT_PATH", "cronos-ai/production")
        .file(
            ".env.production",
            "A=secret://jwt_secret\nB=vault://kv/app#pw?version=3\n",
        )
        .args(["check", "--plan"])
        .run();
    outcome
        .assert_code(0)
        .assert_stdout_contains("secret/cronos-ai/production/jwt_secret#value")
        .assert_stdout_contains("kv/app#pw?version=3");
    assert_eq!(reads(), before, "a plan sends nothing");
}

/// A TCP relay to `target` on a free 127.0.0.1 port that counts the connections it accepts.
fn counting_relay(target: &str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let target = target.trim_start_matches("http://").to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = TcpStream::connect(&target) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
    (address, accepted)
}

#[test]
fn many_reads_share_at_most_the_concurrency_s_connections() {
    let bao = bao();
    let mut env_file = String::new();
    for index in 0..24 {
        let value = format!("pooled-value-{index:02}-0123456789abcdef");
        bao.put("secret", &format!("pool/s{index}"), &[("value", &value)]);
        env_file.push_str(&format!(
            "POOLED_{index}=vault://secret/pool/s{index}#value\n"
        ));
    }
    let before = bao.count("secret/data/pool/");
    let (relay, accepted) = counting_relay(&bao.address);
    let outcome = launch()
        .env("VAULT_ADDR", &relay)
        .file(".env.production", &env_file)
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    assert_eq!(env["POOLED_23"], "pooled-value-23-0123456789abcdef");
    let reads = bao.count("secret/data/pool/") - before;
    let connections = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(reads, 24, "one read per secret");
    assert!(
        (1..=16).contains(&connections),
        "24 reads at the default concurrency (16) opened {connections} connections"
    );
}
