//! Reads with a size limit that cannot hang the launch: every input the launcher takes (env
//! files, config, templates, `file://` secrets, credential files, stdin, HTTP answers) has a
//! documented ceiling, so `/dev/zero`, an endless body or a 2 GB answer is a clear error, not
//! gigabytes of memory or an abort.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// `file://` secrets and credential files (JWTs, AppRole ids, CA bundles, `~/.vault-token`).
/// Vault KV values, AWS secrets (64 KiB) and Key Vault secrets (25 KiB) are far smaller, and
/// Linux limits one environment variable to 128 KiB.
pub const SECRET_FILE_LIMIT: u64 = 1024 * 1024;
/// Env files, the config file and templates.
pub const INPUT_FILE_LIMIT: u64 = 16 * 1024 * 1024;
/// A new value on `set`'s stdin.
pub const STDIN_LIMIT: u64 = SECRET_FILE_LIMIT;
/// One answer from a secrets server (Vault, AWS, Azure): values are at most a few hundred KiB,
/// so a larger body is a broken or hostile server.
pub const RESPONSE_LIMIT: usize = 8 * 1024 * 1024;

/// Why a bounded read failed. The `Display` text never names the path: callers do.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// The file is a FIFO, device, socket or directory where a regular file is required.
    NotRegular(&'static str),
    TooLarge {
        limit: u64,
    },
    /// The launch's deadline came before the read finished (a FIFO, a hung network mount).
    TimedOut,
}

impl ReadError {
    /// A short `hint:` for the common cases.
    pub fn hint(&self) -> Option<String> {
        match self {
            ReadError::Io(error) if error.kind() == io::ErrorKind::NotFound => {
                Some("check the path and that the volume is mounted".into())
            }
            ReadError::Io(error) if error.kind() == io::ErrorKind::PermissionDenied => {
                Some("make the file readable by the launcher's user".into())
            }
            ReadError::NotRegular(_) => Some("name a regular file (a mounted secret file)".into()),
            ReadError::TooLarge { .. } => {
                Some("secrets are small; check that the path names the intended file".into())
            }
            ReadError::TimedOut => {
                Some("check that the file is on a responsive filesystem, or raise --timeout".into())
            }
            ReadError::Io(_) => None,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(error) => match error.kind() {
                io::ErrorKind::NotFound => f.write_str("no such file"),
                io::ErrorKind::PermissionDenied => f.write_str("permission denied"),
                io::ErrorKind::IsADirectory => f.write_str("is a directory"),
                _ => write!(f, "{error}"),
            },
            ReadError::NotRegular(kind) => write!(f, "is {kind}, not a regular file"),
            ReadError::TooLarge { limit } => {
                write!(f, "is larger than the limit of {}", human_size(*limit))
            }
            ReadError::TimedOut => f.write_str("timed out while reading it"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> Self {
        ReadError::Io(error)
    }
}

/// `1 MiB`, `16 MiB`, `512 KiB`, `100 bytes`.
pub fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads at most `limit` bytes; more is [`ReadError::TooLarge`].
pub fn read_limited(reader: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Reads a regular file (symlinks followed, as Kubernetes secret volumes need) of at most
/// `limit` bytes. The file is opened non-blocking, so a FIFO is refused instead of waiting
/// for a writer that may never come.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    read_limited(open_regular(path, 0)?, limit)
}

/// Opens a regular file for reading, non-blocking (a FIFO is refused, never waited on);
/// `flags` are added to the open (`O_NOFOLLOW` to refuse a symlink).
pub fn open_regular(path: &Path, flags: i32) -> Result<File, ReadError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | flags)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(ReadError::NotRegular(describe_kind(&kind)));
    }
    Ok(file)
}

/// Reads any readable file (FIFOs included: `--env-file <(sops -d …)` is a pipe) of at most
/// `limit` bytes; a directory is refused.
pub fn read_input_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(ReadError::NotRegular("a directory"));
    }
    read_limited(file, limit)
}

/// [`read_regular_file`] on the blocking pool, abandoned at `deadline`: a hung network mount
/// must not hold the launch past `--timeout`.
pub async fn read_regular_file_until(
    path: PathBuf,
    limit: u64,
    deadline: tokio::time::Instant,
) -> Result<Vec<u8>, ReadError> {
    let read = tokio::task::spawn_blocking(move || read_regular_file(&path, limit));
    match tokio::time::timeout_at(deadline, read).await {
        Ok(Ok(result)) => result,
        Ok(Err(join_error)) => Err(ReadError::Io(io::Error::other(join_error.to_string()))),
        Err(_) => Err(ReadError::TimedOut),
    }
}

fn describe_kind(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_reads_refuse_one_byte_more() {
        assert_eq!(read_limited(&b"abcd"[..], 4).unwrap(), b"abcd");
        assert!(matches!(
            read_limited(&b"abcde"[..], 4),
            Err(ReadError::TooLarge { limit: 4 })
        ));
        assert!(matches!(
            read_limited(io::repeat(0), 1024),
            Err(ReadError::TooLarge { limit: 1024 })
        ));
    }

    #[test]
    fn devices_fifos_and_directories_are_not_secret_files() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Would block forever without O_NONBLOCK: nobody writes to it.
        let error = read_regular_file(&fifo, 10).unwrap_err();
        assert!(error.to_string().contains("FIFO"), "{error}");
        let error = read_regular_file(Path::new("/dev/zero"), 10).unwrap_err();
        assert!(error.to_string().contains("character device"), "{error}");
        let error = read_regular_file(dir.path(), 10).unwrap_err();
        assert!(error.to_string().contains("directory"), "{error}");
        let error = read_input_file(Path::new("/dev/zero"), 10).unwrap_err();
        assert!(error.to_string().contains("limit of 10 bytes"), "{error}");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(SECRET_FILE_LIMIT), "1 MiB");
        assert_eq!(human_size(512 * 1024), "512 KiB");
        assert_eq!(human_size(100), "100 bytes");
    }
}
