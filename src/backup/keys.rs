//! Who can open a backup: age recipients (`age1…`, SSH public keys) and identities (age key
//! files, unencrypted SSH private keys), or a passphrase read from a file, a variable or the
//! terminal, never from argv (which other users can read in /proc).

use std::io::{BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::SecretString as Passphrase;

use crate::bounded;
use crate::env_vars::Environment;
use crate::problem::Problem;
use crate::secret::SecretString;

/// Where the passphrase comes from, when a backup is sealed with one.
#[derive(Debug, Clone)]
pub enum PassphraseSource {
    File(PathBuf),
    Variable(String),
    Terminal,
}

/// The recipients of `--recipient` and of each `--recipients-file` (one a line, `#` comments).
pub fn recipients(
    given: &[String],
    files: &[PathBuf],
) -> Result<Vec<Box<dyn age::Recipient + Send>>, Problem> {
    let mut recipients = Vec::new();
    for (index, text) in given.iter().enumerate() {
        recipients.push(recipient(text, &format!("--recipient #{}", index + 1))?);
    }
    for file in files {
        let text = read_key_file(file)?;
        let text = text.expose_str().unwrap_or_default();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let location = format!("{}:{}", file.display(), index + 1);
            recipients.push(recipient(line, &location)?);
        }
    }
    Ok(recipients)
}

fn recipient(text: &str, location: &str) -> Result<Box<dyn age::Recipient + Send>, Problem> {
    if let Ok(recipient) = age::x25519::Recipient::from_str(text) {
        return Ok(Box::new(recipient));
    }
    if let Ok(recipient) = age::ssh::Recipient::from_str(text) {
        return Ok(Box::new(recipient));
    }
    // The text is not shown: a private key pasted by mistake must not reach the terminal log.
    Err(Problem::new(location, "not an age recipient (age1…) nor an SSH public key (ssh-ed25519, ssh-rsa)")
        .with_hint("make a key with age-keygen -o backup.key and pass the public key it prints, or an SSH public key line"))
}

/// The identities of each `--identity` file: an age key file (`AGE-SECRET-KEY-1…` lines, as
/// age-keygen writes) or an unencrypted SSH private key.
pub fn identities(files: &[PathBuf]) -> Result<Vec<Box<dyn age::Identity>>, Problem> {
    let mut identities: Vec<Box<dyn age::Identity>> = Vec::new();
    for file in files {
        let text = read_key_file(file)?;
        let location = file.display().to_string();
        if text.expose().starts_with(b"-----BEGIN") {
            let identity = age::ssh::Identity::from_buffer(
                BufReader::new(text.expose()),
                Some(location.clone()),
            )
            .map_err(|error| bad_identity(&location, &error.to_string()))?;
            match identity {
                age::ssh::Identity::Unencrypted(_) => identities.push(Box::new(identity)),
                age::ssh::Identity::Encrypted(_) => {
                    return Err(Problem::new(&location, "the SSH key is protected by a passphrase, which restore does not ask for")
                        .with_hint("use an age identity (age-keygen), or an unencrypted copy of the key kept offline"));
                }
                age::ssh::Identity::Unsupported(_) => {
                    return Err(bad_identity(
                        &location,
                        "this kind of SSH key cannot open age files",
                    ));
                }
            }
            continue;
        }
        let parsed = age::IdentityFile::from_buffer(BufReader::new(text.expose()))
            .and_then(|file| file.into_identities().map_err(std::io::Error::other))
            .map_err(|error| bad_identity(&location, &error.to_string()))?;
        if parsed.is_empty() {
            return Err(bad_identity(&location, "it holds no identity"));
        }
        identities.extend(
            parsed
                .into_iter()
                .map(|identity| identity as Box<dyn age::Identity>),
        );
    }
    Ok(identities)
}

fn bad_identity(location: &str, why: &str) -> Problem {
    Problem::new(location, format!("not an age identity file: {why}")).with_hint(
        "pass the file age-keygen wrote (AGE-SECRET-KEY-1…) or an unencrypted SSH private key",
    )
}

/// A key or passphrase file: bounded, and not a value to keep around.
fn read_key_file(file: &Path) -> Result<SecretString, Problem> {
    // Any readable file: `--passphrase-file <(pass show backup)` is a pipe.
    let bytes = bounded::read_input_file(file, bounded::SECRET_FILE_LIMIT).map_err(|error| {
        Problem::new(
            file.display().to_string(),
            format!("cannot read it: {error}"),
        )
        .with_optional_hint(error.hint())
    })?;
    Ok(SecretString::new(bytes))
}

/// The passphrase, without its trailing newline; an empty one is refused.
pub fn passphrase(
    source: &PassphraseSource,
    env: &Environment,
    confirm: bool,
) -> Result<Passphrase, Problem> {
    let (location, value) = match source {
        PassphraseSource::File(file) => (
            file.display().to_string(),
            read_key_file(file)?.trim_one_trailing_newline(),
        ),
        PassphraseSource::Variable(name) => {
            let value = env.get(name).ok_or_else(|| {
                Problem::new(format!("variable {name}"), "is not set")
                    .with_hint("export the passphrase in that variable, or use --passphrase-file")
            })?;
            (
                format!("variable {name}"),
                SecretString::new(value.as_encoded_bytes()),
            )
        }
        PassphraseSource::Terminal => ("terminal".to_string(), from_terminal(confirm)?),
    };
    let Some(text) = value.expose_str().filter(|text| !text.is_empty()) else {
        return Err(
            Problem::new(location, "the passphrase is empty or not UTF-8 text")
                .with_hint("use a long passphrase, or an age key (--recipient/--identity)"),
        );
    };
    Ok(Passphrase::from(text.to_string()))
}

/// Reads a line from /dev/tty with echo off (asked twice when `confirm`).
fn from_terminal(confirm: bool) -> Result<SecretString, Problem> {
    use nix::sys::termios::{self, LocalFlags, SetArg};
    let failed = |error: &dyn std::fmt::Display| {
        Problem::new("terminal", format!("cannot read a passphrase: {error}"))
            .with_hint("without a terminal, use --passphrase-file FILE or --passphrase-env VAR")
    };
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|error| failed(&error))?;
    if !tty.is_terminal() {
        return Err(failed(&"/dev/tty is not a terminal"));
    }
    let saved = termios::tcgetattr(&tty).map_err(|error| failed(&error))?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    termios::tcsetattr(&tty, SetArg::TCSANOW, &quiet).map_err(|error| failed(&error))?;
    let mut ask = |prompt: &str| -> std::io::Result<SecretString> {
        tty.write_all(prompt.as_bytes())?;
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while tty.read(&mut byte)? == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        tty.write_all(b"\n")?;
        Ok(SecretString::new(line).trim_one_trailing_newline())
    };
    let first = ask("Backup passphrase: ");
    let second = if confirm { Some(ask("Again: ")) } else { None };
    let restored = termios::tcsetattr(&tty, SetArg::TCSANOW, &saved);
    let first = first.map_err(|error| failed(&error))?;
    restored.map_err(|error| failed(&error))?;
    if let Some(second) = second
        && second.map_err(|error| failed(&error))? != first
    {
        return Err(Problem::new("terminal", "the two passphrases differ")
            .with_hint("type the same passphrase twice"));
    }
    Ok(first)
}
