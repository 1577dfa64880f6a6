//! The in-repo fake of Azure Key Vault and its token endpoints (`azure_fake.py`), served over
//! HTTPS from a CA made with the openssl CLI (`tls`), on free 127.0.0.1 ports. One shared fake per
//! test binary for tests that only plant secrets (each with its own names and client ids);
//! tests that turn global knobs (rate limits, a slow token endpoint) start their own.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use super::Launch;
use super::server::{Server, free_port};
pub use super::tls::tls;

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

pub struct AzureFake {
    server: Server,
    /// `https://127.0.0.1:PORT` of each vault.
    pub vaults: Vec<String>,
    /// `https://127.0.0.1:PORT`: the Entra ID token endpoint's host.
    pub authority: String,
    /// `http://127.0.0.1:PORT`: IMDS, the App Service endpoint and the admin API.
    pub plain: String,
    admin_port: u16,
}

/// The fake most tests share, started on first use.
pub fn shared() -> &'static AzureFake {
    static FAKE: OnceLock<AzureFake> = OnceLock::new();
    FAKE.get_or_init(AzureFake::start)
}

impl AzureFake {
    /// A fake of its own (for tests that change global behaviour).
    pub fn start() -> AzureFake {
        let tls = tls();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/common/azure_fake.py");
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let vault_ports = [free_port(), free_port()];
        let login_port = free_port();
        let admin_port = free_port();
        let vault_text = format!("{},{}", vault_ports[0], vault_ports[1]);
        let login_text = login_port.to_string();
        let admin_text = admin_port.to_string();
        let script_text = script.to_string_lossy();
        let cert = tls.cert.to_string_lossy();
        let key = tls.key.to_string_lossy();
        let server = Server::start(
            "azure-fake",
            "python3",
            &[
                "-u",
                script_text.as_ref(),
                "--cert",
                cert.as_ref(),
                "--key",
                key.as_ref(),
                "--vault-ports",
                &vault_text,
                "--login-port",
                &login_text,
                "--admin-port",
                &admin_text,
            ],
            &[],
            &dir,
            admin_port,
        );
        let fake = AzureFake {
            server,
            vaults: vault_ports
                .iter()
                .map(|port| format!("https://127.0.0.1:{port}"))
                .collect(),
            authority: format!("https://127.0.0.1:{login_port}"),
            plain: format!("http://127.0.0.1:{admin_port}"),
            admin_port,
        };
        fake.server
            .wait_until("the Azure fake", Duration::from_secs(30), || {
                fake.try_admin("ready", &json!({})).is_some()
            });
        fake
    }

    pub fn log(&self) -> &Path {
        &self.server.log
    }

    /// The vault's name as the fake keys it (its Host header).
    pub fn host(&self, vault: usize) -> String {
        self.vaults[vault]
            .trim_start_matches("https://")
            .to_string()
    }

    /// Plants a version of `name` in vault `vault` (0 or 1); returns its version id.
    pub fn plant(&self, vault: usize, name: &str, value: &str, attributes: Value) -> String {
        self.plant_in(&self.host(vault), name, value, attributes)
    }

    /// Plants a version of `name` in the vault the fake knows as `host` (its Host header: a
    /// vault reached by another name, e.g. through `connect_proxy`); returns its version id.
    pub fn plant_in(&self, host: &str, name: &str, value: &str, attributes: Value) -> String {
        let answer = self.admin(
            "plant",
            &json!({"vault": host, "name": name, "value": value, "attributes": attributes}),
        );
        answer["version"].as_str().expect("version").to_string()
    }

    /// Plants a version with tags (a rotation's sibling secrets); returns its version id.
    pub fn plant_tagged(&self, vault: usize, name: &str, value: &str, tags: Value) -> String {
        let answer = self.admin(
            "plant",
            &json!({"vault": self.host(vault), "name": name, "value": value, "tags": tags}),
        );
        answer["version"].as_str().expect("version").to_string()
    }

    /// Every version of `name` in vault `vault`, oldest first: `{version, value, tags, enabled}`.
    pub fn versions(&self, vault: usize, name: &str) -> Vec<Value> {
        let answer = self.admin(
            "versions",
            &json!({"vault": self.host(vault), "name": name}),
        );
        answer["versions"].as_array().cloned().unwrap_or_default()
    }

    /// The id of `name`'s latest version (the current one).
    pub fn current_version(&self, vault: usize, name: &str) -> String {
        let versions = self.versions(vault, name);
        let latest = versions.last().expect("the secret exists");
        latest["version"].as_str().expect("version").to_string()
    }

    pub fn set_attributes(
        &self,
        vault: usize,
        name: &str,
        version: Option<&str>,
        attributes: Value,
    ) {
        self.admin(
            "attributes",
            &json!({"vault": self.host(vault), "name": name, "version": version, "attributes": attributes}),
        );
    }

    /// A Key Vault answer forced for the next `count` requests of `kind` ("get", "put") on `name`.
    pub fn fault(&self, kind: &str, name: &str, status: u16, code: &str, count: u32) {
        self.admin(
            "fault",
            &json!({"kind": kind, "name": name, "status": status, "code": code, "count": count}),
        );
    }

    /// Holds the next `kind` request ("put", "get") on `name` until [`release`](Self::release);
    /// [`held`](Self::held) says when it arrived. For forced interleavings.
    pub fn hold(&self, kind: &str, name: &str) {
        self.admin(
            "fault",
            &json!({"kind": kind, "name": name, "hold": true, "count": 1}),
        );
    }

    /// How many requests are held now.
    pub fn held(&self) -> u64 {
        self.admin("held", &json!({}))["held"].as_u64().unwrap_or(0)
    }

    pub fn release(&self) {
        self.admin("release", &json!({}));
    }

    pub fn client(&self, client_id: &str, client_secret: &str) {
        self.admin(
            "client",
            &json!({"client_id": client_id, "client_secret": client_secret}),
        );
    }

    pub fn assertion(&self, client_id: &str, assertion: &str) {
        self.admin(
            "assertion",
            &json!({"client_id": client_id, "assertion": assertion}),
        );
    }

    pub fn configure(&self, settings: Value) {
        self.admin("configure", &settings);
    }

    /// A token the fake accepts, as `az account get-access-token` prints it.
    pub fn cli_token(&self) -> String {
        self.admin("token", &json!({}))["accessToken"]
            .as_str()
            .expect("token")
            .to_string()
    }

    /// The fake's request log, one JSON object per request.
    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// A launch of the `azure_key_vault` backend against vault 0: the test CA trusted, the
    /// authority and IMDS pointed at the fake (never 169.254.169.254), the domain check off
    /// (the fake is 127.0.0.1), no built-in required secrets.
    pub fn launch(&self) -> Launch {
        Launch::new()
            .file(
                "config/cronos_ai.production.yaml",
                &format!(
                    "secrets_manager:\n  enabled: true\n  backend: azure_key_vault\n  azure_vault_url: \"{}/\"\n  azure_verify_challenge_resource: false\nsecrets: {{}}\n",
                    self.vaults[0]
                ),
            )
            .env("SSL_CERT_FILE", &tls().ca.to_string_lossy())
            .env("AZURE_AUTHORITY_HOST", &self.authority)
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &self.plain)
    }

    /// [`launch`](Self::launch) with a client-secret credential the fake knows.
    pub fn launch_with_secret(&self, client_id: &str) -> Launch {
        let secret = format!("client-secret-of-{client_id}");
        self.client(client_id, &secret);
        self.launch()
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", client_id)
            .env("AZURE_CLIENT_SECRET", &secret)
    }

    fn admin(&self, action: &str, body: &Value) -> Value {
        let (status, answer) = self
            .try_admin(action, body)
            .expect("the Azure fake answers");
        assert_eq!(status, 200, "{action} failed: {answer}");
        serde_json::from_str(&answer).expect("JSON")
    }

    fn try_admin(&self, action: &str, body: &Value) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.admin_port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let body = body.to_string();
        let request = format!(
            "POST /_admin/{action} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = Vec::new();
        let mut buffer = [0u8; 8192];
        // HTTP/1.1 keep-alive from the fake: read up to Content-Length.
        loop {
            let read = stream.read(&mut buffer).ok()?;
            if read == 0 {
                break;
            }
            response.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&response);
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if rest.len() >= length {
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, body.to_string()))
    }
}
