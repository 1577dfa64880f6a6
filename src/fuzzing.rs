//! Entry points for the fuzz targets under `fuzz/` and for the test that replays their corpus
//! on stable (`tests/fuzz_corpus.rs`). Each takes arbitrary bytes and panics only when a
//! property the project promises does not hold: no panic on any input, errors that point
//! where they say, and exports that read back as the same bytes.

use std::path::{Path, PathBuf};

use crate::config::{self, ConfigOrigin};
use crate::env_vars::Environment;
use crate::envfile::{self, Value};
use crate::exec::ChildEnvOptions;
use crate::export;
use crate::placeholder::{self, Segment, Syntax};
use crate::plan::Plan;
use crate::reference::Reference;
use crate::rotate::postgres::replay as postgres_replay;
use crate::rotate::redis::resp as redis_reply;
use crate::secret::SecretString;
use crate::template::{LaunchVariables, Template};

/// A property checked on arbitrary bytes.
pub type Property = fn(&[u8]);

/// The fuzz targets, by name (the corpus folders under `fuzz/corpus/`).
pub const TARGETS: [(&str, Property); 8] = [
    ("env_file", env_file),
    ("placeholder", placeholder),
    ("reference", reference),
    ("config", config),
    ("template", template),
    ("dotenv_round_trip", dotenv_round_trip),
    ("redis_reply", redis_reply),
    ("pg_message", pg_message),
];

/// The env-file parser: no panic, and an error names a line of the input.
pub fn env_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = envfile::parse(text) {
        let lines = text.split('\n').count();
        assert!(
            (1..=lines).contains(&error.line()),
            "line {} of {lines}",
            error.line()
        );
    }
}

/// The placeholder grammar, in every syntax: no panic, and an error points at a `$`.
pub fn placeholder(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for syntax in [Syntax::EnvFile, Syntax::Template, Syntax::Inherited] {
        if let Err(error) = placeholder::parse(text, syntax) {
            assert_eq!(text.get(error.offset()..error.offset() + 1), Some("$"));
        }
    }
}

/// References: no panic, and an error never carries a control character into a log line.
pub fn reference(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = Reference::parse(text, Path::new("/base")) {
        assert!(!error.to_string().contains(['\n', '\r']), "{error}");
    }
}

/// Config loading, with and without overrides: no panic.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = ConfigOrigin::File(PathBuf::from("fuzz.yaml"));
    let _ = config::from_text(&origin, text, &Environment::default());
}

/// Templates: no panic; a template without placeholders renders as itself.
pub fn template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let plan = Plan::default();
    let env = Environment::default();
    let variables = LaunchVariables {
        plan: &plan,
        env: &env,
        options: ChildEnvOptions::default(),
    };
    if let Ok(template) = Template::parse(text, "fuzz.tmpl", PathBuf::from("/base"), &variables)
        && template.extras().next().is_none()
    {
        let rendered = crate::template::render_all(&[template], Vec::new());
        let expected = text.replace("$$", "$");
        assert_eq!(rendered[0].expose(), expected.as_bytes());
    }
}

/// A value exported as dotenv reads back through the env-file parser as the same bytes (or is
/// refused by name, for the few values no shared quoting can carry).
pub fn dotenv_round_trip(data: &[u8]) {
    let entries = vec![("KEY".to_string(), SecretString::new(data.to_vec()))];
    let Ok(written) = export::dotenv(&entries) else {
        return;
    };
    let text = written.expose_str().expect("dotenv output is UTF-8");
    let parsed = envfile::parse(text).expect("our own dotenv output parses");
    assert_eq!(parsed.len(), 1, "{text:?}");
    let value = match &parsed[0].value {
        Value::Literal(value) => value.clone(),
        Value::Interpolated(value) => literal_text(value),
        Value::Inherit => panic!("a KEY line for a value"),
    };
    assert_eq!(value.as_bytes(), data, "{text:?}");
}

/// The text of a double-quoted value that must hold no placeholder, only escaped `$`.
fn literal_text(value: &str) -> String {
    let segments = placeholder::parse(value, Syntax::EnvFile).expect("exported values parse");
    segments
        .into_iter()
        .map(|segment| match segment {
            Segment::Literal(text) => text,
            other => panic!("an exported value holds a placeholder: {other:?}"),
        })
        .collect()
}

/// Redis replies (what a server sends `rotate --redis`): no panic, and a complete reply is
/// self-delimiting: its own bytes parse to the same length, and one byte fewer is incomplete.
pub fn redis_reply(data: &[u8]) {
    if let Ok(Some((_, used))) = redis_reply::parse(data) {
        assert!(used > 0 && used <= data.len(), "{used} of {}", data.len());
        assert!(matches!(redis_reply::parse(&data[..used]), Ok(Some((_, again))) if again == used));
        assert!(!matches!(
            redis_reply::parse(&data[..used - 1]),
            Ok(Some(_))
        ));
    }
}

/// The nonce our SCRAM client sent, for the challenges the fuzzer writes (RFC 5802's example).
const PG_NONCE: &str = "fyko+d2lbbFgONRv9qkxdawL";

/// PostgreSQL's backend messages (what a server sends `rotate --database`). The first byte
/// picks what reads the rest: with its high bit set, SCRAM's server-first message, else a
/// login and `SELECT 1` over a channel chosen by its low bits (TCP, a unix socket, TLS
/// unverified or verified), the rest being every byte the server sends. No panic; a
/// challenge taken extends our nonce with a bounded iteration count; an error is escaped
/// text of bounded length (the only control characters our own line breaks) without the
/// password; and the password never leaves in clear text unless the channel proves the
/// server.
pub fn pg_message(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 0x80 != 0 {
        if let Ok((nonce, iterations)) = postgres_replay::challenge(rest, PG_NONCE) {
            assert!(nonce > PG_NONCE.len(), "{nonce}");
            assert!(
                (1..=postgres_replay::MAX_ITERATIONS).contains(&iterations),
                "{iterations}"
            );
        }
        return;
    }
    const PASSWORD: &str = "fuzz-password-9f8e7d6c";
    let replayed = postgres_replay::replay(rest, mode, &SecretString::from(PASSWORD));
    if let Some(error) = &replayed.error {
        assert!(!error.contains(PASSWORD), "{error}");
        assert!(
            !error.chars().any(|c| c.is_control() && c != '\n'),
            "{error:?}"
        );
        assert!(error.chars().count() <= 2000, "{error}");
    }
    if !replayed.proves_the_server {
        assert!(
            memchr::memmem::find(&replayed.sent, PASSWORD.as_bytes()).is_none(),
            "the password left in clear text"
        );
    }
}
