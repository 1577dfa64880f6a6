//! The rustls configuration of libpq's `prefer` and `require`: they encrypt without checking
//! who answers, as libpq does (the handshake signatures are still checked, so the session keys
//! are the server's). `verify-full` checks the chain and the host name (`rotate::tls`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::config::{DatabaseSettings, SslMode};

/// PostgreSQL 17's ALPN name; older servers ignore it.
const ALPN: &[u8] = b"postgresql";

/// With PostgreSQL's ALPN name (`verify-full` gets its roots from `rotate::tls`, shared with
/// Redis).
pub fn with_alpn(mut config: ClientConfig) -> ClientConfig {
    config.alpn_protocols = vec![ALPN.to_vec()];
    config
}

/// What `prefer` and `require` leave open, for a warning: no password reaches an impostor (no
/// cleartext over them, SCRAM proves nothing it could replay), but its session can be relayed.
pub fn unverified_warning(settings: &DatabaseSettings) -> Option<String> {
    let (mode, relayed) = match settings.sslmode {
        SslMode::Prefer => (
            "prefer",
            "it can answer without TLS and relay the logins to the server",
        ),
        SslMode::Require => (
            "require",
            "it can relay the logins to a server that does not offer SCRAM-SHA-256-PLUS (channel binding)",
        ),
        SslMode::Disable | SslMode::VerifyFull => return None,
    };
    // A unix socket's path names the server; libpq uses no TLS there.
    if settings.host.starts_with('/') {
        return None;
    }
    Some(format!(
        "rotation.database.sslmode {mode} does not check the server's certificate, so an impostor on {}:{} is not detected: it gets no password (cleartext is refused), but {relayed} and run statements as the admin; use sslmode: verify-full with rotation.database.sslrootcert",
        settings.host, settings.port
    ))
}

/// Encrypts without checking the certificate (`prefer`, `require`).
pub fn unverified() -> Result<ClientConfig, String> {
    let provider = super::super::tls::provider();
    let verifier = Arc::new(AnyCertificate {
        algorithms: provider.signature_verification_algorithms,
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS set-up: {error}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(with_alpn(config))
}

/// Accepts any certificate, but still checks that the handshake was signed by its key.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Strategy;
    use crate::reference::Reference;

    fn settings(host: &str, sslmode: SslMode) -> DatabaseSettings {
        DatabaseSettings {
            host: host.into(),
            port: 5432,
            dbname: "cronos_ai".into(),
            admin_user: "postgres".into(),
            admin_password: Reference::parse("env://PG_ADMIN", std::path::Path::new("."))
                .expect("a reference"),
            role: "cronos_user".into(),
            strategy: Strategy::Single,
            alternate_role: "cronos_user_b".into(),
            group_role: "cronos_user_group".into(),
            sslmode,
            sslrootcert: None,
        }
    }

    #[test]
    fn prefer_and_require_over_tcp_are_warned() {
        let prefer = unverified_warning(&settings("db", SslMode::Prefer)).unwrap_or_default();
        assert!(prefer.contains("sslmode prefer does not check") && prefer.contains("db:5432"));
        let require = unverified_warning(&settings("db", SslMode::Require)).unwrap_or_default();
        assert!(require.contains("SCRAM-SHA-256-PLUS") && require.contains("verify-full"));
        assert!(unverified_warning(&settings("db", SslMode::VerifyFull)).is_none());
        assert!(unverified_warning(&settings("/run/postgresql", SslMode::Prefer)).is_none());
    }
}
