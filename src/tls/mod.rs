//! TLS for every network client: Vault, Key Vault and its token endpoints (through reqwest),
//! the PostgreSQL and Redis clients of `rotate`, and the AWS SDK. The trust roots are chosen
//! once here ([`Trust`]) and become one rustls `ClientConfig`; the AWS SDK builds its own
//! config, so it takes the same list of roots ([`roots`]). A fix to trust is made once.

mod roots;
mod unverified;

use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

// A CA file beside the public roots is Vault's and Key Vault's, which a build may leave out.
#[cfg_attr(not(any(feature = "vault", feature = "azure")), allow(unused_imports))]
pub use roots::CaFile;
pub use roots::{RootsError, Trust, roots};
pub use unverified::unverified;

/// A rustls client that verifies the server's chain and name against the roots of `trust`,
/// read within `deadline` (a FIFO or a hung mount must not hold the launch or the rotation).
pub async fn client_config(
    trust: Trust<'_>,
    deadline: tokio::time::Instant,
) -> Result<ClientConfig, RootsError> {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(roots(trust, deadline).await?);
    // A bundle of nothing but unparsable certificates trusts nobody: said now, not at the
    // first handshake.
    if let (Trust::Only(file), true) = (trust, store.is_empty()) {
        return Err(RootsError::NoCertificate(file.named()));
    }
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(RootsError::Setup)?
        .with_root_certificates(store)
        .with_no_client_auth())
}

/// The provider named, not the process default: nothing else has to install one first.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
