//! The one type that holds a secret value.
//!
//! It cannot print itself (`Debug` and `Display` say `[redacted]`), it is zeroized when dropped,
//! and the bytes come out only through [`SecretString::expose`], which the exec boundary, the
//! validator and 0600 file writers call. Grepping for `expose(` finds every place a value leaves.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use zeroize::Zeroize;

/// Secret bytes. Usually UTF-8, but a value inherited from the process environment may not be,
/// so the validator, not the type, decides whether that is acceptable.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretString(Vec<u8>);

impl SecretString {
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Self(value.into())
    }

    pub fn from_os(value: OsString) -> Self {
        Self(value.into_vec())
    }

    /// The raw bytes. Call only where the value must leave: exec, a 0600 file, validation.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The value as UTF-8, if it is.
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    pub fn as_os_str(&self) -> &OsStr {
        OsStr::from_bytes(&self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length in characters when UTF-8 (the unit of the guide's minimum lengths), else in bytes.
    pub fn char_len(&self) -> usize {
        match self.expose_str() {
            Some(text) => text.chars().count(),
            None => self.0.len(),
        }
    }

    /// Removes one trailing newline (`\n` or `\r\n`), as mounted secret files usually end with one.
    #[must_use]
    pub fn trim_one_trailing_newline(mut self) -> Self {
        if self.0.ends_with(b"\r\n") {
            self.0.truncate(self.0.len() - 2);
        } else if self.0.ends_with(b"\n") {
            self.0.truncate(self.0.len() - 1);
        }
        self
    }

    pub fn push_bytes(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value.into_bytes())
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = SecretString::from("hunter2-hunter2-hunter2");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(secret)), "Some([redacted])");
    }

    #[test]
    fn length_counts_characters() {
        assert_eq!(SecretString::from("ééé").char_len(), 3);
        assert_eq!(SecretString::new(vec![0xff, 0xfe]).char_len(), 2);
    }

    #[test]
    fn trims_exactly_one_trailing_newline() {
        let trimmed = SecretString::from("abc\n\n").trim_one_trailing_newline();
        assert_eq!(trimmed.expose(), b"abc\n");
        let crlf = SecretString::from("abc\r\n").trim_one_trailing_newline();
        assert_eq!(crlf.expose(), b"abc");
    }
}
