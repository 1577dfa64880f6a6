//! The config file: discovery, `${VAR}` expansion, overrides, the `secrets:` table, and typos.

mod common;

use common::*;

const GUIDE_VAULT_CONFIG: &str = r#"
database:
  host: localhost
secrets_manager:
  enabled: true
  backend: "vault"
  vault_addr: "${VAULT_ADDR}"
  vault_token: "${VAULT_TOKEN}"
  vault_mount_point: "secret"
  vault_path: "cronos-ai/production"
logging:
  level: INFO
"#;

#[test]
fn guide_env_config_runs_with_environment_variables() {
    Launch::with_required()
        .file(
            "config/cronos_ai.production.yaml",
            "secrets_manager:\n  enabled: false  # Use environment variables directly\n",
        )
        .args(["run", "--", "true"])
        .run()
        .assert_code(0);
}

#[test]
fn unknown_key_suggests_the_nearest() {
    Launch::with_required()
        .file(
            "c.yaml",
            "secrets_manager:\n  enabled: false\n  backnd: vault\n",
        )
        .args(["--config", "c.yaml", "check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("c.yaml:3: secrets_manager.backnd: unknown key \"backnd\"")
        .assert_stderr_contains("did you mean \"backend\"?");
    Launch::with_required()
        .file("c.yaml", "secrets:\n  jwt_secret:\n    min_lenght: 32\n")
        .args(["--config", "c.yaml", "check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("secrets.jwt_secret.min_lenght: unknown key")
        .assert_stderr_contains("did you mean \"min_length\"?");
}

#[test]
fn near_miss_top_level_key_is_an_error_but_application_keys_are_ignored() {
    Launch::with_required()
        .file(
            "c.yaml",
            "database:\n  pool: 5\nsecret_manager:\n  backend: vault\n",
        )
        .args(["--config", "c.yaml", "run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains(
            "c.yaml:3: secret_manager: unknown top-level key \"secret_manager\"",
        )
        .assert_stderr_contains("did you mean \"secrets_manager\"?");
}

#[test]
fn unset_variable_in_config_names_file_key_and_variable() {
    Launch::with_required()
        .file("config/cronos_ai.production.yaml", GUIDE_VAULT_CONFIG)
        .args(["check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("config/cronos_ai.production.yaml:7: secrets_manager.vault_addr: variable VAULT_ADDR is not set");
}

#[test]
#[cfg(not(feature = "azure"))]
fn selecting_a_backend_not_built_yet_is_a_clear_error() {
    Launch::with_required()
        .remove_env("CRONOS_AI_API_KEY")
        .env("CRONOS_SECRETS_BACKEND", "azure_key_vault")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("the azure_key_vault backend is not available in this build");
}

#[test]
#[cfg(feature = "azure")]
fn azure_key_vault_without_a_vault_url_says_where_to_set_it() {
    Launch::with_required()
        .remove_env("CRONOS_AI_API_KEY")
        .env("CRONOS_SECRETS_BACKEND", "azure_key_vault")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("secret://api_key: no Key Vault is configured")
        .assert_stderr_contains("AZURE_KEY_VAULT_URL");
}

#[test]
fn unknown_backend_and_bad_types_are_errors() {
    Launch::with_required()
        .file(
            "c.yaml",
            "secrets_manager:\n  enabled: true\n  backend: vualt\n",
        )
        .args(["--config", "c.yaml", "check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("unknown backend (the value is not shown")
        .assert_stderr_contains("did you mean \"vault\"?");
    Launch::with_required()
        .file("c.yaml", "secrets_manager:\n  enabled: maybe\n")
        .args(["--config", "c.yaml", "check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("c.yaml:2: secrets_manager.enabled: expected true or false");
    Launch::with_required()
        .file("c.yaml", "secrets_manager: [1, 2\n")
        .args(["--config", "c.yaml", "check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("c.yaml: not valid YAML");
    Launch::with_required()
        .args(["--config", "nope.yaml", "check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("nope.yaml: cannot read the config file: no such file");
}

#[test]
fn environment_overrides_beat_the_file_and_typos_are_caught() {
    // The file says vault; the override says env, so no Vault server is needed.
    Launch::with_required()
        .env("VAULT_ADDR", "http://127.0.0.1:1")
        .env("VAULT_TOKEN", "t")
        .env("CRONOS_SECRETS_BACKEND", "env")
        .file("config/cronos_ai.production.yaml", GUIDE_VAULT_CONFIG)
        .args(["run", "--", "true"])
        .run()
        .assert_code(0);
    Launch::with_required()
        .env("CRONOS_SECRETS_BAKCEND", "vault")
        .args(["run", "--", "true"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("CRONOS_SECRETS_BAKCEND: not a setting of cronos-secrets")
        .assert_stderr_contains("did you mean CRONOS_SECRETS_BACKEND?");
    Launch::with_required()
        .env("CRONOS_SECRETS_ENABLED", "maybe")
        .args(["check"])
        .run()
        .assert_code(125)
        .assert_stderr_contains("CRONOS_SECRETS_ENABLED: expected true or false");
}

#[test]
fn config_found_through_cronos_secrets_config() {
    Launch::new()
        .file("elsewhere/c.yaml", "secrets: {}\n")
        .env("CRONOS_SECRETS_CONFIG", "elsewhere/c.yaml")
        .args(["run", "--", "true"])
        .run()
        .assert_code(0);
}

#[test]
fn secrets_table_replaces_the_defaults() {
    let config = "secrets:\n  stripe_key:\n    env: STRIPE_KEY\n    aliases: [STRIPE_API_KEY]\n    min_length: 20\n    rotate_every: 30d\n    description: Stripe key\n  optional_one:\n    optional: true\n";
    let launch = Launch::new().file("c.yaml", config);
    let missing = Outcome {
        output: launch
            .command()
            .args(["--config", "c.yaml", "run", "--", "true"])
            .output()
            .unwrap(),
    };
    missing
        .assert_code(125)
        .assert_stderr_contains("Stripe key not configured: set STRIPE_KEY (or STRIPE_API_KEY)");
    assert!(
        !missing.stderr().contains("Database password"),
        "the guide's table is replaced"
    );
    let given = Outcome {
        output: launch
            .command()
            .env("STRIPE_API_KEY", "sk_live_0123456789abcdefghij")
            .args(["--config", "c.yaml", "run", "--", "env", "-0"])
            .output()
            .unwrap(),
    };
    given.assert_code(0);
    assert_eq!(
        given.child_env()["STRIPE_KEY"],
        "sk_live_0123456789abcdefghij"
    );
}

/// `rotation:` is ours: an admin password typed into it is refused without being echoed, and
/// its keys and values are checked like the rest.
#[test]
fn rotation_section_refuses_literal_passwords_and_typos() {
    let literal = "Hunter2-the-admin-password";
    let refused = Launch::with_required()
        .file(
            "c.yaml",
            &format!("rotation:\n  database:\n    admin_password: {literal}\n"),
        )
        .args(["--config", "c.yaml", "check"])
        .run();
    refused
        .assert_code(125)
        .assert_stderr_contains("c.yaml:3: rotation.database.admin_password")
        .assert_stderr_contains("must be a reference")
        .assert_stderr_contains("secret://postgres_admin_password");
    assert!(
        !refused.stderr().contains(literal),
        "the literal is not echoed"
    );
    for (text, expected) in [
        (
            "rotation:\n  redis:\n    admin_password: env://A\n    usr: cronos\n",
            "did you mean \"user\"?",
        ),
        (
            "rotation:\n  database:\n    admin_password: env://A\n    strategy: blue-green\n",
            "expected single (one role, the guide's recipe) or alternating",
        ),
        (
            "rotation:\n  database:\n    admin_password: env://A\n    sslmode: verify-ca\n",
            "unsupported sslmode \"verify-ca\"",
        ),
        ("rotation:\n  redis: {}\n", "admin_password: is required"),
        ("rotations:\n  redis: {}\n", "did you mean \"rotation\"?"),
    ] {
        Launch::with_required()
            .file("c.yaml", text)
            .args(["--config", "c.yaml", "check"])
            .run()
            .assert_code(125)
            .assert_stderr_contains(expected);
    }
}
