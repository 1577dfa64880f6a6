//! A pending slot is data from the backend, not instructions: whoever may write the secret's
//! path may write a slot, and `--resume` would set its value in the database as the user it
//! names. So before any step the whole slot must look like one this tool wrote for this
//! secret: a rotation id as `protocol::rotation_id` makes them, the version the rotation
//! started from, a value every launch accepts, and a login role the config names. Anything
//! else is refused by its location, and never echoed (its value may be a password).

use super::protocol::{CurrentValue, Rotating};
use crate::backend::PendingSlot;
use crate::problem::Problem;
use crate::untrusted_text::escaped;
use crate::validate;

/// `^[0-9a-f]{32}$`: what `protocol::rotation_id` generates.
pub fn well_formed_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A version id as the backends make them: KV v2's numbers, Key Vault's 32 hex characters,
/// AWS's UUIDs and our own rotation ids.
fn well_formed_version(version: &str) -> bool {
    (1..=64).contains(&version.len())
        && version
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

impl Rotating<'_> {
    /// Why `slot` is not one this tool wrote for this secret, if it is not. `current`: the
    /// value now, when read (an alternating slot names the role not in use).
    pub(super) fn foreign(
        &self,
        slot: &PendingSlot,
        current: Option<&CurrentValue>,
    ) -> Option<String> {
        if !well_formed_id(&slot.rotation_id) {
            return Some("its rotation id is not 32 lowercase hexadecimal characters".into());
        }
        match slot.base_version.as_deref() {
            None => return Some("it records no version the rotation started from".into()),
            Some(version) if !well_formed_version(version) => {
                return Some("the version it records as the rotation's start is malformed".into());
            }
            Some(_) => {}
        }
        if let Some(why) = validate::launch_refusal(self.secret, &slot.value) {
            return Some(format!("its value {why}"));
        }
        self.foreign_login(slot, current)
    }

    /// Why the slot's login role is not one *set* may change, if it is not: with
    /// `alternating` one of the two roles, the one not in use (unless the slot is current
    /// already, or is `--setup`'s pair-up of the password in use); with `single` none or the
    /// configured one; with a key none.
    pub(super) fn foreign_login(
        &self,
        slot: &PendingSlot,
        current: Option<&CurrentValue>,
    ) -> Option<String> {
        let allowed = match (self.pair, self.system) {
            (Some(pair), _) => pair.to_vec(),
            (None, Some(system)) => system.users(),
            (None, None) => Vec::new(),
        };
        let Some(name) = &slot.username else {
            return self
                .pair
                .map(|_| "it names no login role, which strategy alternating needs".into());
        };
        if !allowed.contains(name) {
            return Some(format!(
                "it names the login role {}, which the config does not name",
                escaped(name)
            ));
        }
        let current = current.filter(|_| self.pair.is_some())?;
        let pair_up = current.fetched.value.expose() == slot.value.expose();
        (current.username.as_deref() == Some(name.as_str()) && !current.is(slot) && !pair_up).then(
            || {
                format!(
                    "it names {name}, the login role in use now (a rotation sets the other one)"
                )
            },
        )
    }

    /// Refuses `slot` unless this tool wrote it for this secret.
    pub(super) fn check_slot(
        &self,
        slot: &PendingSlot,
        current: Option<&CurrentValue>,
    ) -> Result<(), Problem> {
        match self.foreign(slot, current) {
            None => Ok(()),
            Some(why) => Err(self.foreign_slot(&why)),
        }
    }

    fn foreign_slot(&self, why: &str) -> Problem {
        Problem::new(
            &self.secret.name,
            format!(
                "the pending slot at {} was not written by cronos-secrets ({why}); nothing was changed",
                self.pending_location()
            ),
        )
        .with_hint(format!(
            "inspect it, then drop it: cronos-secrets rotate --abort {}",
            self.secret.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_rotation_ids_are_well_formed() {
        assert!(well_formed_id("0123456789abcdef0123456789abcdef"));
        for wrong in [
            "",
            "0123456789abcdef0123456789abcde",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcdef0",
            "a1b2c3d4-0000-0000-0000-000000000000",
            "abc\n\u{1b}[1;32m0123456789abcdef01234",
        ] {
            assert!(!well_formed_id(wrong), "{wrong:?}");
        }
    }

    #[test]
    fn versions_are_short_ids() {
        for good in [
            "7",
            "0123456789abcdef0123456789abcdef",
            "a1b2c3d4-0000-0000",
        ] {
            assert!(well_formed_version(good), "{good}");
        }
        for wrong in ["", "1 OR 1", "v\n2", &"9".repeat(65)] {
            assert!(!well_formed_version(wrong), "{wrong:?}");
        }
    }
}
