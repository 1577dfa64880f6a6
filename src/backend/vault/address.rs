//! The Vault address as the launcher shows and checks it: never with the credentials a
//! basic-auth proxy address may hold, and with a warning when plain HTTP leaves this machine.

use std::sync::Once;

use url::Url;

/// `https://vault.example.com:8200/`: the address without user, password, query or fragment,
/// for every message and log line (`http://user:PASSWORD@proxy/` is a documented setup).
pub fn display_address(address: &Url) -> String {
    let mut shown = address.clone();
    // Cannot fail for http(s) URLs, the only kind the settings accept.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// `https://host:port`, the part of an address that decides where a request goes.
pub fn display_origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether requests to `address` stay on this machine: 127.0.0.0/8, ::1 (and ::ffff:127.x),
/// or the name `localhost`. Anything else may cross a network.
pub fn is_loopback(address: &Url) -> bool {
    address
        .host_str()
        .is_some_and(crate::loopback::is_loopback_host)
}

/// Plain `http://` to another machine sends the token and every secret readable by anyone on
/// the path. Warned once per process, whatever the log level (not refused: a sidecar proxy or
/// a service mesh may encrypt the hop).
pub fn warn_if_plaintext(address: &Url) {
    static WARNED: Once = Once::new();
    if address.scheme() == "http" && !is_loopback(address) {
        WARNED.call_once(|| {
            tracing::warn!(
                "VAULT_ADDR {} is plain http:// to another machine: the Vault token and the secrets cross the network unencrypted; use https://",
                display_address(address)
            );
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn credentials_query_and_fragment_are_never_shown() {
        let shown = display_address(&url("http://user:PLANTED@127.0.0.1:8200/vault/?token=X#y"));
        assert_eq!(shown, "http://127.0.0.1:8200/vault/");
        assert_eq!(
            display_origin(&url("https://u:p@vault.example.com:8200/v1/x?y")),
            "https://vault.example.com:8200"
        );
    }

    #[test]
    fn only_this_machine_counts_as_loopback() {
        for local in [
            "http://127.0.0.1:8200",
            "http://127.9.8.7",
            "http://[::1]:8200",
            "http://[::ffff:127.0.0.1]:8200",
            "http://localhost:8200",
            "http://LOCALHOST.:8200",
            "http://vault.localhost",
        ] {
            assert!(is_loopback(&url(local)), "{local}");
        }
        for remote in [
            "http://vault.example.com:8200",
            "http://10.0.0.5:8200",
            "http://0.0.0.0:8200",
            "http://[2001:db8::1]",
            "http://localhost.example.com",
            "http://128.0.0.1",
        ] {
            assert!(!is_loopback(&url(remote)), "{remote}");
        }
    }
}
