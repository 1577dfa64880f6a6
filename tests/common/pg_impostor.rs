//! The PostgreSQL impostor (`pg_impostor.py`): someone on the database's address with a
//! self-signed certificate, who asks for cleartext passwords or relays logins to the real
//! server. One per call; stopped when dropped.

use std::path::PathBuf;
use std::time::Duration;

use super::server::{Server, free_port};
use super::tls::Ca;

pub struct Impostor {
    pub port: u16,
    record: PathBuf,
    _dir: tempfile::TempDir,
    _server: Server,
}

impl Impostor {
    /// `mode`: `cleartext`, `relay` or `relay-strip-plus` (the last two to `upstream`).
    pub fn start(mode: &str, upstream: Option<u16>) -> Impostor {
        let dir = tempfile::tempdir().expect("temp dir");
        // A CA's certificate is self-signed: what an impostor can present.
        let own = Ca::new(dir.path(), "impostor");
        let key = dir.path().join("impostor.key");
        let record = dir.path().join("received.bin");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/common/pg_impostor.py");
        let port = free_port();
        let mut args: Vec<String> = vec![
            script.display().to_string(),
            port.to_string(),
            own.cert.display().to_string(),
            key.display().to_string(),
            record.display().to_string(),
            mode.to_string(),
        ];
        args.extend(upstream.map(|port| port.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = Server::start("pg-impostor", "python3", &args, &[], dir.path(), port);
        server.wait_until("the PostgreSQL impostor", Duration::from_secs(30), || {
            server.accepts_connections()
        });
        Impostor {
            port,
            record,
            _dir: dir,
            _server: server,
        }
    }

    /// Everything a `cleartext` impostor received after its TLS handshakes.
    pub fn received(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.record).unwrap_or_default()).into_owned()
    }
}
