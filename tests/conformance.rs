//! The contract every backend keeps, checked the same way on each (in the spirit of teller's
//! provider suite): exact bytes, `#KEY` of structured secrets, a missing secret named with a
//! hint, no value in any log at trace level, and `check --plan` naming a location: env,
//! file, Vault (OpenBao), AWS (moto) and Azure Key Vault (the in-repo fake). A new backend
//! joins by implementing [`Fixture`].

mod common;

use std::sync::OnceLock;

use common::openbao::{OpenBao, ROOT_TOKEN};
use common::*;

/// A value that trips every quoting and expansion rule on its way to the program.
const TRICKY: &str = "välue 'single' \"double\" $HOME ${X} `tick` # = \\ 🔑 end";
const FIELD_VALUE: &str = "planted-field-value-4Xy8";
const OTHER_FIELD: &str = "planted-sibling-value-9Qw2";

/// One backend, as the suite sees it.
trait Fixture {
    fn name(&self) -> &'static str;
    /// A launch whose configured backend is this one, with no required secrets.
    fn launch(&self) -> Launch;
    /// Stores `value` as `name`; the reference that reads it.
    fn plant(&self, launch: Launch, name: &str, value: &str) -> (Launch, String);
    /// Stores fields `password` and `user`; the reference without `#KEY`, or `None` when the
    /// backend has no structured secrets.
    fn plant_fields(&self, launch: Launch, name: &str) -> Option<(Launch, String)>;
    /// A reference to nothing.
    fn missing(&self) -> String;
}

struct EnvFixture;

impl Fixture for EnvFixture {
    fn name(&self) -> &'static str {
        "env"
    }
    fn launch(&self) -> Launch {
        Launch::new()
            .file("c.yaml", "secrets: {}\n")
            .env("CRONOS_SECRETS_CONFIG", "c.yaml")
    }
    fn plant(&self, launch: Launch, name: &str, value: &str) -> (Launch, String) {
        (
            launch.env(&name.to_ascii_uppercase(), value),
            format!("secret://{name}"),
        )
    }
    fn plant_fields(&self, launch: Launch, name: &str) -> Option<(Launch, String)> {
        let json = format!(r#"{{"password":"{FIELD_VALUE}","user":"{OTHER_FIELD}"}}"#);
        Some(self.plant(launch, name, &json))
    }
    fn missing(&self) -> String {
        "secret://conformance_nothing_here".into()
    }
}

struct FileFixture;

impl Fixture for FileFixture {
    fn name(&self) -> &'static str {
        "file"
    }
    fn launch(&self) -> Launch {
        EnvFixture.launch()
    }
    fn plant(&self, launch: Launch, name: &str, value: &str) -> (Launch, String) {
        let path = launch.path(name);
        (
            launch.file(name, value),
            format!("file://{}", path.display()),
        )
    }
    fn plant_fields(&self, _launch: Launch, _name: &str) -> Option<(Launch, String)> {
        None
    }
    fn missing(&self) -> String {
        "file:///conformance/nothing/here".into()
    }
}

fn bao() -> &'static OpenBao {
    static SERVER: OnceLock<OpenBao> = OnceLock::new();
    SERVER.get_or_init(|| OpenBao::start(false))
}

struct VaultFixture;

impl Fixture for VaultFixture {
    fn name(&self) -> &'static str {
        "vault"
    }
    fn launch(&self) -> Launch {
        EnvFixture
            .launch()
            .env("VAULT_ADDR", &bao().address)
            .env("VAULT_TOKEN", ROOT_TOKEN)
            .env("CRONOS_SECRETS_BACKEND", "vault")
            .env("CRONOS_SECRETS_VAULT_PATH", "conformance")
    }
    fn plant(&self, launch: Launch, name: &str, value: &str) -> (Launch, String) {
        bao().put(
            "secret",
            &format!("conformance/{name}"),
            &[("value", value)],
        );
        (launch, format!("secret://{name}"))
    }
    fn plant_fields(&self, launch: Launch, name: &str) -> Option<(Launch, String)> {
        let fields = [("password", FIELD_VALUE), ("user", OTHER_FIELD)];
        bao().put("secret", &format!("conformance/{name}"), &fields);
        Some((launch, format!("secret://{name}")))
    }
    fn missing(&self) -> String {
        "secret://nothing_here".into()
    }
}

#[cfg(feature = "aws")]
struct AwsFixture;

#[cfg(feature = "aws")]
impl Fixture for AwsFixture {
    fn name(&self) -> &'static str {
        "aws_secrets_manager"
    }
    fn launch(&self) -> Launch {
        use common::moto::{REGION, moto};
        EnvFixture
            .launch()
            .env("CRONOS_SECRETS_BACKEND", "aws_secrets_manager")
            .env("CRONOS_SECRETS_AWS_PREFIX", "conformance")
            .env("AWS_ACCESS_KEY_ID", "AKIDCONFORMANCE")
            .env("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", &moto().endpoint)
    }
    fn plant(&self, launch: Launch, name: &str, value: &str) -> (Launch, String) {
        common::moto::moto().create(&format!("conformance/{name}"), value);
        (launch, format!("secret://{name}"))
    }
    fn plant_fields(&self, launch: Launch, name: &str) -> Option<(Launch, String)> {
        let json = format!(r#"{{"password":"{FIELD_VALUE}","user":"{OTHER_FIELD}"}}"#);
        Some(self.plant(launch, name, &json))
    }
    fn missing(&self) -> String {
        "secret://nothing_here".into()
    }
}

#[cfg(feature = "azure")]
struct AzureFixture;

#[cfg(feature = "azure")]
impl Fixture for AzureFixture {
    fn name(&self) -> &'static str {
        "azure_key_vault"
    }
    fn launch(&self) -> Launch {
        common::azure::shared().launch_with_secret("client-conformance")
    }
    fn plant(&self, launch: Launch, name: &str, value: &str) -> (Launch, String) {
        // Key Vault names hold no "_": secret://NAME maps it to "-".
        let vault_name = name.replace('_', "-");
        common::azure::shared().plant(0, &vault_name, value, serde_json::json!({}));
        (launch, format!("secret://{name}"))
    }
    fn plant_fields(&self, launch: Launch, name: &str) -> Option<(Launch, String)> {
        let json = format!(r#"{{"password":"{FIELD_VALUE}","user":"{OTHER_FIELD}"}}"#);
        Some(self.plant(launch, name, &json))
    }
    fn missing(&self) -> String {
        "secret://nothing_here".into()
    }
}

fn fixtures() -> Vec<Box<dyn Fixture>> {
    vec![
        Box::new(EnvFixture),
        Box::new(FileFixture),
        Box::new(VaultFixture),
        #[cfg(feature = "aws")]
        Box::new(AwsFixture),
        #[cfg(feature = "azure")]
        Box::new(AzureFixture),
    ]
}

/// Runs `env -0` under the launcher with `lines` as the env file, at trace level.
fn run_traced(launch: Launch, lines: &str) -> Outcome {
    launch
        .file("c.env", lines)
        .env("RUST_LOG", "trace")
        .args(["-vvv", "--env-file", "c.env", "run", "--", "env", "-0"])
        .run()
}

#[test]
fn every_backend_hands_over_the_exact_bytes_once_per_reference() {
    for fixture in fixtures() {
        let (launch, reference) = fixture.plant(fixture.launch(), "tricky_value", TRICKY);
        let outcome = run_traced(launch, &format!("A={reference}\nB=${{{reference}}}\n"));
        outcome.assert_code(0).assert_stderr_no_leak(&[TRICKY]);
        let env = outcome.child_env();
        assert_eq!(env["A"], TRICKY, "{}", fixture.name());
        assert_eq!(env["B"], TRICKY, "{}", fixture.name());
        assert_eq!(
            outcome.stderr().matches("secret read").count(),
            2,
            "{}: one audit event per variable read",
            fixture.name()
        );
    }
}

#[test]
fn every_backend_selects_a_key_and_lists_key_names_only() {
    for fixture in fixtures() {
        let Some((launch, reference)) = fixture.plant_fields(fixture.launch(), "fields") else {
            continue;
        };
        let outcome = run_traced(launch, &format!("P={reference}#password\n"));
        outcome
            .assert_code(0)
            .assert_stderr_no_leak(&[FIELD_VALUE, OTHER_FIELD]);
        assert_eq!(outcome.child_env()["P"], FIELD_VALUE, "{}", fixture.name());
        let (launch, reference) = fixture
            .plant_fields(fixture.launch(), "fields_again")
            .unwrap();
        let missing = run_traced(launch, &format!("P={reference}#nokey\n"));
        missing
            .assert_code(125)
            .assert_stderr_contains("nokey")
            .assert_stderr_contains("password")
            .assert_no_leak(&[FIELD_VALUE, OTHER_FIELD]);
    }
}

#[test]
fn every_backend_names_a_missing_secret_with_a_hint() {
    for fixture in fixtures() {
        let missing = fixture.missing();
        let outcome = run_traced(fixture.launch(), &format!("M={missing}\n"));
        outcome
            .assert_code(125)
            .assert_stderr_contains("error: M: ")
            .assert_stderr_contains("hint:");
        assert!(
            outcome.stdout().is_empty(),
            "{}: nothing started",
            fixture.name()
        );
    }
}

#[test]
fn every_backend_has_a_planned_location_without_a_fetch() {
    for fixture in fixtures() {
        let (launch, reference) = fixture.plant(fixture.launch(), "planned", TRICKY);
        let outcome = launch
            .file("c.env", &format!("A={reference}\n"))
            .args(["--env-file", "c.env", "check", "--plan"])
            .run();
        outcome.assert_code(0).assert_no_leak(&[TRICKY]);
        let row = outcome.row("A");
        assert!(row.contains(fixture.name()), "{}: {row}", fixture.name());
    }
}
