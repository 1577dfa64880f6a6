//! Which files a scan reads, and their bytes: the work tree's tracked files (`git ls-files`),
//! the index (`git cat-file --batch`, what a commit would record), or a walk of PATHs.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::problem::Problem;

/// What to scan.
#[derive(Debug, Clone)]
pub enum Selection {
    /// The work tree's content of the files git tracks under the current directory.
    Tracked,
    /// The staged content of the files the next commit adds or changes (of `only`, if any).
    Staged { only: Vec<PathBuf> },
    /// These files, and every file below these directories (hidden ones too; `.git/` skipped).
    Paths(Vec<PathBuf>),
}

pub enum Content {
    OnDisk(PathBuf),
    Staged(Vec<u8>),
}

pub struct SourceFile {
    /// How the file is named in findings and baselines.
    pub name: String,
    pub content: Content,
}

/// The files of a selection and the directory that names them (where the default baseline is).
pub struct Sources {
    pub files: Vec<SourceFile>,
    pub root: PathBuf,
}

pub fn list(selection: &Selection, cwd: &Path) -> Result<Sources, Problem> {
    match selection {
        Selection::Tracked => {
            // Named from the top of the work tree, as --staged and pre-commit name them, so
            // one baseline serves every mode.
            let root = top_level(cwd)?;
            let output = git(cwd, &["ls-files", "-z", "--full-name"])?;
            let files = split_nul(&output)
                .map(|name| SourceFile {
                    content: Content::OnDisk(root.join(&name)),
                    name,
                })
                .collect();
            Ok(Sources { files, root })
        }
        Selection::Staged { only } => staged(cwd, only),
        Selection::Paths(paths) => {
            let mut files = Vec::new();
            for path in paths {
                walk(path, &mut files)?;
            }
            Ok(Sources {
                files,
                root: cwd.to_path_buf(),
            })
        }
    }
}

fn staged(cwd: &Path, only: &[PathBuf]) -> Result<Sources, Problem> {
    let root = top_level(cwd)?;
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
    let changed = git(
        &root,
        &["diff", "--cached", "--name-only", "-z", "--diff-filter=ACM"],
    )?;
    let names: Vec<String> = split_nul(&changed)
        .filter(|name| {
            wanted.is_empty() || wanted.iter().any(|path| Path::new(name).starts_with(path))
        })
        .collect();
    let (batchable, odd): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|name| !name.contains('\n'));
    let mut files = read_index_blobs(&root, batchable)?;
    // `cat-file --batch` names objects one per line: a name holding a newline goes on its own.
    for name in odd {
        let blob = git(&root, &["show", &format!(":{name}")])?;
        files.push(SourceFile {
            name,
            content: Content::Staged(blob),
        });
    }
    Ok(Sources { files, root })
}

/// All staged blobs through one `git cat-file --batch`, rather than one `git show` per file.
fn read_index_blobs(root: &Path, names: Vec<String>) -> Result<Vec<SourceFile>, Problem> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| git_problem(&format!("cannot run git: {error}")))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let request: Vec<u8> = names
        .iter()
        .flat_map(|name| format!(":{name}\n").into_bytes())
        .collect();
    // Written from another thread: git answers while we are still asking.
    let writer = std::thread::spawn(move || stdin.write_all(&request));
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|error| git_problem(&format!("reading git cat-file: {error}")))?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        let [_, kind, size] = fields.as_slice() else {
            // `<name> missing`: a submodule or an entry git cannot show as a blob.
            continue;
        };
        let size: usize = size
            .parse()
            .map_err(|_| git_problem("unexpected git cat-file output"))?;
        let mut blob = vec![0; size + 1];
        reader
            .read_exact(&mut blob)
            .map_err(|error| git_problem(&format!("reading git cat-file: {error}")))?;
        blob.pop();
        if *kind == "blob" {
            files.push(SourceFile {
                name,
                content: Content::Staged(blob),
            });
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(files)
}

fn walk(path: &Path, files: &mut Vec<SourceFile>) -> Result<(), Problem> {
    let metadata = std::fs::symlink_metadata(path).map_err(|error| {
        Problem::new(
            path.display().to_string(),
            format!("cannot read it: {error}"),
        )
        .with_hint("pass existing files or directories to scan")
    })?;
    if metadata.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|error| {
                Problem::new(
                    path.display().to_string(),
                    format!("cannot list it: {error}"),
                )
            })?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|entry| entry.file_name().is_none_or(|name| name != ".git"))
            .collect();
        entries.sort();
        for entry in entries {
            // Entries that vanish or cannot be read while walking are skipped, not fatal.
            if std::fs::symlink_metadata(&entry).is_ok() {
                walk(&entry, files)?;
            }
        }
    } else if metadata.is_file() {
        let name = path.to_string_lossy();
        files.push(SourceFile {
            name: name.strip_prefix("./").unwrap_or(&name).to_string(),
            content: Content::OnDisk(path.to_path_buf()),
        });
    }
    Ok(())
}

fn top_level(cwd: &Path) -> Result<PathBuf, Problem> {
    let top = git(cwd, &["rev-parse", "--show-toplevel"])?;
    Ok(PathBuf::from(
        String::from_utf8_lossy(&top).trim_end_matches('\n'),
    ))
}

fn split_nul(output: &[u8]) -> impl Iterator<Item = String> + '_ {
    output
        .split(|&byte| byte == 0)
        .filter(|name| !name.is_empty())
        .map(|name| String::from_utf8_lossy(name).into_owned())
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, Problem> {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir).args(args);
    command.stdin(Stdio::null());
    let output = command
        .output()
        .map_err(|error| git_problem(&format!("cannot run git: {error}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("failed").trim();
        return Err(git_problem(&format!("git {}: {first}", args.join(" "))));
    }
    Ok(output.stdout)
}

fn git_problem(message: &str) -> Problem {
    Problem::new("scan", message.to_string()).with_hint(
        "run inside a git work tree (the default scans tracked files; --staged the index), or pass PATHs to scan",
    )
}

/// Why a file was not scanned (shown with --verbose).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skip {
    TooLarge(u64),
    Binary,
    Unreadable(String),
    NotAFile,
}

/// The file's text: skipped when larger than `max_bytes` or binary (a NUL in its first 8 KiB);
/// invalid UTF-8 is replaced, so that the rest of the file is still scanned.
pub fn read(file: &SourceFile, max_bytes: u64) -> Result<String, Skip> {
    let bytes = match &file.content {
        Content::Staged(bytes) => {
            if bytes.len() as u64 > max_bytes {
                return Err(Skip::TooLarge(bytes.len() as u64));
            }
            std::borrow::Cow::Borrowed(bytes.as_slice())
        }
        Content::OnDisk(path) => {
            let metadata = std::fs::symlink_metadata(path)
                .map_err(|error| Skip::Unreadable(error.to_string()))?;
            if !metadata.is_file() {
                return Err(Skip::NotAFile);
            }
            if metadata.len() > max_bytes {
                return Err(Skip::TooLarge(metadata.len()));
            }
            let mut bytes = Vec::with_capacity(metadata.len() as usize);
            std::fs::File::open(path)
                .and_then(|file| file.take(max_bytes + 1).read_to_end(&mut bytes))
                .map_err(|error| Skip::Unreadable(error.to_string()))?;
            if bytes.len() as u64 > max_bytes {
                return Err(Skip::TooLarge(bytes.len() as u64));
            }
            std::borrow::Cow::Owned(bytes)
        }
    };
    if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
        return Err(Skip::Binary);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
