//! Reaching the server as libpq does: a unix socket when `host` is a directory, else TCP to
//! each address of the name in turn, then TLS as `sslmode` says (SSLRequest first).

use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

use super::tls;
use super::wire::{self, WireError};
use crate::config::{DatabaseSettings, SslMode};
use crate::tls::Trust;

/// The SSLRequest code (1234 5679).
const SSL_REQUEST: i32 = 80_877_103;

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open byte stream to the server.
pub struct Stream {
    pub io: Box<dyn Io>,
    pub channel: Channel,
    /// `host:port` or the socket's path, for messages.
    pub address: String,
}

/// What protects the bytes between us and the server.
pub enum Channel {
    /// A unix socket: the kernel is the channel, and its path names the server.
    Local,
    /// TCP without TLS.
    Plain,
    /// TLS. `verified`: the chain and the host name were checked (`verify-full`); without
    /// that, whoever answers on the address is believed. `certificate`: the server's (DER),
    /// for channel binding.
    Tls {
        verified: bool,
        certificate: Option<Vec<u8>>,
    },
}

impl Channel {
    /// Whether a password may cross in clear text: only to a server we know is the one the
    /// config names (an impostor must not collect it, whatever `sslmode` says).
    pub fn proves_the_server(&self) -> bool {
        matches!(self, Channel::Local | Channel::Tls { verified: true, .. })
    }
}

/// Where and how to connect; the TLS configuration is built once, for every connection.
pub struct Target {
    pub host: String,
    pub port: u16,
    sslmode: SslMode,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Target {
    /// Reads `sslrootcert` (bounded, before `deadline`) for `verify-full`.
    pub async fn new(
        settings: &DatabaseSettings,
        deadline: tokio::time::Instant,
    ) -> Result<Target, String> {
        let unix = settings.host.starts_with('/');
        let tls = match settings.sslmode {
            // libpq never uses TLS on a unix socket: the kernel is the channel.
            _ if unix => None,
            SslMode::Disable => None,
            SslMode::Prefer | SslMode::Require => Some(tls::unverified()?),
            SslMode::VerifyFull => {
                let trust = Trust::file_or_built_in(
                    settings.sslrootcert.as_deref(),
                    "rotation.database.sslrootcert",
                );
                let verifying = crate::tls::client_config(trust, deadline)
                    .await
                    .map_err(|error| error.to_string())?;
                Some(tls::with_alpn(verifying))
            }
        };
        Ok(Target {
            host: settings.host.clone(),
            port: settings.port,
            sslmode: settings.sslmode,
            tls: tls.map(Arc::new),
        })
    }

    pub async fn open(&self) -> Result<Stream, WireError> {
        if self.host.starts_with('/') {
            let path = format!("{}/.s.PGSQL.{}", self.host, self.port);
            let socket = UnixStream::connect(&path)
                .await
                .map_err(|error| WireError::Io(format!("cannot connect to {path}: {error}")))?;
            return Ok(Stream {
                io: Box::new(socket),
                channel: Channel::Local,
                address: path,
            });
        }
        let address = format!("{}:{}", self.host, self.port);
        let mut tcp = self.connect_tcp().await?;
        let Some(config) = &self.tls else {
            return Ok(Stream {
                io: Box::new(tcp),
                channel: Channel::Plain,
                address,
            });
        };
        let mut request = Vec::new();
        request.extend_from_slice(&SSL_REQUEST.to_be_bytes());
        wire::write_message(&mut tcp, 0, &request).await?;
        // One byte, read unbuffered: anything the server sent after it, before the handshake,
        // would otherwise be taken as coming over TLS (CVE-2021-23222).
        match tcp.read_u8().await? {
            b'S' => {}
            b'N' if self.sslmode == SslMode::Prefer => {
                return Ok(Stream {
                    io: Box::new(tcp),
                    channel: Channel::Plain,
                    address,
                });
            }
            b'N' => {
                return Err(WireError::Protocol(
                    "the server does not offer TLS, which sslmode require/verify-full demands (ssl = on in postgresql.conf, or sslmode: prefer)".into(),
                ));
            }
            _ => {
                return Err(WireError::Protocol(
                    "the server did not answer the TLS request (not PostgreSQL 7.2 or later?)"
                        .into(),
                ));
            }
        }
        let name = ServerName::try_from(self.host.clone()).map_err(|_| {
            WireError::Protocol(format!("\"{}\" is not a valid TLS server name", self.host))
        })?;
        let tls = tokio_rustls::TlsConnector::from(Arc::clone(config))
            .connect(name, tcp)
            .await
            .map_err(|error| WireError::Tls(format!("TLS handshake: {error}")))?;
        let certificate = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|certificate| certificate.to_vec());
        Ok(Stream {
            io: Box::new(tls),
            channel: Channel::Tls {
                verified: self.sslmode == SslMode::VerifyFull,
                certificate,
            },
            address,
        })
    }

    /// Each address of the name in turn (localhost may be ::1 first), as libpq does.
    async fn connect_tcp(&self) -> Result<TcpStream, WireError> {
        let addresses = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|error| WireError::Io(format!("cannot resolve {}: {error}", self.host)))?;
        let mut last = None;
        for address in addresses {
            match TcpStream::connect(address).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(error) => last = Some(format!("cannot connect to {address}: {error}")),
            }
        }
        Err(WireError::Io(last.unwrap_or_else(|| {
            format!("{} resolves to no address", self.host)
        })))
    }
}
