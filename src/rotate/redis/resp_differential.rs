//! Our RESP2 parser against the `redis` crate's (a dev-dependency only) on every input of the
//! kept fuzz corpus (`fuzz/corpus/redis_reply`): where ours takes a reply, redis takes the
//! same reply (same shape, same bytes), and where redis finds no reply, neither do we.
//!
//! The deliberate differences, each allowed only where our error names it:
//! - caps: a bulk string over 1 MiB or an array over 4096 elements (`TooLarge`), arrays nested
//!   more than 8 deep; redis has none (it waits for the bytes, or recurses to 100);
//! - RESP2 only: RESP3's types (`_`, `%`, `~`, `#`, `,`…) are "an unknown reply type" (we never
//!   send HELLO 3, so a server that answers in RESP3 is not the one we asked);
//! - strict numbers: a length below -1 is refused (redis reads any negative as nil), and so is
//!   a number with spaces around it (redis trims them);
//! - a line is read whole before its type byte is looked at, so an input cut before a CRLF is
//!   incomplete for us where redis may already refuse a bad type byte (ours refuses it once the
//!   CRLF comes, or stops at the buffer cap or the deadline).

use std::path::Path;

use redis::Value;

use super::resp::{self, ProtocolError, Reply};

/// A reply in a form both parsers map to. Nil is one: RESP2's `$-1` and `*-1` are both
/// `Value::Nil` in redis.
#[derive(Debug, PartialEq)]
enum Shape {
    Status(String),
    Error(String),
    Integer,
    Nil,
    Bulk(Vec<u8>),
    Array(Vec<Shape>),
    /// A RESP3 value (redis only).
    Resp3,
}

/// How a parser ended on an input.
#[derive(Debug, PartialEq)]
enum Outcome {
    Reply(Shape),
    Incomplete,
    Invalid,
}

fn ours_shape(reply: &Reply) -> Shape {
    match reply {
        Reply::Status(text) => Shape::Status(text.clone()),
        Reply::Error(text) => Shape::Error(text.clone()),
        Reply::Integer => Shape::Integer,
        Reply::Bulk(None) | Reply::Array(None) => Shape::Nil,
        Reply::Bulk(Some(bytes)) => Shape::Bulk(bytes.to_vec()),
        Reply::Array(Some(items)) => Shape::Array(items.iter().map(ours_shape).collect()),
    }
}

fn theirs_shape(value: &Value) -> Shape {
    match value {
        Value::Okay => Shape::Status("OK".into()),
        Value::SimpleString(text) => Shape::Status(text.clone()),
        // redis splits the line at its first space into a code and a detail.
        Value::ServerError(error) => Shape::Error(match error.details() {
            Some(detail) => format!("{} {detail}", error.code()),
            None => error.code().to_string(),
        }),
        Value::Int(_) => Shape::Integer,
        Value::Nil => Shape::Nil,
        Value::BulkString(bytes) => Shape::Bulk(bytes.clone()),
        Value::Array(items) => Shape::Array(items.iter().map(theirs_shape).collect()),
        _ => Shape::Resp3,
    }
}

/// Ours: the reply and the bytes it took, or how it failed.
fn ours(data: &[u8]) -> Result<Option<(Shape, usize)>, ProtocolError> {
    resp::parse(data).map(|parsed| parsed.map(|(reply, used)| (ours_shape(&reply), used)))
}

fn theirs(data: &[u8]) -> Outcome {
    match redis::parse_redis_value(data) {
        Ok(value) => Outcome::Reply(theirs_shape(&value)),
        // The input ended inside a reply.
        Err(error) if error.is_io_error() => Outcome::Incomplete,
        Err(_) => Outcome::Invalid,
    }
}

/// Whether our refusal of what redis took is one of the deliberate differences.
fn deliberate(error: ProtocolError) -> bool {
    matches!(
        error,
        ProtocolError::TooLarge
            | ProtocolError::Malformed(
                "arrays nested too deep"
                    | "an unknown reply type"
                    | "a negative length"
                    | "a length or integer that is not a number"
            )
    )
}

/// The agreement on one input; the name of the case, for the counts.
fn compare(data: &[u8]) -> &'static str {
    let theirs = theirs(data);
    match ours(data) {
        Ok(Some((shape, used))) => {
            assert_eq!(theirs, Outcome::Reply(shape), "{data:?}");
            // The same extent: redis reads the same reply from exactly the bytes we took.
            assert_eq!(
                self::theirs(&data[..used]),
                theirs,
                "{data:?} ({used} bytes)"
            );
            "both take the same reply"
        }
        Ok(None) => {
            assert!(
                !matches!(theirs, Outcome::Reply(_)),
                "incomplete for us, a reply for redis: {data:?}"
            );
            "incomplete for us (a line not yet whole)"
        }
        Err(error) => {
            if theirs == Outcome::Invalid {
                return "both refuse";
            }
            assert!(
                deliberate(error),
                "we refuse ({error}) what redis reads as {theirs:?}: {data:?}"
            );
            if matches!(error, ProtocolError::TooLarge) {
                assert_eq!(theirs, Outcome::Incomplete, "{data:?}");
            }
            "a deliberate difference"
        }
    }
}

#[test]
fn the_corpus_parses_as_redis_parses_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut counts = std::collections::BTreeMap::new();
    for folder in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join("redis_reply")) else {
            continue;
        };
        for entry in entries {
            let data = std::fs::read(entry.expect("a corpus entry").path()).expect("an input");
            *counts.entry(compare(&data)).or_insert(0) += 1;
        }
    }
    // The corpus exercises each kind of agreement, or the comparison proves little.
    for case in [
        "both take the same reply",
        "both refuse",
        "incomplete for us (a line not yet whole)",
        "a deliberate difference",
    ] {
        assert!(
            counts.get(case).copied().unwrap_or(0) > 0,
            "{case}: {counts:?}"
        );
    }
}

/// Each deliberate difference, on an input that shows it.
#[test]
fn the_deliberate_differences() {
    let too_large = format!("${}\r\n", resp::REPLY_LIMIT + 1);
    for (input, ours_error) in [
        (too_large.as_bytes(), ProtocolError::TooLarge),
        (b"*5000\r\n".as_slice(), ProtocolError::TooLarge),
        (
            &b"*1\r\n".repeat(9)[..],
            ProtocolError::Malformed("arrays nested too deep"),
        ),
        (b"_\r\n", ProtocolError::Malformed("an unknown reply type")),
        (b"#t\r\n", ProtocolError::Malformed("an unknown reply type")),
        (b"$-2\r\n", ProtocolError::Malformed("a negative length")),
        (
            b": 42\r\n",
            ProtocolError::Malformed("a length or integer that is not a number"),
        ),
    ] {
        assert_eq!(ours(input).err(), Some(ours_error), "{input:?}");
        assert_ne!(theirs(input), Outcome::Invalid, "{input:?}");
        compare(input);
    }
    // Nested 9 deep and complete: redis takes it.
    let deep = [b"*1\r\n".repeat(9), b":1\r\n".to_vec()].concat();
    assert!(matches!(theirs(&deep), Outcome::Reply(_)));
    // A bad type byte before the line's end: redis refuses now, we once the line is whole.
    assert_eq!(ours(b"1\n"), Ok(None));
    assert_eq!(theirs(b"1\n"), Outcome::Invalid);
    assert!(ours(b"1\n\r\n").is_err());
}
