//! Files the launcher writes: never readable by others, at any moment, and never half-written.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, IsTerminal, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::problem::Problem;

/// The mode of rendered and exported files unless `--mode` says otherwise.
pub const PRIVATE_MODE: u32 = 0o600;

/// Opens `path` for appending, creating it with mode 0600 if needed; `flags` are added to
/// the open (`O_NOFOLLOW` …).
pub fn open_private_append(path: &Path, flags: i32) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(PRIVATE_MODE)
        .custom_flags(flags | nix::libc::O_CLOEXEC)
        .open(path)
}

#[derive(Debug, Error)]
#[error("{}: cannot {action}: {source}", .path.display())]
pub struct OutputError {
    pub path: PathBuf,
    pub action: &'static str,
    pub source: io::Error,
}

impl From<OutputError> for Problem {
    fn from(error: OutputError) -> Problem {
        Problem::new("output", error.to_string())
            .with_hint("check that the directory exists and that you may write to it")
    }
}

/// Writes `contents` to `path` so that readers see the old file or the whole new one, never
/// part of it, and the new file is never more open than `mode`.
pub fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), OutputError> {
    stage(path, contents, mode)?.commit()
}

/// A new file written and flushed beside its destination, not yet in place. Dropped without
/// [`StagedFile::commit`], it is removed: several files can be staged, then all committed.
#[derive(Debug)]
#[must_use = "a staged file is removed when dropped without commit()"]
pub struct StagedFile {
    temporary: PathBuf,
    destination: PathBuf,
    committed: bool,
}

/// Writes a temporary file in `destination`'s directory (so the rename cannot cross file
/// systems): created 0600, so no one else can open it while it fills, then set to `mode`.
pub fn stage(destination: &Path, contents: &[u8], mode: u32) -> Result<StagedFile, OutputError> {
    let directory = match destination.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = destination
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let failed = |action: &'static str| {
        move |source: io::Error| OutputError {
            path: destination.to_path_buf(),
            action,
            source,
        }
    };
    refuse_special_destination(destination).map_err(failed("write there"))?;
    let (temporary, mut file) = create_temporary(directory, &name)
        .map_err(failed("create a temporary file in its directory"))?;
    let staged = StagedFile {
        temporary,
        destination: destination.to_path_buf(),
        committed: false,
    };
    // set_permissions is fchmod: exact, whatever the umask.
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(failed("set the file mode"))?;
    file.write_all(contents).map_err(failed("write"))?;
    file.sync_all().map_err(failed("flush to disk"))?;
    Ok(staged)
}

/// The rename that puts a file in place would replace whatever is at the destination: as
/// root, `-o /dev/tty` would turn the terminal's device node into a file of secrets. Only a
/// regular file (or a symlink to one, or nothing) may be replaced.
fn refuse_special_destination(destination: &Path) -> io::Result<()> {
    let kind = match std::fs::metadata(destination) {
        Ok(metadata) => metadata.file_type(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Err(io::Error::other(format!(
        "it is {what}, and only a regular file is replaced (for standard output, use -o - or no -o)"
    )))
}

/// Stages every `(destination, contents)` before moving any into place, and takes back the
/// ones already moved if a later one fails: either every file is in place or none is.
pub fn write_all_or_nothing<'a>(
    files: impl IntoIterator<Item = (&'a Path, &'a [u8])>,
    mode: u32,
) -> Result<(), OutputError> {
    let mut staged = Vec::new();
    for (destination, contents) in files {
        staged.push(stage(destination, contents, mode)?);
    }
    let mut committed: Vec<PathBuf> = Vec::new();
    for file in staged {
        let destination = file.destination.clone();
        if let Err(error) = file.commit() {
            for path in &committed {
                let _ = std::fs::remove_file(path);
            }
            return Err(error);
        }
        committed.push(destination);
    }
    Ok(())
}

impl StagedFile {
    /// Renames the staged file over the destination.
    pub fn commit(mut self) -> Result<(), OutputError> {
        std::fs::rename(&self.temporary, &self.destination).map_err(|source| OutputError {
            path: self.destination.clone(),
            action: "move the new file into place",
            source,
        })?;
        self.committed = true;
        // Makes the rename itself durable. The file is already in place, so a failure here
        // (some file systems refuse fsync on directories) is not worth failing the launch.
        if let Some(directory) = self.destination.parent() {
            let directory = if directory.as_os_str().is_empty() {
                Path::new(".")
            } else {
                directory
            };
            let _ = File::open(directory).and_then(|directory| directory.sync_all());
        }
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

fn create_temporary(directory: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    loop {
        let mut random = [0u8; 6];
        getrandom::fill(&mut random).map_err(|error| io::Error::other(error.to_string()))?;
        let suffix: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        let path = directory.join(format!(".{name}.{suffix}.tmp"));
        // create_new is O_EXCL: never an existing file, never through a symlink.
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(PRIVATE_MODE)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
}

/// `--mode`: octal permission bits such as 0600, 640 or 0o640.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    match u32::from_str_radix(digits, 8) {
        Ok(mode) if mode <= 0o777 => Ok(mode),
        _ => Err(format!(
            "expected octal permission bits such as 0600 or 0640 (at most 0777), found \"{text}\""
        )),
    }
}

/// Refuses to print secret output to a terminal, where it stays in the scrollback, unless
/// forced. Called before anything is fetched.
pub fn refuse_terminal_stdout(location: &str, force: bool, hint: &str) -> Result<(), Problem> {
    if force || !io::stdout().is_terminal() {
        return Ok(());
    }
    Err(Problem::new(
        location,
        "refusing to print secrets to a terminal, where they stay in the scrollback",
    )
    .with_hint(hint))
}

/// `contents` to `destination` atomically with `mode`, or to stdout when there is none or it
/// is `-`.
pub fn write_to(destination: Option<&Path>, contents: &[u8], mode: u32) -> Result<(), Problem> {
    match destination.filter(|path| !is_stdout(path)) {
        Some(path) => Ok(write_atomically(path, contents, mode)?),
        None => crate::stdout::write(contents),
    }
}

/// `-o -` means standard output, as for most Unix tools.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_the_whole_file_with_the_mode_and_no_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.env");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new contents", 0o640).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        assert_eq!(mode_of(&path), 0o640);
        assert_eq!(entries(dir.path()), ["out.env"]);
    }

    #[test]
    fn a_staged_file_is_private_and_removed_unless_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let staged = stage(&path, b"x", 0o600).unwrap();
        assert_eq!(mode_of(&staged.temporary), 0o600);
        assert!(!path.exists());
        drop(staged);
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_write_leaves_the_destination_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("out");
        let error = write_atomically(&path, b"x", 0o600).unwrap_err();
        assert!(error.to_string().contains("missing-dir/out"), "{error}");
        // A directory in the way: the rename fails and the temporary file is cleaned up.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("keep"), "").unwrap();
        assert!(write_atomically(&blocked, b"x", 0o600).is_err());
        assert_eq!(entries(dir.path()), ["blocked"]);
    }

    #[test]
    fn modes_are_octal_and_bounded() {
        assert_eq!(parse_mode("0600"), Ok(0o600));
        assert_eq!(parse_mode("640"), Ok(0o640));
        assert_eq!(parse_mode("0o644"), Ok(0o644));
        for bad in ["", "0o", "0800", "rw-------", "4755", "1777"] {
            assert!(parse_mode(bad).is_err(), "{bad}");
        }
    }
}
