//! `backup`, `restore` and `migrate`: an age-encrypted copy of exactly the secrets a deployment
//! uses ([`select`]), read through the launcher's audited read path ([`take`]), sealed in
//! memory ([`crypt`], [`keys`]) in a versioned JSON layout ([`layout`]), and written back
//! through `set`'s checks and writes ([`restore`]). `migrate` is a backup and a restore with
//! no file between them.

pub mod crypt;
pub mod keys;
pub mod layout;
pub mod restore;
pub mod rewrite;
pub mod select;
pub mod take;
