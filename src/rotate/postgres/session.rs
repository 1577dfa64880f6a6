//! One logged-in connection: the startup and authentication exchange, then simple queries.

use tokio::io::BufStream;

use super::connect::{Io, Stream, Target};
use super::scram;
use super::wire::{self, Message, Reader, WireError};
use crate::secret::SecretString;

/// A query's rows are tiny here; more than this is a misbehaving server.
const RESULT_LIMIT: usize = wire::MESSAGE_LIMIT;

pub type Rows = Vec<Vec<Option<String>>>;

pub struct Session {
    stream: BufStream<Box<dyn Io>>,
    /// Whether the server checked a password: a `trust` or `peer` login proves nothing about it.
    pub password_checked: bool,
}

impl Session {
    /// Connects and logs in as `user` to `database`; returns once the server is ready for a
    /// query.
    pub async fn login(
        target: &Target,
        user: &str,
        password: &SecretString,
        database: &str,
    ) -> Result<Session, WireError> {
        Session::start(target.open().await?, user, password, database).await
    }

    /// [`login`](Self::login) over a stream already open.
    async fn start(
        opened: Stream,
        user: &str,
        password: &SecretString,
        database: &str,
    ) -> Result<Session, WireError> {
        let private = opened.private;
        let mut session = Session {
            stream: BufStream::new(opened.io),
            password_checked: false,
        };
        let startup = wire::startup_body(&[
            ("user", user),
            ("database", database),
            ("application_name", "cronos-secrets"),
            ("client_encoding", "UTF8"),
        ])?;
        wire::write_message(&mut session.stream, 0, &startup).await?;
        session.authenticate(password, private).await?;
        session.wait_until_ready().await?;
        Ok(session)
    }

    async fn receive(&mut self) -> Result<Message, WireError> {
        let message = wire::read_message(&mut self.stream).await?;
        if message.kind == b'E' {
            return Err(WireError::Server(wire::parse_error(&message.body)));
        }
        Ok(message)
    }

    async fn send(&mut self, kind: u8, body: &[u8]) -> Result<(), WireError> {
        wire::write_message(&mut self.stream, kind, body).await
    }

    async fn authenticate(
        &mut self,
        password: &SecretString,
        private: bool,
    ) -> Result<(), WireError> {
        let mut scram: Option<scram::Client> = None;
        loop {
            let message = self.receive().await?;
            if message.kind != b'R' {
                return Err(unexpected(message.kind, "authentication"));
            }
            let mut reader = Reader::new(&message.body);
            match reader.i32()? {
                0 if scram.is_some() => {
                    return Err(WireError::Protocol(
                        "the server let us in before finishing SCRAM (it never proved it knows the password verifier)".into(),
                    ));
                }
                0 => return Ok(()),
                3 if !private => {
                    return Err(WireError::Protocol(
                        "the server asks for the password in clear text over an unencrypted connection; refused (use sslmode: require or verify-full, or scram-sha-256 in pg_hba.conf)".into(),
                    ));
                }
                3 => {
                    let mut body = Vec::new();
                    wire::put_cstring(&mut body, password.expose(), "the password")?;
                    self.password_checked = true;
                    let sent = self.send(b'p', &body).await;
                    zeroize::Zeroize::zeroize(&mut body);
                    sent?;
                }
                5 => {
                    return Err(WireError::Protocol(
                        "the server asks for an MD5 password, which cronos-secrets does not speak (MD5 is deprecated): set password_encryption = scram-sha-256 and use scram-sha-256 in pg_hba.conf".into(),
                    ));
                }
                10 => {
                    let mut offered = false;
                    while let Ok(mechanism) = reader.cstring() {
                        if mechanism.is_empty() {
                            break;
                        }
                        offered |= mechanism == scram::MECHANISM.as_bytes();
                    }
                    if !offered {
                        return Err(WireError::Protocol(
                            "the server offers no SASL mechanism we speak (SCRAM-SHA-256)".into(),
                        ));
                    }
                    let client = scram::Client::new()?;
                    let first = client.first_message();
                    let mut body = Vec::new();
                    wire::put_cstring(&mut body, scram::MECHANISM.as_bytes(), "mechanism")?;
                    body.extend_from_slice(&i32::try_from(first.len()).unwrap_or(0).to_be_bytes());
                    body.extend_from_slice(first.as_bytes());
                    self.send(b'p', &body).await?;
                    scram = Some(client);
                }
                11 => {
                    let client = scram.as_mut().ok_or_else(|| {
                        WireError::Protocol("a SCRAM challenge before SCRAM began".into())
                    })?;
                    let last = client.final_message(password, reader.rest())?;
                    self.password_checked = true;
                    self.send(b'p', last.as_bytes()).await?;
                }
                12 => {
                    let client = scram.as_ref().ok_or_else(|| {
                        WireError::Protocol("a SCRAM outcome before SCRAM began".into())
                    })?;
                    client.verify_final(reader.rest())?;
                    // Only now is the exchange complete; a server that says "ok" before its
                    // signature was checked is not believed.
                    let message = self.receive().await?;
                    let mut reader = Reader::new(&message.body);
                    if message.kind != b'R' || reader.i32()? != 0 {
                        return Err(unexpected(message.kind, "the end of SCRAM"));
                    }
                    return Ok(());
                }
                code => {
                    return Err(WireError::Protocol(format!(
                        "the server asks for an authentication method we do not speak (code {code}: Kerberos, GSSAPI or SSPI); use scram-sha-256 in pg_hba.conf"
                    )));
                }
            }
        }
    }

    async fn wait_until_ready(&mut self) -> Result<(), WireError> {
        loop {
            let message = self.receive().await?;
            match message.kind {
                b'Z' => return Ok(()),
                // Parameter status, cancellation key, notice, protocol-version negotiation.
                b'S' | b'K' | b'N' | b'v' => {}
                kind => return Err(unexpected(kind, "the login")),
            }
        }
    }

    /// Runs `sql` with the simple query protocol; the rows of its (last) result. A failed
    /// statement is an error once the server is ready again.
    pub async fn query(&mut self, sql: &str) -> Result<Rows, WireError> {
        let mut body = Vec::new();
        wire::put_cstring(&mut body, sql.as_bytes(), "the statement")?;
        self.send(b'Q', &body).await?;
        let mut rows = Vec::new();
        let mut size = 0usize;
        let mut failure = None;
        loop {
            let message = wire::read_message(&mut self.stream).await?;
            match message.kind {
                b'T' => rows.clear(),
                b'D' => {
                    size += message.body.len();
                    if size > RESULT_LIMIT {
                        return Err(WireError::Protocol(format!(
                            "a result larger than {RESULT_LIMIT} bytes"
                        )));
                    }
                    rows.push(wire::parse_data_row(&message.body)?);
                }
                b'E' => failure = Some(wire::parse_error(&message.body)),
                b'Z' => break,
                b'C' | b'I' | b'N' | b'S' | b'A' => {}
                kind => return Err(unexpected(kind, "a query")),
            }
        }
        match failure {
            Some(error) => Err(WireError::Server(error)),
            None => Ok(rows),
        }
    }

    /// Says goodbye (so the server logs no lost connection); errors do not matter any more.
    pub async fn close(mut self) {
        let _ = self.send(b'X', &[]).await;
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut self.stream).await;
    }
}

fn unexpected(kind: u8, during: &str) -> WireError {
    WireError::Protocol(format!(
        "an unexpected message ({}) during {during}",
        char::from(kind).escape_default()
    ))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut frame = vec![kind];
        frame.extend_from_slice(&i32::try_from(body.len() + 4).unwrap_or(0).to_be_bytes());
        frame.extend_from_slice(body);
        frame
    }

    fn authentication(code: i32, data: &[u8]) -> Vec<u8> {
        let mut body = code.to_be_bytes().to_vec();
        body.extend_from_slice(data);
        message(b'R', &body)
    }

    /// A server that answers each client message with the next reply, extending the SCRAM
    /// nonce it was sent where a reply holds `{nonce}`; the error of our login.
    async fn login_against(replies: Vec<Vec<u8>>, private: bool) -> String {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let peer = tokio::spawn(async move {
            let mut nonce = String::new();
            for (index, reply) in replies.into_iter().enumerate() {
                if index > 0 {
                    let _kind = server.read_u8().await;
                }
                let length = server.read_i32().await.unwrap_or(4);
                let mut body = vec![0u8; usize::try_from(length - 4).unwrap_or(0)];
                if server.read_exact(&mut body).await.is_err() {
                    return;
                }
                let text = String::from_utf8_lossy(&body);
                if let Some(start) = text.find("r=") {
                    nonce = text[start + 2..]
                        .split(',')
                        .next()
                        .unwrap_or("")
                        .to_string();
                }
                let body = String::from_utf8_lossy(reply.get(5..).unwrap_or_default());
                let reply = if body.contains("{nonce}") {
                    message(reply[0], body.replace("{nonce}", &nonce).as_bytes())
                } else {
                    reply
                };
                if server.write_all(&reply).await.is_err() {
                    return;
                }
            }
            let mut rest = Vec::new();
            let _ = server.read_to_end(&mut rest).await;
        });
        let opened = Stream {
            io: Box::new(client),
            private,
        };
        let password = SecretString::from("pencil-pencil-pencil");
        let outcome = Session::start(opened, "app", &password, "db").await;
        peer.abort();
        match outcome {
            Ok(_) => "logged in".into(),
            Err(WireError::Protocol(message)) => message,
            Err(other) => format!("{other:?}"),
        }
    }

    fn sasl() -> Vec<u8> {
        authentication(10, b"SCRAM-SHA-256\0\0")
    }

    fn challenge() -> Vec<u8> {
        authentication(11, b"r={nonce}server,s=c2FsdHNhbHQ=,i=4096")
    }

    #[tokio::test]
    async fn a_server_that_does_not_know_the_verifier_is_caught() {
        let wrong = authentication(12, b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        let error = login_against(vec![sasl(), challenge(), wrong], false).await;
        assert!(error.contains("SCRAM signature is wrong"), "{error}");
    }

    #[tokio::test]
    async fn a_server_that_skips_the_end_of_scram_is_caught() {
        let error = login_against(vec![sasl(), authentication(0, b"")], false).await;
        assert!(error.contains("before finishing SCRAM"), "{error}");
    }

    #[tokio::test]
    async fn weak_or_unknown_methods_and_huge_messages_are_refused() {
        let cleartext = login_against(vec![authentication(3, b"")], false).await;
        assert!(cleartext.contains("clear text"), "{cleartext}");
        let md5 = login_against(vec![authentication(5, b"salt")], true).await;
        assert!(md5.contains("MD5"), "{md5}");
        let gss = login_against(vec![authentication(7, b"")], true).await;
        assert!(gss.contains("code 7"), "{gss}");
        let mut huge = vec![b'R'];
        huge.extend_from_slice(&0x7fff_fff0i32.to_be_bytes());
        let huge = login_against(vec![huge], true).await;
        assert!(huge.contains("at most"), "{huge}");
    }

    #[tokio::test]
    async fn trust_logs_in_without_checking_a_password() {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let ready = [authentication(0, b""), message(b'Z', b"I")].concat();
        let peer = tokio::spawn(async move {
            let mut startup = [0u8; 4];
            let _ = server.read_exact(&mut startup).await;
            let length = usize::try_from(i32::from_be_bytes(startup) - 4).unwrap_or(0);
            let mut body = vec![0u8; length];
            let _ = server.read_exact(&mut body).await;
            let _ = server.write_all(&ready).await;
            let mut rest = Vec::new();
            let _ = server.read_to_end(&mut rest).await;
        });
        let opened = Stream {
            io: Box::new(client),
            private: false,
        };
        let session = Session::start(opened, "app", &SecretString::from("x"), "db").await;
        assert!(session.is_ok_and(|session| !session.password_checked));
        peer.abort();
    }
}
