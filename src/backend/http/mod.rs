//! The one HTTPS client of the secrets servers that have no SDK here (Vault and Key Vault with
//! its token endpoints). The backends keep only their authentication and request shapes.

mod client;
mod failure;
mod redirect;
mod retry;

pub use client::{Answer, Client, Patience, Settings};
pub use failure::Failure;
pub use redirect::{MAX_HOPS, Redirects};
pub use retry::chain;
