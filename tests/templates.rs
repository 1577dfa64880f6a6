//! The shipped templates/ work with this tool, with the env backend (no server needed).

mod common;

use std::path::PathBuf;

use common::tools::*;
use common::*;

fn shipped(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    path.to_string_lossy().into_owned()
}

#[test]
fn config_template_renders_a_config_this_tool_and_the_app_can_read() {
    let launch = Launch::with_required()
        .env("VAULT_ADDR", "https://vault.example.com:8200")
        .env("CRONOS_AI_DB_HOST", "db.internal")
        .args([
            "--no-env-file",
            "render",
            &shipped("templates/cronos_ai.production.yaml"),
            "-o",
            "cronos_ai.production.yaml",
        ]);
    launch
        .run()
        .assert_code(0)
        .assert_no_leak(&[DB_PASSWORD, API_KEY]);
    let rendered = launch.path("cronos_ai.production.yaml");
    assert_eq!(mode(&rendered), 0o600);
    let config = &yaml_documents(&rendered)[0];
    let manager = &config["secrets_manager"];
    assert_eq!(manager["vault_addr"], "https://vault.example.com:8200");
    assert_eq!(
        manager["vault_token"], "${VAULT_TOKEN}",
        "the token is never written"
    );
    assert_eq!(manager["vault_path"], "cronos-ai/production");
    assert_eq!(config["database"]["host"], "db.internal");
    assert_eq!(config["database"]["port"], 5432);
    assert_eq!(config["database"]["password"], DB_PASSWORD);
    assert_eq!(config["security"]["api_key"], API_KEY);

    // The rendered file is a config for cronos-secrets itself: ${VAULT_TOKEN} is expanded
    // from the environment when it is loaded.
    let plan = Launch::new()
        .env("VAULT_TOKEN", "hvs.planted-token")
        .plan_with_config(&read(&rendered));
    let row = plan.assert_code(0).row("CRONOS_AI_DB_PASSWORD");
    assert!(
        row.contains("-> vault ") && row.contains("database_password"),
        "{row}"
    );
}

#[test]
fn env_template_maps_every_required_secret_to_the_backend() {
    // With Vault configured, each entry is planned as a read of the guide's Vault path.
    let plan = Launch::new()
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .env("VAULT_ADDR", "https://vault.example.com")
        .args([
            "--env-file",
            &shipped("templates/env.production"),
            "check",
            "--plan",
        ])
        .run();
    plan.assert_code(0);
    for (variable, name) in [
        ("CRONOS_AI_DB_PASSWORD", "database_password"),
        ("CRONOS_AI_REDIS_PASSWORD", "redis_password"),
        ("CRONOS_AI_JWT_SECRET", "jwt_secret"),
        ("CRONOS_AI_ENCRYPTION_KEY", "encryption_key"),
        ("CRONOS_AI_API_KEY", "api_key"),
    ] {
        let row = plan.row(variable);
        assert!(row.contains("-> vault ") && row.contains(name), "{row}");
    }
    // With the env backend, the same file resolves from the environment and exports exactly.
    let launch = Launch::with_required().args([
        "--env-file",
        &shipped("templates/env.production"),
        "--override",
        "export",
        "--format",
        "json",
        "-o",
        "out.json",
    ]);
    launch.run().assert_code(0);
    let exported: serde_json::Value =
        serde_json::from_str(&read(&launch.path("out.json"))).unwrap();
    assert_eq!(exported["CRONOS_AI_JWT_SECRET"], JWT_SECRET);
    assert_eq!(exported["VAULT_ADDR"], "https://vault.example.com");
}

#[test]
fn kubernetes_secret_template_renders_a_valid_secret() {
    let launch = Launch::with_required().args([
        "--no-env-file",
        "render",
        &shipped("templates/kubernetes/secret.yaml"),
        "-o",
        "secret.yaml",
    ]);
    launch.run().assert_code(0);
    let rendered = launch.path("secret.yaml");
    kubernetes_validate(&[&rendered]);
    let secret = &yaml_documents(&rendered)[0];
    assert_eq!(secret["metadata"]["name"], "cronos-ai-secrets");
    assert_eq!(secret["stringData"]["database-password"], DB_PASSWORD);
    assert_eq!(secret["stringData"]["encryption-key"], ENCRYPTION_KEY);
}
