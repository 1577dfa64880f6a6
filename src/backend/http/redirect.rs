//! Which redirects a request may follow: none (Key Vault and its token endpoints: a bearer
//! token is never forwarded), or the same origin only (Vault).
//!
//! Vault performance standbys and standbys answer requests they cannot serve with
//! `307 Temporary Redirect` to the active node (Vault's own Go client follows these). We do
//! not follow a redirect to another scheme, host or port: the client re-sends
//! `X-Vault-Token` (reqwest strips only `Authorization` and `Cookie` across hosts) and
//! re-POSTs login bodies (AppRole `secret_id`, service-account JWTs) and `set` values to the
//! target, and the target's answer would become the program's secrets. Whoever controls one
//! answer on the path (a misconfigured proxy, a compromised node, an https→http downgrade)
//! could collect the credentials. Pointing VAULT_ADDR at the active node or at the cluster's
//! load balancer (`api_addr`) avoids standby redirects altogether.

use reqwest::redirect::{Attempt, Policy};
use url::Url;

/// The redirect rule of a client.
#[derive(Clone)]
pub enum Redirects {
    /// Every 3xx goes back to the caller, which reports it.
    None,
    /// Followed to this address's scheme, host and port only, within [`MAX_HOPS`].
    SameOrigin(Url),
}

/// Hops followed within the same origin (a proxy adding a trailing slash, a path move); a
/// loop ends here instead of spinning until the deadline.
pub const MAX_HOPS: usize = 3;

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Follow,
    /// Hand the 30x answer back to the caller, which reports it.
    Stop,
}

/// Follows `next` only if it has the configured address's scheme, host and port (so never an
/// https→http downgrade), within [`MAX_HOPS`]. `hops` counts the redirects so far, this one
/// included.
pub fn decide(address: &Url, next: &Url, hops: usize) -> Decision {
    if hops <= MAX_HOPS && address.origin() == next.origin() {
        Decision::Follow
    } else {
        Decision::Stop
    }
}

/// The reqwest policy of `redirects`; no `Referer` is added either (see the client builder).
pub fn policy(redirects: Redirects) -> Policy {
    match redirects {
        Redirects::None => Policy::none(),
        Redirects::SameOrigin(address) => Policy::custom(move |attempt: Attempt<'_>| {
            let hops = attempt.previous().len();
            match decide(&address, attempt.url(), hops) {
                Decision::Follow => attempt.follow(),
                Decision::Stop => attempt.stop(),
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn only_the_same_scheme_host_and_port_are_followed() {
        let address = url("https://vault.example.com:8200/");
        let same = url("https://vault.example.com:8200/v1/secret/data/x");
        assert_eq!(decide(&address, &same, 1), Decision::Follow);
        for other in [
            // The downgrade: the token would cross the network in cleartext.
            "http://vault.example.com:8200/v1/secret/data/x",
            "http://vault.example.com/v1/secret/data/x",
            "https://vault-2.example.com:8200/v1/secret/data/x",
            "https://vault.example.com:8201/v1/secret/data/x",
            "https://127.0.0.2:8200/v1/secret/data/x",
        ] {
            assert_eq!(decide(&address, &url(other), 1), Decision::Stop, "{other}");
        }
    }

    #[test]
    fn default_ports_are_the_same_origin_and_loops_end() {
        let address = url("https://vault.example.com/");
        let explicit = url("https://vault.example.com:443/v1/x");
        assert_eq!(decide(&address, &explicit, 1), Decision::Follow);
        assert_eq!(decide(&address, &explicit, MAX_HOPS), Decision::Follow);
        assert_eq!(decide(&address, &explicit, MAX_HOPS + 1), Decision::Stop);
    }
}
