//! Which files a scan reads, and their bytes: the work tree's tracked files, the index (what
//! a commit would record; see [`super::git`]), or a walk of PATHs. A file that cannot be read
//! is reported, never passed over: only binary, oversized and non-regular files are skipped,
//! on purpose.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::git::{self, Blob};
use crate::bounded::{self, ReadError};
use crate::problem::Problem;

/// What to scan.
#[derive(Debug, Clone)]
pub enum Selection {
    /// The work tree's content of the files git tracks under the current directory.
    Tracked,
    /// The staged content of the files the next commit adds, changes, renames or copies, or
    /// whose type it changes (of `only`, if any).
    Staged { only: Vec<PathBuf> },
    /// These files, and every file below these directories (hidden ones too; `.git/` skipped).
    /// A symlink named here is followed (as `grep -r` and `find -H` do); one met in a walk is
    /// not.
    Paths(Vec<PathBuf>),
}

pub enum Content {
    /// A file in the work tree; `follow` when a symlink there may be followed.
    OnDisk { path: PathBuf, follow: bool },
    /// A staged blob.
    Staged(Vec<u8>),
    /// A staged blob over the size limit, whose body was not read.
    StagedTooLarge(u64),
}

pub struct SourceFile {
    /// How the file is named in findings and baselines (a name that is not UTF-8 is shown
    /// with U+FFFD; the file itself is addressed by its real name).
    pub name: String,
    pub content: Content,
}

/// The files of a selection and the directory that names them (where the default baseline is).
pub struct Sources {
    pub files: Vec<SourceFile>,
    pub root: PathBuf,
}

pub fn list(selection: &Selection, cwd: &Path, max_bytes: u64) -> Result<Sources, Problem> {
    match selection {
        Selection::Tracked => tracked(cwd),
        Selection::Staged { only } => staged(cwd, only, max_bytes),
        Selection::Paths(paths) => {
            let mut files = Vec::new();
            for path in paths {
                walk_argument(path, &mut files)?;
            }
            Ok(Sources {
                files,
                root: cwd.to_path_buf(),
            })
        }
    }
}

fn tracked(cwd: &Path) -> Result<Sources, Problem> {
    // Named from the top of the work tree, as --staged and pre-commit name them, so one
    // baseline serves every mode.
    let root = git::top_level(cwd)?;
    let files = git::tracked(cwd)?
        .into_iter()
        .map(|name| (root.join(&name), name))
        .filter(|(path, _)| !deleted(path))
        .map(|(path, name)| SourceFile {
            name: name.to_string_lossy().into_owned(),
            content: Content::OnDisk {
                path,
                follow: false,
            },
        })
        .collect();
    Ok(Sources { files, root })
}

/// Deleted in the work tree but not yet staged as deleted: there is nothing to read.
fn deleted(path: &Path) -> bool {
    matches!(
        std::fs::symlink_metadata(path),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound
    )
}

fn staged(cwd: &Path, only: &[PathBuf], max_bytes: u64) -> Result<Sources, Problem> {
    let root = git::top_level(cwd)?;
    let wanted: Vec<PathBuf> = only
        .iter()
        .map(|path| {
            let absolute = cwd.join(path);
            absolute
                .strip_prefix(&root)
                .map(Path::to_path_buf)
                .unwrap_or(absolute)
        })
        .collect();
    let entries: Vec<git::Entry> = git::staged(&root)?
        .into_iter()
        .filter(|entry| {
            wanted.is_empty() || wanted.iter().any(|path| entry.path().starts_with(path))
        })
        .collect();
    let blobs = git::read_blobs(&root, &entries, max_bytes)?;
    let files = entries
        .iter()
        .zip(blobs)
        .map(|(entry, blob)| SourceFile {
            name: entry.path().to_string_lossy().into_owned(),
            content: match blob {
                Blob::Read(bytes) => Content::Staged(bytes),
                Blob::TooLarge(size) => Content::StagedTooLarge(size),
            },
        })
        .collect();
    Ok(Sources { files, root })
}

/// A PATH named on the command line: a symlink is followed to its file or directory.
fn walk_argument(path: &Path, files: &mut Vec<SourceFile>) -> Result<(), Problem> {
    let metadata = std::fs::metadata(path).map_err(|error| {
        Problem::new(
            path.display().to_string(),
            format!("cannot read it: {error}"),
        )
        .with_hint("pass existing files or directories to scan")
    })?;
    if metadata.is_dir() {
        walk_directory(path, files)
    } else {
        // A FIFO or a device is listed too: reading it says why it is skipped.
        files.push(on_disk(path, true));
        Ok(())
    }
}

fn walk_directory(path: &Path, files: &mut Vec<SourceFile>) -> Result<(), Problem> {
    let cannot_list = |error: std::io::Error| {
        Problem::new(
            path.display().to_string(),
            format!("cannot list it: {error}"),
        )
        .with_hint("make the directory readable, or scan the files you can read")
    };
    let mut entries = std::fs::read_dir(path)
        .map_err(cannot_list)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<PathBuf>, _>>()
        .map_err(cannot_list)?;
    entries.retain(|entry| entry.file_name().is_none_or(|name| name != ".git"));
    entries.sort();
    for entry in entries {
        match std::fs::symlink_metadata(&entry) {
            Ok(metadata) if metadata.is_dir() => walk_directory(&entry, files)?,
            // Symlinks, FIFOs, sockets and devices met in a walk are passed over, as by
            // `grep -r`.
            Ok(metadata) if !metadata.is_file() => {}
            // Gone since the listing: nothing to read.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            // Anything else (a directory that may be listed but not searched) is read, so
            // that the failure is reported.
            _ => files.push(on_disk(&entry, false)),
        }
    }
    Ok(())
}

fn on_disk(path: &Path, follow: bool) -> SourceFile {
    let name = path.to_string_lossy();
    SourceFile {
        name: name.strip_prefix("./").unwrap_or(&name).to_string(),
        content: Content::OnDisk {
            path: path.to_path_buf(),
            follow,
        },
    }
}

/// Why a file was not scanned on purpose (named with --verbose, counted in the summary).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skip {
    TooLarge(u64),
    Binary,
    /// A symlink in a walk or among the tracked files, a FIFO, a device, a directory.
    NotAFile,
}

/// A file the scan meant to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum NotScanned {
    Skipped(Skip),
    /// It could not be read: the scan is incomplete and fails (exit 2).
    Unreadable(String),
}

/// The file's text: skipped when larger than `max_bytes` or binary (a NUL in its first 8 KiB);
/// invalid UTF-8 is replaced, so that the rest of the file is still scanned.
pub fn read(file: &SourceFile, max_bytes: u64) -> Result<String, NotScanned> {
    let bytes = match &file.content {
        Content::Staged(bytes) => Cow::Borrowed(bytes.as_slice()),
        Content::StagedTooLarge(size) => return Err(NotScanned::Skipped(Skip::TooLarge(*size))),
        Content::OnDisk { path, follow } => Cow::Owned(read_on_disk(path, *follow, max_bytes)?),
    };
    if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
        return Err(NotScanned::Skipped(Skip::Binary));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Opened without blocking (a FIFO is skipped, never waited on) and without following a
/// symlink unless `follow`; the size is checked before anything is read.
fn read_on_disk(path: &Path, follow: bool, max_bytes: u64) -> Result<Vec<u8>, NotScanned> {
    let flags = if follow { 0 } else { nix::libc::O_NOFOLLOW };
    let unreadable = |error: ReadError| NotScanned::Unreadable(error.to_string());
    let file = match bounded::open_regular(path, flags) {
        Ok(file) => file,
        Err(ReadError::NotRegular(_)) => return Err(NotScanned::Skipped(Skip::NotAFile)),
        Err(ReadError::Io(error)) if !follow && error.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(NotScanned::Skipped(Skip::NotAFile));
        }
        Err(error) => return Err(unreadable(error)),
    };
    let size = file
        .metadata()
        .map_err(|error| unreadable(error.into()))?
        .len();
    if size > max_bytes {
        return Err(NotScanned::Skipped(Skip::TooLarge(size)));
    }
    match bounded::read_limited(file, max_bytes) {
        Ok(bytes) => Ok(bytes),
        // It grew since the check.
        Err(ReadError::TooLarge { .. }) => Err(NotScanned::Skipped(Skip::TooLarge(max_bytes + 1))),
        Err(error) => Err(unreadable(error)),
    }
}
