//! RESP2, the Redis wire protocol, as far as the rotation needs it: commands go out as arrays
//! of bulk strings (never inline commands, whose spaces and quotes a password could break),
//! and replies are parsed from a buffer with caps on every size, so a broken or hostile server
//! is an error, not gigabytes of memory.

use std::fmt;

use zeroize::Zeroizing;

/// The largest reply read (`ACL GETUSER` answers a few hundred bytes).
pub const REPLY_LIMIT: usize = 1024 * 1024;
/// The most bytes held while waiting for one reply: the largest reply and its header.
pub const BUFFER_LIMIT: usize = REPLY_LIMIT + 64;
/// Elements of one array; `ACL GETUSER` has about a dozen.
const MAX_ELEMENTS: usize = 4096;
/// Arrays within arrays (`ACL GETUSER`'s selectors are two deep).
const MAX_DEPTH: usize = 8;

/// One reply. Bulk strings are zeroized on drop: `ACL GETUSER` answers with password hashes.
pub enum Reply {
    /// `+OK`
    Status(String),
    /// `-WRONGPASS …`: the code and the server's message.
    Error(String),
    /// `:42` (checked to be a number; no step reads one).
    Integer,
    /// `$-1` is `None`.
    Bulk(Option<Zeroizing<Vec<u8>>>),
    /// `*-1` is `None`.
    Array(Option<Vec<Reply>>),
}

/// Only the kind of reply: its text may hold what a command was given.
impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Status(_) => f.write_str("status reply"),
            Reply::Error(text) => write!(f, "{} error reply", error_code(text)),
            Reply::Integer => f.write_str("integer reply"),
            Reply::Bulk(None) | Reply::Array(None) => f.write_str("nil reply"),
            Reply::Bulk(Some(bytes)) => write!(f, "bulk reply of {} bytes", bytes.len()),
            Reply::Array(Some(items)) => write!(f, "array reply of {} elements", items.len()),
        }
    }
}

/// The first word of an error reply when it is a code (`WRONGPASS`, `NOPERM`, `ERR`).
pub fn error_code(text: &str) -> &str {
    match text.split(' ').next() {
        Some(word) if !word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase()) => word,
        _ => "ERR",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// Not RESP2 (or not from Redis at all).
    Malformed(&'static str),
    /// A reply over [`REPLY_LIMIT`] or an array over its element cap.
    TooLarge,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Malformed(what) => write!(f, "not a Redis reply ({what})"),
            ProtocolError::TooLarge => write!(
                f,
                "a reply larger than {} was refused",
                crate::bounded::human_size(REPLY_LIMIT as u64)
            ),
        }
    }
}

/// `*N $len arg …`, in a buffer zeroized on drop (it may hold a password).
pub fn command(args: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let size: usize = args.iter().map(|arg| arg.len() + 16).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(size + 16));
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The first reply in `buffer` and the bytes it took, or `None` while it is incomplete.
pub fn parse(buffer: &[u8]) -> Result<Option<(Reply, usize)>, ProtocolError> {
    if buffer.len() > BUFFER_LIMIT {
        return Err(ProtocolError::TooLarge);
    }
    parse_at(buffer, 0, 0)
}

fn parse_at(
    buffer: &[u8],
    start: usize,
    depth: usize,
) -> Result<Option<(Reply, usize)>, ProtocolError> {
    let Some(Line {
        kind,
        body: line,
        next: after,
    }) = line_at(buffer, start)?
    else {
        return Ok(None);
    };
    let text = || {
        std::str::from_utf8(line)
            .map(str::to_owned)
            .map_err(|_| ProtocolError::Malformed("a status line that is not UTF-8"))
    };
    match kind {
        b'+' => Ok(Some((Reply::Status(text()?), after))),
        b'-' => Ok(Some((Reply::Error(text()?), after))),
        b':' => {
            number(line)?;
            Ok(Some((Reply::Integer, after)))
        }
        b'$' => {
            let Some(length) = length(number(line)?, REPLY_LIMIT)? else {
                return Ok(Some((Reply::Bulk(None), after)));
            };
            let end = after + length;
            if buffer.len() < end + 2 {
                return Ok(None);
            }
            if &buffer[end..end + 2] != b"\r\n" {
                return Err(ProtocolError::Malformed("a bulk string without its CRLF"));
            }
            let bytes = Zeroizing::new(buffer[after..end].to_vec());
            Ok(Some((Reply::Bulk(Some(bytes)), end + 2)))
        }
        b'*' => {
            let Some(count) = length(number(line)?, MAX_ELEMENTS)? else {
                return Ok(Some((Reply::Array(None), after)));
            };
            if depth >= MAX_DEPTH {
                return Err(ProtocolError::Malformed("arrays nested too deep"));
            }
            let mut items = Vec::with_capacity(count);
            let mut next = after;
            for _ in 0..count {
                let Some((item, end)) = parse_at(buffer, next, depth + 1)? else {
                    return Ok(None);
                };
                items.push(item);
                next = end;
            }
            Ok(Some((Reply::Array(Some(items)), next)))
        }
        _ => Err(ProtocolError::Malformed("an unknown reply type")),
    }
}

/// One line of a reply: its type byte, the rest up to CRLF, and where the next line starts.
struct Line<'a> {
    kind: u8,
    body: &'a [u8],
    next: usize,
}

fn line_at(buffer: &[u8], start: usize) -> Result<Option<Line<'_>>, ProtocolError> {
    let rest = &buffer[start.min(buffer.len())..];
    let Some(end) = memchr::memmem::find(rest, b"\r\n") else {
        return Ok(None);
    };
    match rest.first() {
        Some(&kind) if end > 0 => Ok(Some(Line {
            kind,
            body: &rest[1..end],
            next: start + end + 2,
        })),
        _ => Err(ProtocolError::Malformed("an empty line")),
    }
}

fn number(line: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or(ProtocolError::Malformed(
            "a length or integer that is not a number",
        ))
}

/// A bulk or array length: -1 is nil, anything over `limit` is refused before any allocation.
fn length(value: i64, limit: usize) -> Result<Option<usize>, ProtocolError> {
    match value {
        -1 => Ok(None),
        value if value < -1 => Err(ProtocolError::Malformed("a negative length")),
        value => match usize::try_from(value) {
            Ok(length) if length <= limit => Ok(Some(length)),
            _ => Err(ProtocolError::TooLarge),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(bytes: &[u8]) -> (Reply, usize) {
        parse(bytes).expect("valid").expect("complete")
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let out = command(&[b"AUTH", b"cronos", b"p a\r\ns"]);
        assert_eq!(
            out.as_slice(),
            b"*3\r\n$4\r\nAUTH\r\n$6\r\ncronos\r\n$6\r\np a\r\ns\r\n"
        );
    }

    #[test]
    fn replies_of_each_kind() {
        assert!(matches!(parsed(b"+OK\r\n"), (Reply::Status(s), 5) if s == "OK"));
        assert!(matches!(parsed(b"-WRONGPASS x\r\n").0, Reply::Error(s) if s == "WRONGPASS x"));
        assert!(matches!(parsed(b":-12\r\n").0, Reply::Integer));
        assert!(matches!(parsed(b"$-1\r\n"), (Reply::Bulk(None), 5)));
        assert!(matches!(parsed(b"*-1\r\n").0, Reply::Array(None)));
        let (reply, used) = parsed(b"$4\r\nPO\r\n\r\n+next");
        assert_eq!(used, 10);
        assert!(matches!(reply, Reply::Bulk(Some(b)) if b.as_slice() == b"PO\r\n"));
        let (reply, used) = parsed(b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n");
        assert_eq!(used, 19);
        assert!(matches!(reply, Reply::Array(Some(items)) if items.len() == 2));
    }

    #[test]
    fn incomplete_replies_wait_for_more() {
        let whole: &[u8] = b"*2\r\n$5\r\nhello\r\n:42\r\n";
        for cut in 0..whole.len() {
            assert!(
                parse(&whole[..cut]).expect("valid prefix").is_none(),
                "{cut}"
            );
        }
        assert!(parse(whole).expect("valid").is_some());
    }

    #[test]
    fn hostile_replies_are_errors_not_allocations() {
        assert_eq!(
            parse(b"$99999999999\r\n").err(),
            Some(ProtocolError::TooLarge)
        );
        assert_eq!(parse(b"*100000\r\n").err(), Some(ProtocolError::TooLarge));
        assert!(parse(b"$-2\r\n").is_err());
        assert!(parse(b"$3\r\nabcde\r\n").is_err());
        assert!(parse(b"?what\r\n").is_err());
        assert!(parse(b"\r\n").is_err());
        assert!(parse(b":x\r\n").is_err());
        assert!(parse(&b"*1\r\n".repeat(MAX_DEPTH + 1)).is_err());
        assert_eq!(
            parse(&vec![b'+'; REPLY_LIMIT + 100]).err(),
            Some(ProtocolError::TooLarge)
        );
    }

    #[test]
    fn any_bytes_parse_without_panic() {
        // Every prefix and single-byte corruption of a realistic reply.
        let reply: &[u8] = b"*4\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n$9\r\npasswords\r\n*1\r\n$64\r\n0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n";
        for cut in 0..=reply.len() {
            let _ = parse(&reply[..cut]);
            for byte in [0u8, b'\r', b'\n', b'-', b'9', b'*', b'$', 0xff] {
                let mut changed = reply[..cut].to_vec();
                if let Some(last) = changed.last_mut() {
                    *last = byte;
                }
                let _ = parse(&changed);
            }
        }
    }

    #[test]
    fn debug_never_shows_reply_text() {
        let shown = format!("{:?}", parsed(b"-ERR bad modifier '#secret'\r\n").0);
        assert_eq!(shown, "ERR error reply");
        let shown = format!("{:?}", parsed(b"$6\r\nsecret\r\n").0);
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn error_codes() {
        assert_eq!(
            error_code("WRONGPASS invalid username-password pair"),
            "WRONGPASS"
        );
        assert_eq!(error_code("NOPERM this user has no permissions"), "NOPERM");
        assert_eq!(error_code("odd text"), "ERR");
        assert_eq!(error_code(""), "ERR");
    }
}
