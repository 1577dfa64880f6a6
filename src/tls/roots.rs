//! Which certificate authorities a client trusts: the Mozilla roots built into the binary (a
//! `FROM scratch` image has no CA bundle), the platform's, and PEM files the user names.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::bounded::{self, ReadError};

/// A PEM bundle of CA certificates and the setting that names it (`VAULT_CACERT`,
/// `rotation.redis.tls_ca` …), for messages.
#[derive(Clone, Copy)]
pub struct CaFile<'a> {
    pub path: &'a Path,
    pub setting: &'a str,
}

impl CaFile<'_> {
    pub(super) fn named(&self) -> Named {
        Named {
            path: self.path.to_path_buf(),
            setting: self.setting.to_string(),
        }
    }
}

/// The roots a client trusts.
#[derive(Clone, Copy)]
pub enum Trust<'a> {
    /// The built-in roots only (the PostgreSQL and Redis clients without a CA file).
    BuiltIn,
    /// The built-in roots, the platform's (`SSL_CERT_FILE`, `SSL_CERT_DIR` or the system
    /// bundle, as OpenSSL finds them) and `extra`: a private CA does not cost the public
    /// endpoints their trust.
    Public { extra: Option<CaFile<'a>> },
    /// Only this bundle (a private CA: `VAULT_CACERT`, `sslrootcert`, `tls_ca`).
    Only(CaFile<'a>),
}

impl<'a> Trust<'a> {
    /// [`Trust::Only`] the file `setting` names if it names one, else [`Trust::BuiltIn`].
    pub fn file_or_built_in(path: Option<&'a Path>, setting: &'a str) -> Trust<'a> {
        match path {
            Some(path) => Trust::Only(CaFile { path, setting }),
            None => Trust::BuiltIn,
        }
    }
}

/// A CA file as an error names it.
#[derive(Debug)]
pub struct Named {
    path: PathBuf,
    setting: String,
}

/// Why the roots could not be set up. The text names the setting and the file.
#[derive(Debug)]
pub enum RootsError {
    Unreadable(Named, ReadError),
    NotPem(Named, rustls::pki_types::pem::Error),
    NoCertificate(Named),
    /// The platform's bundle did not load by the deadline (a FIFO, a hung mount).
    PlatformTimedOut,
    Setup(rustls::Error),
}

impl RootsError {
    /// A `hint:` for the reading failures that have a usual cause.
    pub fn hint(&self) -> Option<String> {
        match self {
            RootsError::Unreadable(_, error) => error.hint(),
            RootsError::PlatformTimedOut => Some(
                "check SSL_CERT_FILE and SSL_CERT_DIR (a regular PEM file, a readable directory), or raise --timeout"
                    .into(),
            ),
            _ => None,
        }
    }
}

impl fmt::Display for RootsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootsError::Unreadable(Named { path, setting }, error) => write!(
                f,
                "cannot read {setting} {}: the file {error}",
                path.display()
            ),
            RootsError::NotPem(Named { path, setting }, error) => write!(
                f,
                "{setting} {} is not a PEM certificate bundle: {error}",
                path.display()
            ),
            RootsError::NoCertificate(Named { path, setting }) => write!(
                f,
                "{setting} {} holds no CA certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ),
            RootsError::PlatformTimedOut => write!(
                f,
                "the platform's CA certificates (SSL_CERT_FILE, SSL_CERT_DIR or the system bundle) did not load by the deadline"
            ),
            RootsError::Setup(error) => write!(f, "TLS set-up failed: {error}"),
        }
    }
}

/// The certificates `trust` names, files read within `deadline`; only those that parse as
/// trust anchors (the AWS SDK's trust store panics on any other).
pub async fn roots(
    trust: Trust<'_>,
    deadline: Instant,
) -> Result<Vec<CertificateDer<'static>>, RootsError> {
    let mut roots = named(trust, deadline).await?;
    roots.retain(|root| RootCertStore::empty().add(root.clone()).is_ok());
    Ok(roots)
}

async fn named(
    trust: Trust<'_>,
    deadline: Instant,
) -> Result<Vec<CertificateDer<'static>>, RootsError> {
    match trust {
        Trust::BuiltIn => Ok(built_in().collect()),
        Trust::Only(file) => read(file, deadline).await,
        Trust::Public { extra } => {
            // The named file first: a FIFO or a typo is said at once, in its setting's name.
            let mut roots = match extra {
                Some(file) => read(file, deadline).await?,
                None => Vec::new(),
            };
            roots.extend(built_in());
            roots.extend(platform(deadline).await?.iter().cloned());
            Ok(roots)
        }
    }
}

/// The Mozilla roots compiled in (webpki-root-certs).
fn built_in() -> impl Iterator<Item = CertificateDer<'static>> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned()
}

/// The certificates of the PEM bundle `file`, read within `deadline`.
async fn read(
    file: CaFile<'_>,
    deadline: Instant,
) -> Result<Vec<CertificateDer<'static>>, RootsError> {
    let pem = bounded::read_regular_file_until(
        file.path.to_path_buf(),
        bounded::SECRET_FILE_LIMIT,
        deadline,
    )
    .await
    .map_err(|error| RootsError::Unreadable(file.named(), error))?;
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|error| RootsError::NotPem(file.named(), error))?;
    if certificates.is_empty() {
        return Err(RootsError::NoCertificate(file.named()));
    }
    Ok(certificates)
}

/// The platform's roots (none in a `FROM scratch` image), loaded once per process on the
/// blocking pool and abandoned at `deadline`: `SSL_CERT_FILE` may name a FIFO.
async fn platform(deadline: Instant) -> Result<&'static [CertificateDer<'static>], RootsError> {
    static PLATFORM: OnceCell<Vec<CertificateDer<'static>>> = OnceCell::const_new();
    let load = || async {
        let load = tokio::task::spawn_blocking(|| rustls_native_certs::load_native_certs().certs);
        match tokio::time::timeout_at(deadline, load).await {
            Ok(Ok(certificates)) => Ok(certificates),
            // The loader panicked: the platform adds no roots, as when it has none.
            Ok(Err(_)) => Ok(Vec::new()),
            Err(_) => Err(RootsError::PlatformTimedOut),
        }
    };
    Ok(PLATFORM.get_or_try_init(load).await?.as_slice())
}
