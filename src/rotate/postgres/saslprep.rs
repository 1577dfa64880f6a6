//! SASLprep (RFC 4013) of a password before SCRAM, as PostgreSQL applies it on both sides
//! (`pg_saslprep`, used by the server for `ALTER ROLE … PASSWORD '…'` and by libpq): the
//! prepared form when the password is UTF-8 and SASLprep accepts it, else the password's own
//! bytes. Without it, a non-ASCII password set by psql or another tool (a soft hyphen, which
//! maps to nothing; "Ⅸ" or fullwidth letters, which NFKC folds to ASCII) would not log in.
//!
//! Printable ASCII, which every password we generate is, comes out as it went in.

use std::borrow::Cow;

use zeroize::Zeroizing;

/// The bytes SCRAM salts for `password`, zeroized on drop (they log in as well as the
/// password does). The stringprep crate's intermediate strings for a non-ASCII password are
/// not zeroized; ASCII takes its fast path, which copies nothing.
pub fn prepared(password: &[u8]) -> Zeroizing<Vec<u8>> {
    let raw = || Zeroizing::new(password.to_vec());
    let Ok(text) = std::str::from_utf8(password) else {
        return raw();
    };
    // The error names the offending character: dropped unread, it is part of the password.
    match stringprep::saslprep(text) {
        Ok(Cow::Owned(prepared)) => {
            let prepared = Zeroizing::new(prepared.into_bytes());
            // Nothing left after mapping (only soft hyphens, zero-width joiners…): PostgreSQL
            // calls that prohibited, and so uses the raw bytes.
            if prepared.is_empty() { raw() } else { prepared }
        }
        Ok(Cow::Borrowed(_)) | Err(_) => raw(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap_or("(not UTF-8)")
    }

    #[test]
    fn mapping_and_normalisation() {
        // Soft hyphen and zero-width no-break space map to nothing; NFKC folds compatibility forms;
        // a non-ASCII space becomes a space.
        assert_eq!(
            text(&prepared("pass\u{AD}word\u{FEFF}".as_bytes())),
            "password"
        );
        assert_eq!(text(&prepared("Ⅸ-ｐａｓｓ".as_bytes())), "IX-pass");
        assert_eq!(text(&prepared("a\u{A0}b".as_bytes())), "a b");
        assert_eq!(text(&prepared("é".as_bytes())), "é");
        assert_eq!(text(&prepared("e\u{301}".as_bytes())), "é");
    }

    #[test]
    fn what_saslprep_refuses_is_used_as_it_is() {
        for password in [
            // ASCII, control characters too (PostgreSQL's fast path keeps them).
            b"plain ASCII ~!@#$%^&*()".to_vec(),
            b"tab\tand\x7f".to_vec(),
            // Not UTF-8.
            vec![b'p', 0xff, 0xfe, b'w'],
            // Prohibited output (a non-ASCII control character, private use).
            "x\u{80}y".as_bytes().to_vec(),
            "x\u{E000}".as_bytes().to_vec(),
            // Bidi: right-to-left mixed with left-to-right.
            "\u{5D0}abc\u{5D0}".as_bytes().to_vec(),
            // Unassigned in Unicode 3.2.
            "x\u{0221}".as_bytes().to_vec(),
            // Nothing left after mapping.
            "\u{AD}\u{200D}".as_bytes().to_vec(),
            Vec::new(),
        ] {
            assert_eq!(prepared(&password).as_slice(), password, "{password:?}");
        }
    }
}
