//! PostgreSQL's additions to the shared TLS set-up (`crate::tls`): its ALPN name, and the
//! warning for libpq's `prefer` and `require`, which encrypt without checking who answers
//! (`crate::tls::unverified`). `verify-full` checks the chain and the host name.

use rustls::ClientConfig;

use crate::config::{DatabaseSettings, SslMode};

/// PostgreSQL 17's ALPN name; older servers ignore it.
const ALPN: &[u8] = b"postgresql";

/// With PostgreSQL's ALPN name.
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
    let config = crate::tls::unverified().map_err(|error| error.to_string())?;
    Ok(with_alpn(config))
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
