//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it: the client side of a login,
//! and the verifier `ALTER ROLE … PASSWORD` stores, computed here so that the password itself
//! never travels in SQL text (pg_stat_activity, `log_statement`, the server log).
//!
//! Passwords go through SASLprep first, as PostgreSQL's own (see [`saslprep`]), so that a
//! non-ASCII password set by psql or libpq logs in here, and one set here logs in there.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::saslprep;
use super::wire::WireError;
use crate::secret::SecretString;

pub const MECHANISM: &str = "SCRAM-SHA-256";
/// SCRAM bound to the TLS channel (`tls-server-end-point`): PostgreSQL 11+ offers it over TLS.
pub const MECHANISM_PLUS: &str = "SCRAM-SHA-256-PLUS";
/// PostgreSQL's default `scram_iterations`.
const ITERATIONS: u32 = 4096;
/// A server asking for more would have us spin the CPU at its will.
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// What the `gs2-header` says about channel binding (RFC 5802, section 6).
pub enum Binding {
    /// No TLS: `n`, the client does not support it.
    None,
    /// TLS, but the server did not offer SCRAM-SHA-256-PLUS: `y`, so that a server that does
    /// support it (someone removed it from the offer) refuses the login.
    NotOffered,
    /// SCRAM-SHA-256-PLUS: `p=tls-server-end-point`, with the hash of the server's certificate.
    ServerEndPoint(Vec<u8>),
}

impl Binding {
    pub fn mechanism(&self) -> &'static str {
        match self {
            Binding::ServerEndPoint(_) => MECHANISM_PLUS,
            Binding::None | Binding::NotOffered => MECHANISM,
        }
    }

    fn gs2_header(&self) -> &'static str {
        match self {
            Binding::None => "n,,",
            Binding::NotOffered => "y,,",
            Binding::ServerEndPoint(_) => "p=tls-server-end-point,,",
        }
    }

    /// The `c=` of the final message: the header, then the binding data, in base64.
    fn attribute(&self) -> String {
        let mut input = self.gs2_header().as_bytes().to_vec();
        if let Binding::ServerEndPoint(data) = self {
            input.extend_from_slice(data);
        }
        STANDARD.encode(input)
    }
}

pub(super) fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA256 with one 32-byte block: SCRAM's `Hi()`.
fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let mut block = hmac(password, &first);
    let mut result = block;
    for _ in 1..iterations {
        block = hmac(password, &block);
        for (out, byte) in result.iter_mut().zip(block) {
            *out ^= byte;
        }
    }
    result
}

struct Keys {
    client: [u8; 32],
    stored: [u8; 32],
    server: [u8; 32],
}

fn keys(password: &[u8], salt: &[u8], iterations: u32) -> Keys {
    let password = saslprep::prepared(password);
    // The salted password logs in as well as the password does: not left in memory.
    let mut salted = salted_password(&password, salt, iterations);
    let client = hmac(&salted, b"Client Key");
    let keys = Keys {
        stored: Sha256::digest(client).into(),
        server: hmac(&salted, b"Server Key"),
        client,
    };
    zeroize::Zeroize::zeroize(&mut salted);
    keys
}

/// `SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>`, with a fresh random salt.
pub fn verifier(password: &SecretString) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|error| format!("no random salt: {error}"))?;
    Ok(verifier_with_salt(password, &salt))
}

pub(super) fn verifier_with_salt(password: &SecretString, salt: &[u8]) -> String {
    let keys = keys(password.expose(), salt, ITERATIONS);
    format!(
        "{MECHANISM}${ITERATIONS}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(keys.stored),
        STANDARD.encode(keys.server)
    )
}

/// What a `server-first-message` holds (RFC 5802, section 5.1), checked before any work.
pub struct Challenge<'a> {
    /// Ours, extended by the server.
    pub nonce: &'a str,
    pub salt: Vec<u8>,
    /// At most [`MAX_ITERATIONS`].
    pub iterations: u32,
}

impl<'a> Challenge<'a> {
    /// Parses `server_first`, whose nonce must extend `ours`.
    pub fn parse(server_first: &'a str, ours: &str) -> Result<Challenge<'a>, WireError> {
        let bad = malformed_challenge;
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attribute in server_first.split(',') {
            match attribute.split_once('=') {
                Some(("r", value)) => nonce = Some(value),
                Some(("s", value)) => salt = Some(value),
                Some(("i", value)) => iterations = Some(value),
                Some(("m", _)) => return Err(bad("an extension we do not know")),
                _ => {}
            }
        }
        let nonce = nonce.ok_or_else(|| bad("no nonce"))?;
        if !nonce.starts_with(ours) || nonce.len() == ours.len() {
            return Err(bad("the nonce does not extend ours"));
        }
        let salt = STANDARD
            .decode(salt.ok_or_else(|| bad("no salt"))?)
            .map_err(|_| bad("the salt is not base64"))?;
        let iterations: u32 = iterations
            .ok_or_else(|| bad("no iteration count"))?
            .parse()
            .map_err(|_| bad("the iteration count is not a number"))?;
        if !(1..=MAX_ITERATIONS).contains(&iterations) {
            return Err(bad("an iteration count out of range"));
        }
        Ok(Challenge {
            nonce,
            salt,
            iterations,
        })
    }
}

fn malformed_challenge(why: &str) -> WireError {
    WireError::Protocol(format!("a malformed SCRAM challenge ({why})"))
}

/// One SCRAM exchange, client side.
pub struct Client {
    binding: Binding,
    nonce: String,
    first_bare: String,
    /// The server signature the final message must carry: it proves the server knew the
    /// verifier, not just that it let us in.
    expected_server_signature: Option<[u8; 32]>,
}

impl Client {
    pub fn new(binding: Binding) -> Result<Client, WireError> {
        let mut random = [0u8; 18];
        getrandom::fill(&mut random)
            .map_err(|error| WireError::Io(format!("no random nonce: {error}")))?;
        let nonce = STANDARD.encode(random);
        // PostgreSQL takes the user from the startup message; the SCRAM user name stays empty.
        let first_bare = format!("n=,r={nonce}");
        Ok(Client {
            binding,
            nonce,
            first_bare,
            expected_server_signature: None,
        })
    }

    /// The mechanism this exchange names in its first message.
    pub fn mechanism(&self) -> &'static str {
        self.binding.mechanism()
    }

    /// The `client-first-message`.
    pub fn first_message(&self) -> String {
        format!("{}{}", self.binding.gs2_header(), self.first_bare)
    }

    /// Answers the `server-first-message` with the `client-final-message` (the proof).
    pub fn final_message(
        &mut self,
        password: &SecretString,
        server_first: &[u8],
    ) -> Result<String, WireError> {
        let server_first =
            std::str::from_utf8(server_first).map_err(|_| malformed_challenge("not UTF-8"))?;
        let Challenge {
            nonce,
            salt,
            iterations,
        } = Challenge::parse(server_first, &self.nonce)?;
        let keys = keys(password.expose(), &salt, iterations);
        let without_proof = format!("c={},r={nonce}", self.binding.attribute());
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare);
        let client_signature = hmac(&keys.stored, auth_message.as_bytes());
        let mut proof = keys.client;
        for (out, byte) in proof.iter_mut().zip(client_signature) {
            *out ^= byte;
        }
        self.expected_server_signature = Some(hmac(&keys.server, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", STANDARD.encode(proof)))
    }

    /// Checks the `server-final-message`: the server must prove it knows the verifier.
    pub fn verify_final(&self, server_final: &[u8]) -> Result<(), WireError> {
        let server_final = std::str::from_utf8(server_final).unwrap_or("");
        let signature = server_final
            .split(',')
            .find_map(|attribute| attribute.strip_prefix("v="))
            .and_then(|value| STANDARD.decode(value).ok());
        match (signature, self.expected_server_signature) {
            (Some(signature), Some(expected)) if constant_time_eq(&signature, &expected) => Ok(()),
            _ => Err(WireError::Protocol(
                "the server's SCRAM signature is wrong: it does not know this role's password verifier (a server impersonating the database?)".into(),
            )),
        }
    }
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677's example exchange (user "user", password "pencil").
    #[test]
    fn rfc7677_example() {
        let mut client = Client {
            binding: Binding::None,
            nonce: "rOprNGfwEbeRWgbNEkqO".into(),
            first_bare: "n=user,r=rOprNGfwEbeRWgbNEkqO".into(),
            expected_server_signature: None,
        };
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let last = client
            .final_message(&SecretString::from("pencil"), server_first)
            .ok();
        assert_eq!(
            last.as_deref(),
            Some(
                "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
            )
        );
        assert!(
            client
                .verify_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
                .is_ok()
        );
        assert!(
            client
                .verify_final(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
                .is_err()
        );
        assert!(client.verify_final(b"e=invalid-proof").is_err());
    }

    /// RFC 5802's `c=`: the gs2-header, then (with `p=`) the binding data, in base64.
    #[test]
    fn channel_binding_attributes() {
        assert_eq!(Binding::None.attribute(), "biws");
        assert_eq!(Binding::NotOffered.attribute(), "eSws");
        let bound = Binding::ServerEndPoint(vec![1, 2, 3]);
        assert_eq!(
            STANDARD.decode(bound.attribute()).ok(),
            Some(b"p=tls-server-end-point,,\x01\x02\x03".to_vec())
        );
        assert_eq!(bound.mechanism(), "SCRAM-SHA-256-PLUS");
        assert_eq!(Binding::NotOffered.mechanism(), "SCRAM-SHA-256");
    }

    #[test]
    fn a_nonce_not_extending_ours_is_refused() {
        let mut client = Client {
            binding: Binding::None,
            nonce: "abc".into(),
            first_bare: "n=,r=abc".into(),
            expected_server_signature: None,
        };
        let password = SecretString::from("pencil");
        assert!(
            client
                .final_message(&password, b"r=xyz123,s=AAAA,i=4096")
                .is_err()
        );
        assert!(
            client
                .final_message(&password, b"r=abc,s=AAAA,i=4096")
                .is_err()
        );
        assert!(
            client
                .final_message(&password, b"r=abcd,s=AAAA,i=999999999")
                .is_err()
        );
        // Nothing verified yet: a final message cannot pass.
        assert!(client.verify_final(b"v=").is_err());
    }

    /// The verifier PostgreSQL computes for the same password and salt (the keys of the RFC
    /// example, as the salted password is the same function).
    #[test]
    fn verifier_format_and_keys() {
        let salt = STANDARD
            .decode("W22ZaJ0SNY7soEsUEjb6gQ==")
            .unwrap_or_default();
        let known = verifier_with_salt(&SecretString::from("pencil"), &salt);
        assert_eq!(
            known,
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
        let random = verifier(&SecretString::from("pencil")).unwrap_or_default();
        assert!(random.starts_with("SCRAM-SHA-256$4096:") && random != known);
    }
}
