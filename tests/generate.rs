//! `generate`: the guide's `openssl rand -base64 32` and `secrets.token_urlsafe(32)`.

mod common;

use common::*;

#[test]
fn default_is_44_base64_characters() {
    let outcome = Launch::new().args(["generate"]).run();
    outcome.assert_code(0);
    let secret = outcome.stdout().trim_end().to_string();
    assert_eq!(secret.len(), 44);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    );
}

#[test]
fn length_and_encoding() {
    let outcome = Launch::new()
        .args(["generate", "--length", "64", "--encoding", "hex"])
        .run();
    outcome.assert_code(0);
    let secret = outcome.stdout().trim_end().to_string();
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    Launch::new()
        .args(["generate", "--length", "0"])
        .run()
        .assert_code(2);
    Launch::new()
        .args(["generate", "--encoding", "rot13"])
        .run()
        .assert_code(2);
}

#[test]
fn a_length_below_every_minimum_is_printed_with_a_warning() {
    let short = Launch::new().args(["generate", "--length", "8"]).run();
    short.assert_code(0);
    assert_eq!(short.stdout().trim_end().len(), 8);
    short
        .assert_stderr_contains(
            "warning: 8 characters is shorter than every required secret's minimum (16 to 32)",
        )
        .assert_stderr_contains("hint: use the default length (44)");
    for length in ["16", "44"] {
        let enough = Launch::new().args(["generate", "--length", length]).run();
        enough.assert_code(0);
        assert_eq!(enough.stderr(), "", "--length {length}");
    }
}
