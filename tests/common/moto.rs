//! moto's real Secrets Manager server, once per test binary, behind `moto_counting.py`: it
//! counts calls per access key id (each test has its own) and injects the failures moto cannot.
//! Tests seed secrets through the same JSON API the SDK speaks, over plain HTTP on 127.0.0.1.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use super::server::{Server, free_port};

pub const REGION: &str = "us-east-1";

pub struct Moto {
    server: Server,
    pub endpoint: String,
}

/// The shared server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

impl Moto {
    fn start() -> Moto {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/common/moto_counting.py");
        // Kept for the log, which a failed start prints.
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let port = free_port();
        let port_text = port.to_string();
        let script_text = script.to_string_lossy();
        let server = Server::start(
            "moto",
            "python3",
            &[script_text.as_ref(), "--port", &port_text],
            &[],
            &dir,
            port,
        );
        let moto = Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            server,
        };
        moto.server.wait_until("moto", Duration::from_secs(60), || {
            moto.try_request("GET /_counts/ready", &[], "").is_some()
        });
        moto
    }

    /// AWS calls made with `access_key`, per action, as the server saw them.
    pub fn counts(&self, access_key: &str) -> BTreeMap<String, u64> {
        let (_, body) = self
            .try_request(&format!("GET /_counts/{access_key}"), &[], "")
            .expect("counts");
        serde_json::from_str(&body).expect("counts are JSON")
    }

    /// Calls a Secrets Manager action as the seeding user; panics unless it succeeds.
    pub fn call(&self, action: &str, body: Value) -> Value {
        let (status, answer) = self
            .try_request(
                "POST /",
                &[
                    ("X-Amz-Target", &format!("secretsmanager.{action}")),
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("Authorization", &format!("AWS4-HMAC-SHA256 Credential=SEEDER/20250101/{REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0")),
                ],
                &body.to_string(),
            )
            .expect("moto answers");
        assert_eq!(status, 200, "{action} failed: {answer}");
        serde_json::from_str(&answer).expect("moto answers JSON")
    }

    /// Creates a text secret; returns its ARN.
    pub fn create(&self, name: &str, value: &str) -> String {
        let created = self.call("CreateSecret", json!({"Name": name, "SecretString": value}));
        created["ARN"].as_str().expect("ARN").to_string()
    }

    pub fn create_binary(&self, name: &str, base64: &str) {
        self.call(
            "CreateSecret",
            json!({"Name": name, "SecretBinary": base64}),
        );
    }

    /// Stores a new current version; returns its version id.
    pub fn put(&self, id: &str, value: &str) -> String {
        let put = self.call(
            "PutSecretValue",
            json!({"SecretId": id, "SecretString": value}),
        );
        put["VersionId"].as_str().expect("VersionId").to_string()
    }

    pub fn current_version(&self, id: &str) -> String {
        let read = self.call("GetSecretValue", json!({"SecretId": id}));
        read["VersionId"].as_str().expect("VersionId").to_string()
    }

    /// Deletes at once (`force`) or schedules deletion after the minimum recovery window.
    pub fn delete(&self, id: &str, force: bool) {
        let body = if force {
            json!({"SecretId": id, "ForceDeleteWithoutRecovery": true})
        } else {
            json!({"SecretId": id, "RecoveryWindowInDays": 7})
        };
        self.call("DeleteSecret", body);
    }

    /// One HTTP/1.0 exchange (no keep-alive, no chunking): status and body.
    fn try_request(
        &self,
        line: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.server.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let mut request = format!(
            "{line} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n",
            self.server.port
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, body.to_string()))
    }
}
