//! Which certificate authorities the clients of the systems whose passwords rotate (Redis,
//! PostgreSQL) trust: the roots built into the binary (a `FROM scratch` image has no CA
//! bundle), or only the PEM bundle the config names.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::bounded;

/// A rustls client that verifies the server's chain against `ca_file` if given, else against
/// the built-in roots. `setting` names the config key of `ca_file`, for the message.
pub async fn client_config(
    ca_file: Option<&Path>,
    setting: &str,
    deadline: tokio::time::Instant,
) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        None => {
            roots.add_parsable_certificates(
                webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned(),
            );
        }
        Some(path) => {
            // Within the deadline: a FIFO or a hung mount must not hold the rotation.
            let pem = bounded::read_regular_file_until(
                path.to_path_buf(),
                bounded::SECRET_FILE_LIMIT,
                deadline,
            )
            .await
            .map_err(|error| format!("cannot read {setting} {}: {error}", path.display()))?;
            let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<_, _>>()
                .map_err(|error| {
                    format!("{setting} {} is not a PEM bundle: {error}", path.display())
                })?;
            let (added, _) = roots.add_parsable_certificates(certificates);
            if added == 0 {
                return Err(format!(
                    "{setting} {} holds no CA certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                ));
            }
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS setup failed: {error}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The provider named, not the process default: nothing else has to install one first.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
