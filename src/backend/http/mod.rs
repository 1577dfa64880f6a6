//! The one HTTPS client of the secrets servers that have no SDK here (Vault and Key Vault with
//! its token endpoints). The backends keep only their authentication and request shapes.

mod client;
mod failure;
mod redirect;
mod retry;

pub use client::{Answer, Client, Patience, Settings};
pub use failure::Failure;
// Vault's messages count the hops; a build may leave Vault out.
#[cfg_attr(not(feature = "vault"), allow(unused_imports))]
pub use redirect::MAX_HOPS;
pub use redirect::Redirects;
pub use retry::chain;
