//! Test certificate authorities and server certificates, made with the openssl CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A CA whose key stays in `dir`, to issue server certificates.
pub struct Ca {
    pub dir: PathBuf,
    /// The CA certificate (PEM), what a client trusts.
    pub cert: PathBuf,
    key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Ca {
    /// A new CA in `dir` (files `NAME.pem`, `NAME.key`).
    pub fn new(dir: &Path, name: &str) -> Ca {
        let cert = format!("{name}.pem");
        let key = format!("{name}.key");
        let subject = format!("/CN=cronos-secrets test CA {name}");
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &subject,
                "-keyout",
                &key,
                "-out",
                &cert,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        Ca {
            dir: dir.to_path_buf(),
            cert: dir.join(cert),
            key: dir.join(key),
        }
    }

    /// A server certificate `NAME.pem` and key `NAME.key` for `subject_alt_name`
    /// (`IP:127.0.0.1,DNS:localhost`); returns their paths.
    pub fn issue(&self, name: &str, subject_alt_name: &str) -> (PathBuf, PathBuf) {
        let dir = &self.dir;
        let (cert, key, csr, ext) = (
            format!("{name}.pem"),
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.ext"),
        );
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=cronos-secrets test server",
                "-keyout",
                &key,
                "-out",
                &csr,
            ],
        );
        std::fs::write(
            dir.join(&ext),
            format!("subjectAltName={subject_alt_name}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"),
        )
        .expect("write ext");
        let ca_cert = self.cert.to_string_lossy();
        let ca_key = self.key.to_string_lossy();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca_cert,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                &cert,
                "-extfile",
                &ext,
            ],
        );
        (dir.join(cert), dir.join(key))
    }
}

pub struct Tls {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A CA and a server certificate for 127.0.0.1, localhost and `*.vault.test`, made once per
/// test binary.
pub fn tls() -> &'static Tls {
    static TLS: OnceLock<Tls> = OnceLock::new();
    TLS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let ca = Ca::new(&dir, "ca");
        // `*.vault.test`: a second fake vault reached by name through `connect_proxy`.
        let (cert, key) = ca.issue("server", "IP:127.0.0.1,DNS:localhost,DNS:*.vault.test");
        Tls {
            ca: ca.cert,
            cert,
            key,
            dir,
        }
    })
}
