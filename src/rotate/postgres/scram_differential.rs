//! Our SCRAM-SHA-256 against postgres-protocol's (the rust-postgres client's, a dev-dependency
//! only): the same verifier for the same password and salt, and each side's client logs in to
//! a server that holds the other side's verifier, on ASCII and non-ASCII passwords alike.
//!
//! One deliberate difference: a password that SASLprep maps to nothing (only soft hyphens,
//! zero-width joiners…) is used as its raw bytes here, as PostgreSQL does (`pg_saslprep` calls
//! an empty result prohibited), where postgres-protocol salts the empty string.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
use postgres_protocol::password::scram_sha_256;
use sha2::{Digest, Sha256};

use super::scram::{Binding, Client, hmac, verifier_with_salt};
use crate::secret::SecretString;

/// Hand-picked passwords: printable ASCII, then what SASLprep maps, folds, keeps or refuses.
const CHOSEN: [&str; 14] = [
    "pencil",
    "a generated one: 0123456789abcdefABCDEF-_~!@#$%^&*()",
    "quote ' and backslash \\ and \"double\"",
    "tab\tand DEL\u{7f}",
    "soft\u{AD}hyphen",
    "Ⅸ ⅻ ｆｕｌｌｗｉｄｔｈ",
    "no-break\u{A0}space and ideographic\u{3000}space",
    "pässwörd é e\u{301}",
    "ﬁ ligature, ㎏ unit, ① circled",
    "\u{5D0}\u{5D1}\u{5D2}",
    "mixed \u{5D0} bidi",
    "private \u{E000} use",
    "unassigned in 3.2: \u{0221}",
    "😀 emoji",
];

/// Characters the generated passwords draw from.
const POOL: [char; 24] = [
    'a', 'Z', '0', '~', ' ', '\'', '\u{AD}', '\u{200B}', '\u{FEFF}', '\u{A0}', 'Ⅸ', 'ｑ', 'é',
    '\u{301}', 'ß', 'ﬁ', 'Ω', '\u{2126}', 'ㄱ', '\u{5D0}', '\u{627}', '\u{E000}', '😀', '\u{7f}',
];

/// Deterministic passwords over [`POOL`] (xorshift), of 1 to 24 characters.
fn generated(count: usize) -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % 1_000_003).unwrap_or(0)
    };
    (0..count)
        .map(|_| {
            let length = 1 + next() % 24;
            (0..length).map(|_| POOL[next() % POOL.len()]).collect()
        })
        .collect()
}

fn passwords() -> Vec<String> {
    let mut all: Vec<String> = CHOSEN.iter().map(|text| text.to_string()).collect();
    all.extend(generated(24));
    all
}

/// A verifier's salt, StoredKey and ServerKey.
struct Verifier {
    salt: Vec<u8>,
    stored: Vec<u8>,
    server: Vec<u8>,
}

fn parse(verifier: &str) -> Verifier {
    let decode = |text: &str| STANDARD.decode(text).expect("base64 in a verifier");
    let rest = verifier
        .strip_prefix("SCRAM-SHA-256$4096:")
        .expect("a SCRAM-SHA-256 verifier with 4096 iterations");
    let (salt, keys) = rest.split_once('$').expect("salt$keys");
    let (stored, server) = keys.split_once(':').expect("stored:server");
    Verifier {
        salt: decode(salt),
        stored: decode(stored),
        server: decode(server),
    }
}

/// The server's side of the exchange, from its verifier: the server-final message if the
/// client's proof is right, None if not.
fn server_final(
    verifier: &Verifier,
    client_first_bare: &str,
    server_first: &str,
    client_final: &str,
) -> Option<String> {
    let (without_proof, proof) = client_final.rsplit_once(",p=")?;
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let signature = hmac(&verifier.stored, auth_message.as_bytes());
    let proof = STANDARD.decode(proof).ok()?;
    let client_key: Vec<u8> = proof.iter().zip(signature).map(|(a, b)| a ^ b).collect();
    (Sha256::digest(&client_key).as_slice() == verifier.stored.as_slice()).then(|| {
        let server_signature = hmac(&verifier.server, auth_message.as_bytes());
        format!("v={}", STANDARD.encode(server_signature))
    })
}

/// The challenge for a client-first message: its nonce extended, the verifier's salt.
fn server_first(client_first: &str, verifier: &Verifier) -> (String, String) {
    let bare = client_first
        .strip_prefix("n,,")
        .expect("a client-first message without channel binding");
    let nonce = bare
        .strip_prefix("n=,r=")
        .expect("an empty user and a nonce");
    let challenge = format!(
        "r={nonce}3rfcNHYJY1ZVvWVs7j,s={},i=4096",
        STANDARD.encode(&verifier.salt)
    );
    (bare.to_string(), challenge)
}

/// Where SASLprep leaves nothing, ours (as PostgreSQL) salts the raw bytes; see the module doc.
fn empty_after_mapping(password: &str) -> bool {
    matches!(stringprep::saslprep(password), Ok(prepared) if prepared.is_empty())
}

#[test]
fn the_same_verifier_as_postgres_protocol() {
    for password in passwords() {
        let theirs = scram_sha_256(password.as_bytes());
        let salt = parse(&theirs).salt;
        let ours = verifier_with_salt(&SecretString::from(password.as_str()), &salt);
        if empty_after_mapping(&password) {
            assert_ne!(ours, theirs, "{password:?}");
        } else {
            assert_eq!(ours, theirs, "{password:?}");
        }
    }
}

#[test]
fn the_difference_is_pinned() {
    let password = "\u{AD}\u{200D}";
    assert!(empty_after_mapping(password));
    let theirs = parse(&scram_sha_256(password.as_bytes()));
    let of_empty = verifier_with_salt(&SecretString::from(""), &theirs.salt);
    assert_eq!(
        parse(&of_empty).stored,
        theirs.stored,
        "they salt the empty string"
    );
    let ours = verifier_with_salt(&SecretString::from(password), &theirs.salt);
    assert_ne!(parse(&ours).stored, theirs.stored, "we salt the raw bytes");
}

#[test]
fn our_client_logs_in_with_their_verifier_and_theirs_with_ours() {
    for password in passwords()
        .into_iter()
        .filter(|password| !empty_after_mapping(password))
        .step_by(3)
    {
        let secret = SecretString::from(password.as_str());

        // Ours, against a server holding postgres-protocol's verifier.
        let verifier = parse(&scram_sha_256(password.as_bytes()));
        let mut ours = Client::new(Binding::None).expect("a nonce");
        let (bare, challenge) = server_first(&ours.first_message(), &verifier);
        let last = ours
            .final_message(&secret, challenge.as_bytes())
            .expect("a proof");
        let outcome = server_final(&verifier, &bare, &challenge, &last);
        let outcome = outcome.unwrap_or_else(|| panic!("our proof is refused: {password:?}"));
        assert!(
            ours.verify_final(outcome.as_bytes()).is_ok(),
            "{password:?}"
        );

        // Theirs, against a server holding our verifier.
        let verifier = parse(&verifier_with_salt(&secret, b"sixteen byte salt"));
        let mut theirs = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
        let first = String::from_utf8(theirs.message().to_vec()).expect("UTF-8");
        let (bare, challenge) = server_first(&first, &verifier);
        theirs.update(challenge.as_bytes()).expect("a proof");
        let last = String::from_utf8(theirs.message().to_vec()).expect("UTF-8");
        let outcome = server_final(&verifier, &bare, &challenge, &last);
        let outcome = outcome.unwrap_or_else(|| panic!("their proof is refused: {password:?}"));
        assert!(theirs.finish(outcome.as_bytes()).is_ok(), "{password:?}");
    }
}
