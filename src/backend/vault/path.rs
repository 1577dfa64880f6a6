//! Vault paths built from references and settings. Each segment is checked, so that a
//! reference cannot climb out of its mount or `vault_path` (`vault://kv/../auth/token/lookup-self`
//! would read the launcher's own token into the program), nor hide a `/`, `.` or `\` from the
//! check in encoded form. The request URL then encodes each segment on its own.

use crate::problem::Problem;

/// One secret in a KV mount: the unit of a read (several keys of it cost one request).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretPath {
    pub mount: String,
    pub path: String,
    pub version: Option<u64>,
}

impl SecretPath {
    /// The API path: `secret/data/cronos-ai/production/jwt_secret` for KV v2.
    pub fn api_path(&self, kv_version: u8) -> String {
        match kv_version {
            1 => format!("{}/{}", self.mount, self.path),
            _ => format!("{}/data/{}", self.mount, self.path),
        }
    }

    /// `secret/cronos-ai/production/jwt_secret`, as `bao kv get` names it.
    pub fn logical(&self) -> String {
        format!("{}/{}", self.mount, self.path)
    }
}

/// Why `path` (a `/`-separated Vault path, its ends already trimmed) cannot be used, or
/// `None`. The text names only the offending segment or characters, never the rest.
pub fn problem(path: &str) -> Option<String> {
    for segment in path.split('/') {
        match segment {
            "" => return Some("an empty segment (\"//\")".to_string()),
            "." | ".." => return Some(format!("a \"{segment}\" segment")),
            _ => {}
        }
        if segment.contains('\\') {
            return Some("a backslash (\"\\\")".to_string());
        }
        if segment.chars().any(char::is_control) {
            return Some("a control character".to_string());
        }
        let lower = segment.to_ascii_lowercase();
        for encoded in ["%2f", "%2e", "%5c"] {
            if let Some(at) = lower.find(encoded) {
                return Some(format!(
                    "an encoded \"{}\"",
                    &segment[at..at + encoded.len()]
                ));
            }
        }
    }
    None
}

/// Why `mount` cannot be a KV mount (it is one of Vault's own API prefixes), or `None`.
/// Refused as a mount before any request, whatever the KV version setting says.
pub fn system_mount(mount: &str) -> Option<String> {
    crate::reference::vault_system_mount(mount)
        .map(|system| format!("\"{system}/\" is Vault's own API, not a KV secrets engine"))
}

pub const SYSTEM_MOUNT_HINT: &str = "a vault:// reference names a KV mount and a path in it (vault://secret/app#password); the launcher's token and Vault's configuration are never secrets to hand on";

pub const HINT: &str = "Vault paths are plain names separated by single slashes; a reference cannot leave its mount or vault_path";

/// A configured mount or path prefix: plain segments only (see `path`).
pub fn check_setting(text: &str, setting: &str) -> Result<(), Problem> {
    match problem(text) {
        None => Ok(()),
        Some(why) => {
            Err(Problem::new(setting, format!("the Vault path has {why}")).with_hint(HINT))
        }
    }
}

/// The configured mount: plain segments, and not one of Vault's own API prefixes.
pub fn check_mount_setting(text: &str, setting: &str) -> Result<(), Problem> {
    if let Some(why) = text.split('/').next().and_then(system_mount) {
        return Err(Problem::new(setting, why).with_hint(SYSTEM_MOUNT_HINT));
    }
    check_setting(text, setting)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_encoded_separators_are_refused() {
        for (path, why) in [
            ("../auth/token/lookup-self", "a \"..\" segment"),
            (
                "cronos-ai/production/../../../sys/wrapping/lookup",
                "a \"..\" segment",
            ),
            ("a/./b", "a \".\" segment"),
            ("a//b", "an empty segment (\"//\")"),
            ("a%2Fb", "an encoded \"%2F\""),
            ("a%2f..", "an encoded \"%2f\""),
            ("%2E%2E/sys", "an encoded \"%2E\""),
            ("x/%2e%2e", "an encoded \"%2e\""),
            ("a%5Cb", "an encoded \"%5C\""),
            ("a\\..\\b", "a backslash (\"\\\")"),
            ("ho\nme", "a control character"),
        ] {
            assert_eq!(problem(path).as_deref(), Some(why), "{path:?}");
        }
    }

    #[test]
    fn system_prefixes_are_not_mounts() {
        for mount in ["auth", "sys", "SYS", "identity", "cubbyhole", "token"] {
            assert!(system_mount(mount).is_some(), "{mount}");
        }
        for mount in ["secret", "kv", "authz", "system", "tokens"] {
            assert_eq!(system_mount(mount), None, "{mount}");
        }
    }

    #[test]
    fn ordinary_paths_pass() {
        for path in [
            "secret",
            "cronos-ai/production/jwt_secret",
            "team.v2/db-password",
            "a..b/c.d",
            "100%",
        ] {
            assert_eq!(problem(path), None, "{path:?}");
        }
    }
}
