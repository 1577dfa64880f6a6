//! One connection to Redis, plain TCP or TLS, every operation under the rotation's deadline.

use std::fmt;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use zeroize::Zeroizing;

use super::resp::{self, ProtocolError, Reply};

/// Where to connect, and how to check the server when over TLS.
pub struct Endpoint<'a> {
    pub host: &'a str,
    pub port: u16,
    pub tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
}

/// Why a connection failed. None of these holds anything the server said.
#[derive(Debug)]
pub enum ConnectionError {
    Connect(std::io::Error),
    Handshake(std::io::Error),
    Io(std::io::Error),
    Closed,
    TimedOut,
    Protocol(ProtocolError),
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionError::Connect(error) => write!(f, "cannot connect: {error}"),
            ConnectionError::Handshake(error) => write!(f, "TLS handshake failed: {error}"),
            ConnectionError::Io(error) => write!(f, "connection failed: {error}"),
            ConnectionError::Closed => f.write_str("the server closed the connection"),
            ConnectionError::TimedOut => f.write_str("timed out (--timeout)"),
            ConnectionError::Protocol(error) => error.fmt(f),
        }
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

pub struct Connection {
    stream: Box<dyn Stream>,
    /// Bytes read and not yet parsed; replies may hold password hashes.
    buffer: Zeroizing<Vec<u8>>,
    deadline: Instant,
}

impl Connection {
    pub async fn open(endpoint: Endpoint<'_>, deadline: Instant) -> Result<Self, ConnectionError> {
        let tcp = timeout_at(deadline, TcpStream::connect((endpoint.host, endpoint.port)))
            .await
            .map_err(|_| ConnectionError::TimedOut)?
            .map_err(ConnectionError::Connect)?;
        // Commands are small and each waits for its reply: no reason to batch them.
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Stream> = match endpoint.tls {
            None => Box::new(tcp),
            Some((config, name)) => {
                let connector = tokio_rustls::TlsConnector::from(config);
                let tls = timeout_at(deadline, connector.connect(name, tcp))
                    .await
                    .map_err(|_| ConnectionError::TimedOut)?
                    .map_err(ConnectionError::Handshake)?;
                Box::new(tls)
            }
        };
        Ok(Connection {
            stream,
            buffer: Zeroizing::new(Vec::with_capacity(16 * 1024)),
            deadline,
        })
    }

    /// Sends one command and reads its reply.
    pub async fn call(&mut self, args: &[&[u8]]) -> Result<Reply, ConnectionError> {
        let request = resp::command(args);
        let deadline = self.deadline;
        timeout_at(deadline, async {
            self.stream.write_all(&request).await?;
            self.stream.flush().await
        })
        .await
        .map_err(|_| ConnectionError::TimedOut)?
        .map_err(ConnectionError::Io)?;
        self.read_reply().await
    }

    async fn read_reply(&mut self) -> Result<Reply, ConnectionError> {
        let mut chunk = Zeroizing::new([0u8; 8192]);
        // Bytes left from an earlier read may hold a whole reply.
        let mut may_be_complete = !self.buffer.is_empty();
        loop {
            // A reply ends with a newline: parsing only then keeps an endless line linear.
            if may_be_complete
                && let Some((reply, used)) =
                    resp::parse(&self.buffer).map_err(ConnectionError::Protocol)?
            {
                self.buffer.drain(..used);
                return Ok(reply);
            }
            if self.buffer.len() > resp::BUFFER_LIMIT {
                return Err(ConnectionError::Protocol(ProtocolError::TooLarge));
            }
            let read = timeout_at(self.deadline, self.stream.read(chunk.as_mut_slice()))
                .await
                .map_err(|_| ConnectionError::TimedOut)?
                .map_err(ConnectionError::Io)?;
            if read == 0 {
                return Err(ConnectionError::Closed);
            }
            self.buffer.extend_from_slice(&chunk[..read]);
            may_be_complete = memchr::memchr(b'\n', &chunk[..read]).is_some();
        }
    }
}
