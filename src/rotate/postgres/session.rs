//! One logged-in connection: the startup and authentication exchange, then simple queries.

use tokio::io::BufStream;

use super::channel_binding;
use super::connect::{Channel, Io, Stream, Target};
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
    pub(super) async fn start(
        opened: Stream,
        user: &str,
        password: &SecretString,
        database: &str,
    ) -> Result<Session, WireError> {
        let Stream {
            io,
            channel,
            address,
        } = opened;
        let mut session = Session {
            stream: BufStream::new(io),
            password_checked: false,
        };
        let startup = wire::startup_body(&[
            ("user", user),
            ("database", database),
            ("application_name", "cronos-secrets"),
            ("client_encoding", "UTF8"),
        ])?;
        wire::write_message(&mut session.stream, 0, &startup).await?;
        let peer = Peer {
            user,
            address: &address,
            channel: &channel,
        };
        session.authenticate(password, &peer).await?;
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
        peer: &Peer<'_>,
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
                3 if !peer.channel.proves_the_server() => return Err(peer.cleartext_refused()),
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
                    let mut offered = Vec::new();
                    while let Ok(mechanism) = reader.cstring() {
                        if mechanism.is_empty() {
                            break;
                        }
                        offered.push(mechanism);
                    }
                    let client = scram::Client::new(binding(&offered, peer.channel)?)?;
                    tracing::debug!(
                        server = %peer.address,
                        user = %peer.user,
                        mechanism = client.mechanism(),
                        "logging in with SCRAM"
                    );
                    let first = client.first_message();
                    let mut body = Vec::new();
                    wire::put_cstring(&mut body, client.mechanism().as_bytes(), "mechanism")?;
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

/// Who we log in as, and where: for the choice of method and for messages.
struct Peer<'a> {
    user: &'a str,
    address: &'a str,
    channel: &'a Channel,
}

impl Peer<'_> {
    /// A cleartext password request (`password` in pg_hba.conf) on a channel that does not
    /// prove who answers: an impostor asks exactly this, to collect the password.
    fn cleartext_refused(&self) -> WireError {
        let over = match self.channel {
            Channel::Plain => "an unencrypted connection",
            _ => {
                "TLS whose certificate is not checked (sslmode prefer or require), so an impostor on that address would get it"
            }
        };
        WireError::Refused {
            reason: format!(
                "{} asks for the password of {} in clear text (AuthenticationCleartextPassword) over {over}; refused, no password was sent",
                self.address, self.user
            ),
            hint: format!(
                "use sslmode: verify-full with rotation.database.sslrootcert (the CA of the server's certificate), or scram-sha-256 instead of password for {} in pg_hba.conf",
                self.user
            ),
        }
    }
}

/// The SCRAM variant, as libpq's `channel_binding=prefer` chooses: bound to the TLS channel
/// when the server offers it, so that a login relayed through someone else's TLS fails.
fn binding(offered: &[&[u8]], channel: &Channel) -> Result<scram::Binding, WireError> {
    let has = |mechanism: &str| offered.contains(&mechanism.as_bytes());
    match channel {
        Channel::Tls { certificate, .. } if has(scram::MECHANISM_PLUS) => {
            let certificate = certificate.as_deref().ok_or_else(|| {
                WireError::Protocol("the server's TLS handshake carried no certificate".into())
            })?;
            channel_binding::tls_server_end_point(certificate)
                .map(scram::Binding::ServerEndPoint)
                .map_err(WireError::Protocol)
        }
        // PostgreSQL offers it only over TLS: someone between us took the TLS away.
        _ if has(scram::MECHANISM_PLUS) => Err(WireError::Protocol(
            "the server offers SCRAM-SHA-256-PLUS over a connection without TLS, which PostgreSQL never does (is something between us and the server?); refused".into(),
        )),
        _ if !has(scram::MECHANISM) => Err(WireError::Protocol(
            "the server offers no SASL mechanism we speak (SCRAM-SHA-256, SCRAM-SHA-256-PLUS)".into(),
        )),
        // The `y` flag: a server that supports binding refuses, as someone removed it.
        Channel::Tls { .. } => Ok(scram::Binding::NotOffered),
        Channel::Local | Channel::Plain => Ok(scram::Binding::None),
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

    use super::super::errors::Doing;
    use super::*;
    use crate::rotate::external::StepError;

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

    /// What a hostile server saw of our login, and how the login ended.
    struct Attempt {
        /// "logged in", or the error as a person reads it.
        outcome: String,
        /// Every byte the server received (startup included).
        received: String,
    }

    /// A server that answers each client message with the next reply, extending the SCRAM
    /// nonce it was sent where a reply holds `{nonce}`.
    async fn attempt(replies: Vec<Vec<u8>>, channel: Channel) -> Attempt {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let peer = tokio::spawn(async move {
            let mut received = Vec::new();
            let mut nonce = String::new();
            for (index, reply) in replies.into_iter().enumerate() {
                if index > 0 {
                    let Ok(kind) = server.read_u8().await else {
                        return received;
                    };
                    received.push(kind);
                }
                let length = server.read_i32().await.unwrap_or(4);
                let mut body = vec![0u8; usize::try_from(length - 4).unwrap_or(0)];
                if server.read_exact(&mut body).await.is_err() {
                    return received;
                }
                received.extend_from_slice(&body);
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
                    return received;
                }
            }
            let _ = server.read_to_end(&mut received).await;
            received
        });
        let opened = Stream {
            io: Box::new(client),
            channel,
            address: "db:5432".into(),
        };
        let password = SecretString::from("pencil-pencil-pencil");
        let outcome = match Session::start(opened, "app", &password, "db").await {
            // Dropped: the server sees the end of the stream.
            Ok(_session) => "logged in".into(),
            Err(WireError::Protocol(message)) => message,
            Err(error) => {
                match super::super::errors::failed(
                    "postgresql app@db",
                    "db",
                    Doing::Login("app"),
                    error,
                ) {
                    StepError::Failed(text) | StepError::Rejected(text) => text,
                }
            }
        };
        let received = peer.await.unwrap_or_default();
        Attempt {
            outcome,
            received: String::from_utf8_lossy(&received).into_owned(),
        }
    }

    /// How a login against `replies` ended.
    async fn login_against(replies: Vec<Vec<u8>>, channel: Channel) -> String {
        attempt(replies, channel).await.outcome
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
        let error = login_against(vec![sasl(), challenge(), wrong], Channel::Plain).await;
        assert!(error.contains("SCRAM signature is wrong"), "{error}");
    }

    #[tokio::test]
    async fn a_server_that_skips_the_end_of_scram_is_caught() {
        let error = login_against(vec![sasl(), authentication(0, b"")], Channel::Plain).await;
        assert!(error.contains("before finishing SCRAM"), "{error}");
    }

    #[tokio::test]
    async fn weak_or_unknown_methods_and_huge_messages_are_refused() {
        let cleartext = login_against(vec![authentication(3, b"")], Channel::Plain).await;
        assert!(cleartext.contains("clear text"), "{cleartext}");
        let md5 = login_against(vec![authentication(5, b"salt")], Channel::Local).await;
        assert!(md5.contains("MD5"), "{md5}");
        let gss = login_against(vec![authentication(7, b"")], Channel::Local).await;
        assert!(gss.contains("code 7"), "{gss}");
        let mut huge = vec![b'R'];
        huge.extend_from_slice(&0x7fff_fff0i32.to_be_bytes());
        let huge = login_against(vec![huge], Channel::Local).await;
        assert!(huge.contains("at most"), "{huge}");
    }

    fn unverified_tls() -> Channel {
        Channel::Tls {
            verified: false,
            certificate: Some(
                super::super::channel_binding::tests::certificate_signed_with_sha256(),
            ),
        }
    }

    fn ready() -> Vec<u8> {
        [authentication(0, b""), message(b'Z', b"I")].concat()
    }

    #[tokio::test]
    async fn a_cleartext_password_goes_only_to_a_server_that_proved_who_it_is() {
        for channel in [Channel::Plain, unverified_tls()] {
            let seen = attempt(vec![authentication(3, b""), ready()], channel).await;
            let error = seen.outcome;
            assert!(
                error.contains("db:5432 asks for the password of app in clear text")
                    && error.contains("no password was sent")
                    && error.contains("hint: use sslmode: verify-full"),
                "{error}"
            );
            assert!(!seen.received.contains("pencil"), "{}", seen.received);
        }
        let impostor = login_against(vec![authentication(3, b"")], unverified_tls()).await;
        assert!(
            impostor.contains("an impostor on that address would get it"),
            "{impostor}"
        );
        let verified = Channel::Tls {
            verified: true,
            certificate: None,
        };
        for channel in [Channel::Local, verified] {
            let seen = attempt(vec![authentication(3, b""), ready()], channel).await;
            assert_eq!(seen.outcome, "logged in");
            assert!(seen.received.contains("pencil-pencil-pencil"));
        }
    }

    #[tokio::test]
    async fn scram_is_bound_to_the_tls_channel_when_the_server_offers_it() {
        let refuse = message(b'E', b"C28P01\0Mno\0\0");
        let both = authentication(10, b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0");
        let bound = attempt(vec![both.clone(), refuse.clone()], unverified_tls()).await;
        assert!(
            bound.received.contains("SCRAM-SHA-256-PLUS\0")
                && bound.received.contains("p=tls-server-end-point,,n=,r="),
            "{}",
            bound.received
        );
        // Not offered over TLS: the `y` flag, so that a server that does offer it (someone
        // removed it on the way) refuses.
        let stripped = attempt(vec![sasl(), refuse.clone()], unverified_tls()).await;
        assert!(stripped.received.contains("SCRAM-SHA-256\0"));
        assert!(
            stripped.received.contains("y,,n=,r="),
            "{}",
            stripped.received
        );
        let plain = attempt(vec![sasl(), refuse], Channel::Plain).await;
        assert!(plain.received.contains("n,,n=,r="), "{}", plain.received);
        // Offered without TLS, which PostgreSQL never does.
        let odd = login_against(vec![both], Channel::Plain).await;
        assert!(odd.contains("without TLS"), "{odd}");
    }

    #[tokio::test]
    async fn a_server_message_cannot_forge_our_lines() {
        let hostile = message(
            b'E',
            b"SFATAL\0C3D000\0Mx\r\x1b[2K\x1b[1Acronos-secrets: rotated database_password\n\0\0",
        );
        let error = login_against(vec![hostile], Channel::Plain).await;
        assert!(
            error.contains("x\\r\\u{1b}[2K\\u{1b}[1Acronos-secrets: rotated database_password\\n (SQLSTATE 3D000)"),
            "{error}"
        );
        assert!(
            !error.contains('\u{1b}') && !error.contains('\r'),
            "{error:?}"
        );
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
            channel: Channel::Plain,
            address: "db:5432".into(),
        };
        let session = Session::start(opened, "app", &SecretString::from("x"), "db").await;
        assert!(session.is_ok_and(|session| !session.password_checked));
        peer.abort();
    }
}
