//! Whether a host stays on this machine: what decides if a password sent in clear text can be
//! read on a network (Vault over plain http://, Redis AUTH without TLS).

use std::net::IpAddr;

/// 127.0.0.0/8, ::1 (and ::ffff:127.x), or the name `localhost` (and `*.localhost`), as a
/// config's `host` or a URL's host holds it (an IPv6 address with or without brackets).
/// Anything else may cross a network.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    match unbracketed.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|ip| ip.is_loopback())
        }
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_this_machine_counts() {
        for local in [
            "127.0.0.1",
            "127.9.8.7",
            "::1",
            "[::1]",
            "::ffff:127.0.0.1",
            "localhost",
            "LocalHost.",
            "db.localhost",
        ] {
            assert!(is_loopback_host(local), "{local}");
        }
        for remote in [
            "10.0.0.5",
            "redis",
            "localhost.example.com",
            "[::2]",
            "::ffff:10.0.0.1",
            "127.0.0.1.nip.io",
            "",
        ] {
            assert!(!is_loopback_host(remote), "{remote}");
        }
    }
}
