//! Vault dynamic secrets (`vault-dynamic://NAME#FIELD`) against OpenBao's database secrets
//! engine connected to the suite's real PostgreSQL: per-launch database users, one lease per
//! launch (counted in OpenBao's audit log), `check`, `--revoke-token`, and in watch mode lease
//! renewal, new credentials at the max TTL, and revocation on exit.

mod common;
mod watch_support;

use std::sync::OnceLock;

use common::openbao::{OpenBao, ROOT_TOKEN, write_file};
use common::postgres::{self, Postgres};
use common::*;
use nix::sys::signal::Signal;
use watch_support::{Relay, Running};

/// The statements that make a user: the engine's own defaults revoke it (drop the role).
const CREATION: &str = "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}'; GRANT CONNECT ON DATABASE cronos_ai TO \"{{name}}\";";

struct Setup {
    bao: OpenBao,
    pg: &'static Postgres,
}

/// OpenBao with the database engine at `database/`, connected to the shared PostgreSQL as its
/// superuser over TCP (password authentication). Each test makes its own role ([`role`]), so
/// that request counts in the audit log are its own.
fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let bao = OpenBao::start(false);
        let pg = postgres::shared();
        bao.run(&["secrets", "enable", "database"]);
        // The admin password from a file (`@file`), not from bao's argv.
        let password_file = bao.path("pg-admin-password");
        write_file(&password_file, &pg.admin_password);
        bao.run(&[
            "write",
            "database/config/cronos",
            "plugin_name=postgresql-database-plugin",
            "allowed_roles=*",
            &format!(
                "connection_url=postgresql://{{{{username}}}}:{{{{password}}}}@{}:{}/{}?sslmode=require",
                pg.host, pg.port, pg.dbname
            ),
            &format!("username={}", pg.admin_user),
            &format!("password=@{}", password_file.display()),
        ]);
        Setup { bao, pg }
    })
}

/// A role of the engine: users that last `ttl`, renewable up to `max_ttl`; returns its name.
fn role(name: &str, ttl: &str, max_ttl: &str) -> String {
    setup().bao.run(&[
        "write",
        &format!("database/roles/{name}"),
        "db_name=cronos",
        CREATION,
        &format!("default_ttl={ttl}"),
        &format!("max_ttl={max_ttl}"),
    ]);
    name.to_string()
}

/// A role whose users last an hour.
fn hour_role(name: &str) -> String {
    role(name, "1h", "24h")
}

fn config(role: &str) -> String {
    format!(
        "secrets: {{}}\nsecrets_manager:\n  backend: vault\ndynamic:\n  app-db:\n    path: database/creds/{role}\n    fields: [username, password]\n"
    )
}

/// DB_USER and DB_PASSWORD from `app-db`, which reads `role`.
fn launch(role: &str) -> Launch {
    Launch::new()
        .env("VAULT_ADDR", &setup().bao.address)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .file("config.yaml", &config(role))
        .env("CRONOS_SECRETS_CONFIG", "config.yaml")
        .file(
            ".env.production",
            "DB_USER=vault-dynamic://app-db#username\nDB_PASSWORD=vault-dynamic://app-db#password\n",
        )
}

fn creds_reads(role: &str) -> usize {
    let path = format!("database/creds/{role}");
    setup()
        .bao
        .requests()
        .iter()
        .filter(|(_, request)| *request == path)
        .count()
}

/// The user names and passwords the engine created for `role`, from PostgreSQL's statement log.
fn made_logins(role: &str) -> Vec<(String, String)> {
    let log = setup().pg.log_text();
    log.lines()
        .filter_map(|line| line.split_once("CREATE ROLE \"").map(|(_, rest)| rest))
        .filter_map(|rest| {
            let (user, rest) = rest.split_once('"')?;
            let (_, rest) = rest.split_once("PASSWORD '")?;
            let (password, _) = rest.split_once('\'')?;
            Some((user.to_string(), password.to_string()))
        })
        .filter(|(user, _)| user.contains(role))
        .collect()
}

fn role_exists(user: &str) -> bool {
    let count = setup().pg.admin_sql_in(
        "postgres",
        &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{user}'"),
    );
    count == "1"
}

/// The login a program got: (user, password).
fn login_of(outcome: &Outcome) -> (String, String) {
    let env = outcome.child_env();
    (env["DB_USER"].clone(), env["DB_PASSWORD"].clone())
}

#[test]
fn each_launch_gets_its_own_database_login_from_one_lease() {
    let app = hour_role("each-launch");
    let before = creds_reads(&app);
    let first = launch(&app)
        .env("RUST_LOG", "trace")
        .args(["run", "--", "env", "-0"])
        .run();
    first.assert_code(0);
    let (user, password) = login_of(&first);
    assert!(
        setup().pg.login_ok(&user, &password),
        "{user} cannot log in"
    );
    // Both fields, two variables: one request, so one lease and one user.
    assert_eq!(creds_reads(&app), before + 1);
    first.assert_stderr_no_leak(&[&password, &user]);

    let second = launch(&app).args(["run", "--", "env", "-0"]).run();
    second.assert_code(0);
    let (other_user, other_password) = login_of(&second);
    assert_ne!(user, other_user, "two launches share a database user");
    assert!(setup().pg.login_ok(&other_user, &other_password));
    assert_eq!(creds_reads(&app), before + 2);
}

#[test]
fn one_value_joining_both_fields_still_costs_one_lease() {
    let app = hour_role("joined");
    let before = creds_reads(&app);
    let outcome = launch(&app)
        .file(
            ".env.production",
            "DATABASE_URL=postgresql://${vault-dynamic://app-db#username}:${vault-dynamic://app-db#password}@db/app\nDB_USER=vault-dynamic://app-db#username\n",
        )
        .args(["run", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let env = outcome.child_env();
    let user = &env["DB_USER"];
    assert!(env["DATABASE_URL"].starts_with(&format!("postgresql://{user}:")));
    assert_eq!(creds_reads(&app), before + 1);
}

#[test]
fn an_undeclared_dynamic_reference_is_refused_by_name() {
    let app = hour_role("refused");
    let from_file = launch(&app)
        .file(
            ".env.production",
            "DB_USER=vault-dynamic://app-db#username\nOTHER=vault-dynamic://reporting-db#password\n",
        )
        .args(["run", "--", "env", "-0"])
        .run();
    from_file
        .assert_code(125)
        .assert_stderr_contains(".env.production:2: OTHER")
        .assert_stderr_contains("\"reporting-db\", which the config does not declare")
        .assert_stderr_contains("hint:");
    let inherited = launch(&app)
        .env(
            "REPORTING_PASSWORD",
            "vault-dynamic://reporting-db#password",
        )
        .args(["run", "--", "env", "-0"])
        .run();
    inherited
        .assert_code(125)
        .assert_stderr_contains("environment variable REPORTING_PASSWORD")
        .assert_stderr_contains("\"reporting-db\"");
    let field = launch(&app)
        .file(".env.production", "DB_ROLE=vault-dynamic://app-db#role\n")
        .args(["run", "--", "env", "-0"])
        .run();
    field
        .assert_code(125)
        .assert_stderr_contains("declares no field \"role\"")
        .assert_stderr_contains("its fields are username, password");
    // Nothing was read for any of them: no user was made.
    assert_eq!(creds_reads(&app), 0);
}

#[test]
fn revoke_token_leaves_the_lease_whose_parent_the_login_token_is() {
    let app = hour_role("login-parent");
    let bao = &setup().bao;
    let policy = bao.path("dynamic.hcl");
    write_file(
        &policy,
        &format!("path \"database/creds/{app}\" {{ capabilities = [\"read\"] }}\n"),
    );
    bao.run(&[
        "policy",
        "write",
        "dynamic-read",
        &policy.display().to_string(),
    ]);
    bao.run(&["auth", "enable", "approle"]);
    bao.run(&[
        "write",
        "auth/approle/role/app",
        "token_policies=dynamic-read",
        "token_ttl=1h",
    ]);
    let role_id = bao.run(&["read", "-field=role_id", "auth/approle/role/app/role-id"]);
    let secret_id = bao.run(&[
        "write",
        "-f",
        "-field=secret_id",
        "auth/approle/role/app/secret-id",
    ]);
    let outcome = launch(&app)
        .remove_env("VAULT_TOKEN")
        .env("CRONOS_SECRETS_VAULT_AUTH__METHOD", "approle")
        .env("VAULT_ROLE_ID", &role_id)
        .env("VAULT_SECRET_ID", &secret_id)
        .env("RUST_LOG", "debug")
        .args(["run", "--revoke-token", "--", "env", "-0"])
        .run();
    outcome.assert_code(0);
    let (user, password) = login_of(&outcome);
    // Revoking the token would have revoked the lease, and the user with it.
    assert!(
        role_exists(&user),
        "{user} was dropped with the login token"
    );
    assert!(setup().pg.login_ok(&user, &password));
    outcome
        .assert_stderr_contains("not revoked: it is the parent of a dynamic secret's lease")
        .assert_stderr_no_leak(&[&password, &secret_id]);
}

#[test]
fn check_shows_the_lease_and_plan_reads_nothing() {
    let app = hour_role("checked");
    let revocations = setup().bao.count("sys/leases/revoke");
    let checked = launch(&app).args(["check"]).run();
    checked.assert_code(0).assert_stdout_contains(&format!(
        "database/creds/{app}#password (lease 1h, renewable)"
    ));
    let json = launch(&app).args(["check", "--format", "json"]).run();
    json.assert_code(0);
    let rows: serde_json::Value = serde_json::from_str(&json.stdout()).expect("json");
    let row = rows
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["variable"] == "DB_PASSWORD"))
        .expect("a DB_PASSWORD row")
        .clone();
    assert_eq!(row["lease"]["duration_s"], 3600);
    assert_eq!(row["lease"]["renewable"], true);
    assert_eq!(creds_reads(&app), 2);
    // Never the values: the logins `check` made (PostgreSQL logged their CREATE ROLE) are
    // not shown.
    let made = made_logins(&app);
    assert_eq!(made.len(), 2, "{made:?}");
    for (user, password) in &made {
        checked.assert_no_leak(&[user, password]);
        json.assert_no_leak(&[user, password]);
        // Nothing uses what check read: its leases are revoked, its users dropped.
        assert!(!role_exists(user), "check left {user} behind");
    }
    assert!(setup().bao.count("sys/leases/revoke") >= revocations + 2);

    let planned = launch(&app).args(["check", "--plan"]).run();
    planned
        .assert_code(0)
        .assert_stdout_contains(&format!("vault database/creds/{app}#username"))
        .assert_stdout_contains("makes new credentials (the database engine creates a user");
    assert_eq!(creds_reads(&app), 2, "check --plan read a dynamic secret");
}

/// `run --watch` of the python program of `watch_support`, which notes each start with
/// APP_SECRET: here `USER:PASSWORD` of `app-db`.
fn watching(role: &str) -> Running {
    watching_through(role, &setup().bao.address)
}

/// [`watching`], reaching OpenBao at `address` (a relay that can fail), with a 1s timeout.
fn watching_through(role: &str, address: &str) -> Running {
    let launch = launch(role)
        .env("VAULT_ADDR", address)
        .file(
            ".env.production",
            "APP_SECRET=${vault-dynamic://app-db#username}:${vault-dynamic://app-db#password}\n",
        )
        .env("RUST_LOG", "trace")
        .args([
            "run",
            "--watch",
            "--interval",
            "300ms",
            "--debounce",
            "200ms",
            "--timeout",
            "1s",
            "--",
        ]);
    Running::start(launch, "plain", &[])
}

fn login(start: &str) -> (String, String) {
    let (user, password) = start.split_once(':').expect("USER:PASSWORD");
    (user.to_string(), password.to_string())
}

fn lease_requests(what: &str) -> usize {
    setup().bao.count(&format!("sys/leases/{what}"))
}

fn assert_no_credential_in(running: &Running) {
    let stderr = running.stderr();
    for start in running.starts() {
        let (user, password) = login(&start);
        assert!(
            !stderr.contains(&password),
            "the launcher logged a password"
        );
        assert!(!stderr.contains(&user), "the launcher logged a user name");
    }
}

#[test]
fn watch_renews_a_short_lease_without_restarting() {
    let short = role("short-lived", "3s", "1m");
    let renewals = lease_requests("renew");
    let running = watching(&short);
    running.wait_for_starts(1);
    // 3s leases, renewed at 2s: two renewals take about 4s; the lease would have ended at 3s.
    running.wait_for("two lease renewals", |running| {
        running.stderr().matches("renewed the lease").count() >= 2
    });
    assert!(
        lease_requests("renew") >= renewals + 2,
        "the audit log shows no renewals"
    );
    let (user, password) = login(&running.starts()[0]);
    assert!(
        setup().pg.login_ok(&user, &password),
        "the renewed login fails"
    );
    assert_eq!(running.starts().len(), 1, "a renewal restarted the program");
    assert_eq!(creds_reads(&short), 1);
    assert_no_credential_in(&running);
}

#[test]
fn at_the_max_ttl_the_program_restarts_with_new_credentials() {
    let capped = role("capped", "2s", "5s");
    let running = watching(&capped);
    running.wait_for_starts(2);
    let starts = running.starts();
    let (old_user, _) = login(&starts[0]);
    let (new_user, new_password) = login(&starts[1]);
    assert_ne!(old_user, new_user);
    assert!(
        setup().pg.login_ok(&new_user, &new_password),
        "the new login fails"
    );
    // The old lease ends at its max TTL, and the engine drops its user.
    running.wait_for("the old user to be dropped", |_| !role_exists(&old_user));
    assert!(role_exists(&new_user));
    assert_no_credential_in(&running);
}

/// `render --watch` (the sidecar) keeps the lease as `run --watch` does: at the max TTL the
/// file is rendered again with new credentials that work, and the old user goes.
#[test]
fn the_sidecar_renders_new_credentials_at_the_max_ttl() {
    let capped = role("sidecar-capped", "2s", "5s");
    let launch = launch(&capped)
        .file(
            "app.tmpl",
            "user=${vault-dynamic://app-db#username}\npassword=${vault-dynamic://app-db#password}\n",
        )
        .env("RUST_LOG", "trace");
    let output = launch.path("app.conf");
    let ready = launch.path("ready");
    let launch = launch.args([
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
    let rendered = |text: &str| -> (String, String) {
        let field = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("{name}=")))
                .unwrap_or_default()
                .to_string()
        };
        (field("user"), field("password"))
    };
    running.wait_for("the first render", |_| ready.exists());
    let (old_user, old_password) = rendered(&std::fs::read_to_string(&output).unwrap());
    assert!(setup().pg.login_ok(&old_user, &old_password));
    running.wait_for("a render with new credentials", |_| {
        let (user, _) = rendered(&std::fs::read_to_string(&output).unwrap_or_default());
        !user.is_empty() && user != old_user
    });
    let (new_user, new_password) = rendered(&std::fs::read_to_string(&output).unwrap());
    assert!(
        setup().pg.login_ok(&new_user, &new_password),
        "the re-rendered login fails"
    );
    running.wait_for("the old user to be dropped", |_| !role_exists(&old_user));
    running.signal(Signal::SIGTERM);
    running.wait_exit();
    assert!(!role_exists(&new_user), "the sidecar's lease outlived it");
    let stderr = running.stderr();
    for credential in [&old_user, &old_password, &new_user, &new_password] {
        assert!(
            !stderr.contains(credential.as_str()),
            "a credential reached the log"
        );
    }
}

#[test]
fn the_watcher_revokes_its_lease_when_it_exits() {
    let app = hour_role("watch-exit");
    let mut running = watching(&app);
    running.wait_for_starts(1);
    let (user, password) = login(&running.starts()[0]);
    assert!(setup().pg.login_ok(&user, &password));
    running.signal(Signal::SIGTERM);
    running.wait_exit();
    assert!(!role_exists(&user), "{user} outlived the launcher");
    assert!(
        running
            .stderr()
            .contains("revoked the lease of a dynamic secret")
    );
    assert_no_credential_in(&running);
}

/// `policy --for watch` of a deployment with a dynamic secret, applied to a token without
/// Vault's default policy: the watcher reads, renews and at exit revokes with it alone.
#[test]
fn the_watch_policy_reads_renews_and_revokes_a_dynamic_lease() {
    let short = role("policy-watch", "3s", "1m");
    let bao = &setup().bao;
    let printed = launch(&short)
        .file(
            ".env.production",
            "APP_SECRET=${vault-dynamic://app-db#username}:${vault-dynamic://app-db#password}\n",
        )
        .args(["policy", "--for", "watch"])
        .run();
    printed.assert_code(0);
    let hcl = printed.stdout();
    for granted in [
        format!("path \"database/creds/{short}\""),
        "path \"sys/leases/renew\"".to_string(),
        "path \"sys/leases/revoke\"".to_string(),
    ] {
        assert!(hcl.contains(&granted), "{granted} missing from:\n{hcl}");
    }
    assert!(
        !hcl.contains("secret/data/app-db"),
        "a dynamic secret was granted as a KV path:\n{hcl}"
    );
    let token = bao.token_with_policy("dynamic-watch", &hcl);
    let renewals = lease_requests("renew");
    let mut running = Running::start(
        launch(&short)
            .env("VAULT_TOKEN", &token)
            .env("RUST_LOG", "trace")
            .file(
                ".env.production",
                "APP_SECRET=${vault-dynamic://app-db#username}:${vault-dynamic://app-db#password}\n",
            )
            .args(["run", "--watch", "--interval", "300ms", "--timeout", "2s", "--"]),
        "plain",
        &[],
    );
    running.wait_for_starts(1);
    running.wait_for("a lease renewal", |running| {
        running.stderr().contains("renewed the lease")
    });
    assert!(lease_requests("renew") > renewals);
    let (user, _) = login(&running.starts()[0]);
    running.signal(Signal::SIGTERM);
    running.wait_exit();
    assert!(
        !role_exists(&user),
        "{user} outlived the launcher: revoke was denied"
    );
    assert!(
        !running.stderr().contains("permission denied"),
        "the policy denied a request: {}",
        running.stderr()
    );
    assert_no_credential_in(&running);
}

#[test]
fn an_outage_keeps_the_program_and_says_how_long_its_login_lasts() {
    let role = role("outage", "9s", "1m");
    let relay = Relay::start(&setup().bao.address);
    let mut running = watching_through(&role, &relay.address);
    running.wait_for_starts(1);
    relay.set_down(true);
    // The renewal at 6s fails: the program keeps its login, and the log says for how long.
    running.wait_for("a failed renewal", |running| {
        running.stderr().contains("cannot renew the lease")
    });
    assert!(running.is_running());
    assert_eq!(running.starts().len(), 1);
    let stderr = running.stderr();
    let line = stderr
        .lines()
        .find(|line| line.contains("cannot renew the lease"))
        .expect("the failed renewal");
    assert!(line.contains("expires_in_s="), "{line}");
    assert!(
        line.contains("keeps its credentials until they expire"),
        "{line}"
    );
    assert_no_credential_in(&running);
}

#[test]
fn a_declaration_must_name_an_engine_endpoint() {
    for (declaration, expected) in [
        ("    path: auth/token/create\n", "is Vault's own API"),
        ("    path: database/../sys/leases\n", "\"..\" segment"),
        (
            "    path: database/creds/app\n    ttl: 1h\n",
            "unknown key \"ttl\"",
        ),
        ("    fields: [username]\n", "no path"),
    ] {
        let outcome = launch("unused")
            .file(
                "config.yaml",
                &format!("secrets: {{}}\ndynamic:\n  app-db:\n{declaration}"),
            )
            .args(["run", "--", "true"])
            .run();
        outcome
            .assert_code(125)
            .assert_stderr_contains("config.yaml:")
            .assert_stderr_contains("dynamic.app-db")
            .assert_stderr_contains(expected)
            .assert_stderr_contains("hint:");
    }
}
