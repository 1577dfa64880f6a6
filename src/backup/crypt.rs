//! Sealing and opening a backup with age, in memory: the plaintext JSON never touches the
//! disk, only the encrypted bytes are written (by the caller, atomically and 0600).

use std::io::{Read, Write};

use age::armor::{ArmoredReader, ArmoredWriter, Format};

use crate::problem::Problem;
use crate::secret::SecretString;

/// Whom a backup is sealed for.
pub enum Seal {
    Recipients(Vec<Box<dyn age::Recipient + Send>>),
    Passphrase(age::secrecy::SecretString),
}

/// What opens a backup.
pub enum Opener {
    Identities(Vec<Box<dyn age::Identity>>),
    Passphrase(age::secrecy::SecretString),
}

/// The age file of `plaintext`; `armor` gives the PEM-like text form.
pub fn encrypt(plaintext: &SecretString, seal: Seal, armor: bool) -> Result<Vec<u8>, Problem> {
    let failed = |error: &dyn std::fmt::Display| {
        Problem::new("backup", format!("cannot encrypt: {error}")).with_hint(
            "check the recipients: age keys and SSH keys can be mixed, a passphrase stands alone",
        )
    };
    let encryptor = match &seal {
        Seal::Recipients(recipients) => age::Encryptor::with_recipients(
            recipients
                .iter()
                .map(|recipient| recipient.as_ref() as &dyn age::Recipient),
        )
        .map_err(|error| failed(&error))?,
        Seal::Passphrase(passphrase) => age::Encryptor::with_user_passphrase(passphrase.clone()),
    };
    let format = if armor {
        Format::AsciiArmor
    } else {
        Format::Binary
    };
    let written = (|| -> std::io::Result<Vec<u8>> {
        let armored = ArmoredWriter::wrap_output(Vec::new(), format)?;
        let mut writer = encryptor.wrap_output(armored)?;
        writer.write_all(plaintext.expose())?;
        writer.finish()?.finish()
    })();
    written.map_err(|error| failed(&error))
}

/// The plaintext of the age file `bytes` (binary or armored) read from `file`. A file altered,
/// cut short or made for another key is refused here, before anything is written anywhere.
pub fn decrypt(file: &str, bytes: &[u8], opener: &Opener) -> Result<SecretString, Problem> {
    let refused = |why: String, hint: &str| Problem::new(file, why).with_hint(hint.to_string());
    let damaged = "the file was altered or cut short: restore from another copy of the backup";
    let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(bytes))
        .map_err(|error| explain(error, damaged, &refused))?;
    let reader = match opener {
        Opener::Identities(identities) => {
            decryptor.decrypt(identities.iter().map(|identity| identity.as_ref()))
        }
        Opener::Passphrase(passphrase) => {
            let identity = age::scrypt::Identity::new(passphrase.clone());
            decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity))
        }
    };
    let mut reader = reader.map_err(|error| match (opener, error) {
        // scrypt's stanza does not open with another passphrase: that is all age can tell.
        (Opener::Passphrase(_), age::DecryptError::DecryptionFailed) => refused(
            "the passphrase does not open the backup (nothing was written)".to_string(),
            "check the passphrase (a file's first trailing newline is dropped); a file altered in its header fails the same way",
        ),
        (_, error) => explain(error, damaged, &refused),
    })?;
    // The plaintext is never longer than the file: sized up front, it is never copied by a
    // growing buffer into memory that is freed without being zeroized.
    let mut plaintext = SecretString::new(Vec::with_capacity(bytes.len()));
    let mut chunk = [0u8; 8192];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => plaintext.push_bytes(&chunk[..read]),
            Err(error) => {
                return Err(refused(
                    format!("cannot decrypt it: {error} (nothing was written)"),
                    damaged,
                ));
            }
        }
    }
    Ok(plaintext)
}

fn explain(
    error: age::DecryptError,
    damaged: &str,
    refused: &dyn Fn(String, &str) -> Problem,
) -> Problem {
    match error {
        age::DecryptError::NoMatchingKeys => refused(
            "the backup was not made for this identity or passphrase (nothing was written)"
                .to_string(),
            "pass the identity whose public key the backup was made for (--identity FILE), or the passphrase it was sealed with",
        ),
        age::DecryptError::InvalidMac
        | age::DecryptError::DecryptionFailed
        | age::DecryptError::InvalidHeader => refused(
            format!("the backup failed authentication: {error} (nothing was written)"),
            damaged,
        ),
        age::DecryptError::UnknownFormat => refused(
            "not an age file (nothing was written)".to_string(),
            "pass a file written by cronos-secrets backup or by the age tool",
        ),
        other => refused(
            format!("cannot decrypt it: {other} (nothing was written)"),
            damaged,
        ),
    }
}
