//! A login and a query against a server whose every byte is given: what the client makes of
//! any backend messages. The fuzz target `pg_message` comes in here (through
//! `crate::fuzzing`), so that it runs the very code a rotation runs: framing and its size
//! cap, authentication, SCRAM, ErrorResponse, DataRow.

use std::io::Cursor;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::super::external::StepError;
use super::connect::{Channel, Stream};
use super::errors::{self, Doing};
use super::scram::Challenge;
pub use super::scram::MAX_ITERATIONS;
use super::session::Session;
use crate::secret::SecretString;

/// What the client did with the server's bytes.
pub struct Replayed {
    /// The step's error as a person reads it, or None if the login and `SELECT 1` went through.
    pub error: Option<String>,
    /// Every byte the client sent.
    pub sent: Vec<u8>,
    /// Whether the channel proves who the server is (where a cleartext password may go).
    pub proves_the_server: bool,
}

/// Logs in as `app` with `password` and runs `SELECT 1`, the server answering `server`
/// whatever it is sent. `channel`: 0 TCP, 1 a unix socket, 2 TLS not verified, 3 verified.
pub fn replay(server: &[u8], channel: u8, password: &SecretString) -> Replayed {
    let channel = match channel % 4 {
        0 => Channel::Plain,
        1 => Channel::Local,
        verified => Channel::Tls {
            verified: verified == 3,
            certificate: None,
        },
    };
    let proves_the_server = channel.proves_the_server();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let stream = Stream {
        io: Box::new(Scripted {
            reply: Cursor::new(server.to_vec()),
            sent: Arc::clone(&sent),
        }),
        channel,
        address: "db:5432".into(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let outcome = runtime.block_on(async {
        let mut session = Session::start(stream, "app", password, "db")
            .await
            .map_err(|error| {
                errors::failed("postgresql app@db", "db", Doing::Login("app"), error)
            })?;
        session.query("SELECT 1").await.map_err(|error| {
            errors::failed(
                "postgresql app@db",
                "db",
                Doing::Statement("SELECT 1"),
                error,
            )
        })
    });
    let error = outcome.err().map(|error| match error {
        StepError::Failed(text) | StepError::Rejected(text) => text,
    });
    let sent = std::mem::take(&mut *sent.lock().expect("not poisoned"));
    Replayed {
        error,
        sent,
        proves_the_server,
    }
}

/// A `server-first-message` as SCRAM checks it against the nonce `ours`: the parse alone, no
/// key derivation (a fuzzer would spend its time in PBKDF2).
pub fn challenge(server_first: &[u8], ours: &str) -> Result<(usize, u32), String> {
    let text = std::str::from_utf8(server_first).map_err(|_| "not UTF-8".to_string())?;
    Challenge::parse(text, ours)
        .map(|challenge| (challenge.nonce.len(), challenge.iterations))
        .map_err(|error| format!("{error:?}"))
}

/// Reads the script, records what is written.
struct Scripted {
    reply: Cursor<Vec<u8>>,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.reply).poll_read(context, buffer)
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.sent
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut frame = vec![kind];
        frame.extend_from_slice(&i32::try_from(body.len() + 4).unwrap_or(0).to_be_bytes());
        frame.extend_from_slice(body);
        frame
    }

    fn authentication(code: i32) -> Vec<u8> {
        message(b'R', &code.to_be_bytes())
    }

    /// `SELECT 1`'s answer: one row of one column, then ready.
    fn one() -> Vec<u8> {
        let mut row = 1i16.to_be_bytes().to_vec();
        row.extend_from_slice(&1i32.to_be_bytes());
        row.push(b'1');
        [
            message(b'D', &row),
            message(b'C', b"SELECT 1\0"),
            message(b'Z', b"I"),
        ]
        .concat()
    }

    const PASSWORD: &str = "replayed-password";

    /// The replay runs the real client: a whole login and query go through, a cleartext
    /// request is answered only where the channel proves the server, an error is escaped.
    #[test]
    fn the_replay_runs_the_client() {
        let password = SecretString::from(PASSWORD);
        let ready = message(b'Z', b"I");
        let trust = [authentication(0), ready.clone(), one()].concat();
        assert_eq!(replay(&trust, 0, &password).error, None);

        let cleartext = [authentication(3), authentication(0), ready, one()].concat();
        let socket = replay(&cleartext, 1, &password);
        assert_eq!(socket.error, None);
        assert!(socket.proves_the_server);
        assert!(String::from_utf8_lossy(&socket.sent).contains(PASSWORD));
        let plain = replay(&cleartext, 0, &password);
        assert!(!plain.proves_the_server);
        assert!(!String::from_utf8_lossy(&plain.sent).contains(PASSWORD));
        assert!(
            plain
                .error
                .is_some_and(|error| error.contains("clear text"))
        );

        let hostile = message(b'E', b"SFATAL\0C3D000\0Mx\x1b[2K\n\0\0");
        let error = replay(&hostile, 0, &password).error.unwrap_or_default();
        assert!(error.contains("x\\u{1b}[2K\\n"), "{error}");
    }

    #[test]
    fn challenges_are_checked_against_our_nonce() {
        assert_eq!(challenge(b"r=abcdef,s=AAAA,i=4096", "abc"), Ok((6, 4096)));
        assert!(challenge(b"r=abc,s=AAAA,i=4096", "abc").is_err());
        assert!(challenge(b"r=abcd,s=AAAA,i=0", "abc").is_err());
        assert!(challenge(b"\xff", "abc").is_err());
    }
}
