//! A finding's identity without its value: SHA-256 over a domain tag, the rule and the value,
//! truncated to 128 bits. It cannot be turned back into the value (a weak password can still
//! be guessed and checked against it, like any hash), and it does not depend on the line, so
//! a baseline survives edits above a finding.

use sha2::{Digest, Sha256};

pub fn fingerprint(rule: &str, value: impl AsRef<[u8]>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"cronos-secrets scan v1\0");
    hasher.update(rule.as_bytes());
    hasher.update(b"\0");
    hasher.update(value.as_ref());
    let digest = hasher.finalize();
    digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_on_rule_and_value_only() {
        let a = fingerprint("declared-secret", "hunter2hunter2hunter2");
        assert_eq!(a.len(), 32);
        assert_eq!(a, fingerprint("declared-secret", "hunter2hunter2hunter2"));
        assert_ne!(
            a,
            fingerprint("password-assignment", "hunter2hunter2hunter2")
        );
        assert!(!a.contains("hunter2"));
    }
}
