//! PostgreSQL's frontend/backend protocol 3.0, the few messages a login and the simple query
//! protocol need: framing, with every backend message capped in size (a misbehaving server
//! must not make us allocate what it likes).

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::untrusted_text::escaped;

/// The largest backend message we accept; our queries answer in a few bytes.
pub const MESSAGE_LIMIT: usize = 1 << 20;

const PROTOCOL_3_0: i32 = 196_608;

/// Why talking to the server failed, before it is turned into a step's error.
#[derive(Debug)]
pub enum WireError {
    /// The network: connect, read, write, TLS (text written by us or the OS, never the server).
    Io(String),
    /// The TLS handshake: most often the certificate (its CA, its names).
    Tls(String),
    /// The server broke the protocol or sent what we refuse to handle.
    Protocol(String),
    /// The server asked for what would put a password at risk (a cleartext password where an
    /// impostor could be listening); `hint` is the fix.
    Refused { reason: String, hint: String },
    /// An ErrorResponse. `message` is the server's text: shown only for login errors, never for
    /// a statement's (it may quote the statement).
    Server(ServerError),
}

#[derive(Debug, Clone)]
pub struct ServerError {
    pub sqlstate: String,
    pub message: String,
}

impl From<std::io::Error> for WireError {
    fn from(error: std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                WireError::Io("the server closed the connection".into())
            }
            _ => WireError::Io(error.to_string()),
        }
    }
}

/// One backend message: its type byte and body.
pub struct Message {
    pub kind: u8,
    pub body: Vec<u8>,
}

/// Reads one backend message, refusing any larger than [`MESSAGE_LIMIT`].
pub async fn read_message(stream: &mut (impl AsyncRead + Unpin)) -> Result<Message, WireError> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).await?;
    let length = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let length = usize::try_from(length)
        .ok()
        .filter(|length| (4..=MESSAGE_LIMIT).contains(length))
        .ok_or_else(|| {
            WireError::Protocol(format!(
                "a message of {length} bytes (at most {MESSAGE_LIMIT} accepted)"
            ))
        })?;
    let mut body = vec![0u8; length - 4];
    stream.read_exact(&mut body).await?;
    Ok(Message {
        kind: header[0],
        body,
    })
}

/// Writes a frontend message (`kind` 0: the untyped startup and SSL requests) and flushes.
pub async fn write_message(
    stream: &mut (impl AsyncWrite + Unpin),
    kind: u8,
    body: &[u8],
) -> Result<(), WireError> {
    let length = i32::try_from(body.len() + 4)
        .map_err(|_| WireError::Protocol("a message too long to send".into()))?;
    let mut frame = Vec::with_capacity(body.len() + 5);
    if kind != 0 {
        frame.push(kind);
    }
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(body);
    stream.write_all(&frame).await?;
    stream.flush().await?;
    Ok(())
}

/// Appends `text` as a NUL-terminated string; a NUL inside would end it early (and let a
/// name smuggle in another parameter), so it is refused.
pub fn put_cstring(buffer: &mut Vec<u8>, text: &[u8], what: &str) -> Result<(), WireError> {
    if text.contains(&0) {
        return Err(WireError::Protocol(format!("{what} contains a NUL byte")));
    }
    buffer.extend_from_slice(text);
    buffer.push(0);
    Ok(())
}

/// The startup message: protocol 3.0 and the `name=value` parameters.
pub fn startup_body(parameters: &[(&str, &str)]) -> Result<Vec<u8>, WireError> {
    let mut body = PROTOCOL_3_0.to_be_bytes().to_vec();
    for (name, value) in parameters {
        put_cstring(&mut body, name.as_bytes(), name)?;
        put_cstring(&mut body, value.as_bytes(), name)?;
    }
    body.push(0);
    Ok(body)
}

/// A cursor over a message body; every read checks the bounds.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn short() -> WireError {
        WireError::Protocol("a message shorter than its fields".into())
    }

    pub fn take(&mut self, count: usize) -> Result<&'a [u8], WireError> {
        if count > self.bytes.len() {
            return Err(Self::short());
        }
        let (head, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    pub fn i16(&mut self) -> Result<i16, WireError> {
        let bytes = self.take(2)?;
        Ok(i16::from_be_bytes([bytes[0], bytes[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, WireError> {
        let bytes = self.take(4)?;
        Ok(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    pub fn cstring(&mut self) -> Result<&'a [u8], WireError> {
        let end = self
            .bytes
            .iter()
            .position(|byte| *byte == 0)
            .ok_or_else(Self::short)?;
        let text = &self.bytes[..end];
        self.bytes = &self.bytes[end + 1..];
        Ok(text)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }
}

/// The fields of an ErrorResponse we keep: the SQLSTATE (`C`) and the message (`M`), escaped
/// and bounded here, once, as they end up on our lines (stderr, logs) and a hostile server
/// must not forge a line or move the terminal's cursor with them.
pub fn parse_error(body: &[u8]) -> ServerError {
    let mut reader = Reader::new(body);
    let mut error = ServerError {
        sqlstate: String::new(),
        message: String::new(),
    };
    while let Ok(field) = reader.u8() {
        if field == 0 {
            break;
        }
        let Ok(value) = reader.cstring() else { break };
        let value = String::from_utf8_lossy(value);
        match field {
            b'C' => error.sqlstate = escaped(&value.chars().take(5).collect::<String>()),
            b'M' => error.message = escaped(&value),
            _ => {}
        }
    }
    error
}

/// A DataRow: each column's text, or None for NULL.
pub fn parse_data_row(body: &[u8]) -> Result<Vec<Option<String>>, WireError> {
    let mut reader = Reader::new(body);
    let columns = reader.i16()?;
    let mut row = Vec::with_capacity(usize::try_from(columns).unwrap_or(0));
    for _ in 0..columns {
        let length = reader.i32()?;
        if length < 0 {
            row.push(None);
        } else {
            let bytes = reader.take(usize::try_from(length).map_err(|_| Reader::short())?)?;
            row.push(Some(String::from_utf8_lossy(bytes).into_owned()));
        }
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_fields_are_kept_and_bounded() {
        let mut body = b"SFATAL\0C28P01\0Mpassword authentication failed\0".to_vec();
        body.push(0);
        let error = parse_error(&body);
        assert_eq!(error.sqlstate, "28P01");
        assert_eq!(error.message, "password authentication failed");
        let long = format!("M{}\0\0", "x".repeat(5000));
        assert_eq!(parse_error(long.as_bytes()).message.chars().count(), 301);
        // Truncated bodies give what was read, never a panic.
        assert_eq!(parse_error(b"C22023").sqlstate, "");
    }

    #[test]
    fn data_rows_with_nulls_and_bad_lengths() {
        let mut body = 2i16.to_be_bytes().to_vec();
        body.extend_from_slice(&1i32.to_be_bytes());
        body.push(b'1');
        body.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(
            parse_data_row(&body).ok(),
            Some(vec![Some("1".to_string()), None])
        );
        let mut lying = 1i16.to_be_bytes().to_vec();
        lying.extend_from_slice(&1000i32.to_be_bytes());
        assert!(parse_data_row(&lying).is_err());
    }

    #[test]
    fn a_nul_in_a_parameter_is_refused() {
        assert!(startup_body(&[("user", "a\0database")]).is_err());
        let body = startup_body(&[("user", "bob")]).ok().unwrap_or_default();
        assert_eq!(&body[4..], b"user\0bob\0\0");
    }

    #[tokio::test]
    async fn oversized_and_undersized_messages_are_refused() {
        let mut huge: &[u8] = &[b'D', 0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            read_message(&mut huge).await,
            Err(WireError::Protocol(_))
        ));
        let mut tiny: &[u8] = &[b'D', 0, 0, 0, 3];
        assert!(matches!(
            read_message(&mut tiny).await,
            Err(WireError::Protocol(_))
        ));
        let mut cut: &[u8] = &[b'Z', 0, 0, 0, 5];
        assert!(matches!(
            read_message(&mut cut).await,
            Err(WireError::Io(_))
        ));
    }
}
