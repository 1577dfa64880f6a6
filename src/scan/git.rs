//! What git says a scan should read: the tracked files (`git ls-files -s`) and the staged
//! blobs (`git diff --cached --raw`, then `git cat-file` by object id). Names are git's bytes,
//! never a lossy copy: a name that is not UTF-8 still addresses its file.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::problem::Problem;

/// A gitlink (a submodule's commit): it has no content of its own to scan.
const GITLINK_MODE: &str = "160000";

/// One index entry: its name as git spells it, and the blob that holds its content.
pub struct Entry {
    pub name: Vec<u8>,
    pub oid: String,
}

impl Entry {
    pub fn path(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.name))
    }
}

/// A staged blob: its bytes, or only its size when that is over the limit (the body is
/// never read).
pub enum Blob {
    Read(Vec<u8>),
    TooLarge(u64),
}

pub fn top_level(cwd: &Path) -> Result<PathBuf, Problem> {
    let mut top = git(cwd, &["rev-parse", "--show-toplevel"])?;
    if top.last() == Some(&b'\n') {
        top.pop();
    }
    Ok(PathBuf::from(OsStr::from_bytes(&top)))
}

/// The files git tracks under `cwd`, named from the top of the work tree.
pub fn tracked(cwd: &Path) -> Result<Vec<PathBuf>, Problem> {
    let output = git(cwd, &["ls-files", "-s", "-z", "--full-name"])?;
    let mut names: Vec<PathBuf> = Vec::new();
    for record in split_nul(&output) {
        // `<mode> <oid> <stage>\t<name>`: a conflicted file is listed once per stage.
        let (info, name) = split_once(record, b'\t')?;
        let name = Path::new(OsStr::from_bytes(name));
        if info.starts_with(GITLINK_MODE.as_bytes())
            || names.last().is_some_and(|last| last == name)
        {
            continue;
        }
        names.push(name.to_path_buf());
    }
    Ok(names)
}

/// Every entry of the index whose content the next commit records anew: added, modified,
/// renamed (`--no-renames` makes it an add), copied or type-changed; not deletions, unmerged
/// entries nor submodules.
pub fn staged(root: &Path) -> Result<Vec<Entry>, Problem> {
    let output = git(
        root,
        &[
            "diff",
            "--cached",
            "--raw",
            "-z",
            "--no-abbrev",
            "--no-renames",
            "--no-ext-diff",
            "--no-color",
        ],
    )?;
    let mut records = split_nul(&output);
    let mut entries = Vec::new();
    while let Some(header) = records.next() {
        // `:<old mode> <new mode> <old oid> <new oid> <status>`, then the name.
        let name = records.next().ok_or_else(|| unexpected("diff --raw"))?;
        let header = String::from_utf8_lossy(header);
        let fields: Vec<&str> = header.trim_start_matches(':').split(' ').collect();
        let [_, new_mode, _, new_oid, _status] = fields.as_slice() else {
            return Err(unexpected("diff --raw"));
        };
        let has_content = !new_oid.bytes().all(|digit| digit == b'0');
        if has_content && *new_mode != GITLINK_MODE {
            entries.push(Entry {
                name: name.to_vec(),
                oid: new_oid.to_string(),
            });
        }
    }
    Ok(entries)
}

/// The blobs of `entries`, in order: sizes first (`cat-file --batch-check`), then the bodies
/// of those within `max_bytes` only (`cat-file --batch`), so a huge staged file is never read.
pub fn read_blobs(root: &Path, entries: &[Entry], max_bytes: u64) -> Result<Vec<Blob>, Problem> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut sizes = Vec::with_capacity(entries.len());
    let mut checks = cat_file(root, "--batch-check", entries.iter().map(|e| &e.oid))?;
    for entry in entries {
        let header = read_header(&mut checks.reader, entry)?;
        sizes.push(header);
    }
    checks.finish()?;
    let wanted = entries
        .iter()
        .zip(&sizes)
        .filter(|(_, size)| **size <= max_bytes)
        .map(|(entry, _)| &entry.oid);
    let mut bodies = cat_file(root, "--batch", wanted)?;
    let mut blobs = Vec::with_capacity(entries.len());
    for (entry, size) in entries.iter().zip(sizes) {
        if size > max_bytes {
            blobs.push(Blob::TooLarge(size));
            continue;
        }
        let checked = read_header(&mut bodies.reader, entry)?;
        // The body, then the newline git adds after it.
        let mut body = vec![0; checked as usize + 1];
        bodies
            .reader
            .read_exact(&mut body)
            .map_err(|error| git_problem(&format!("reading git cat-file: {error}")))?;
        body.pop();
        blobs.push(Blob::Read(body));
    }
    bodies.finish()?;
    Ok(blobs)
}

/// `<oid> blob <size>`: the size. Anything else (`missing`, not a blob) is an error: the
/// index names it, so the scan cannot pass over it.
fn read_header(reader: &mut impl BufRead, entry: &Entry) -> Result<u64, Problem> {
    let mut header = String::new();
    reader
        .read_line(&mut header)
        .map_err(|error| git_problem(&format!("reading git cat-file: {error}")))?;
    let fields: Vec<&str> = header.split_whitespace().collect();
    match fields.as_slice() {
        [_, "blob", size] => size.parse().map_err(|_| unexpected("cat-file")),
        _ => Err(Problem::new(
            String::from_utf8_lossy(&entry.name).into_owned(),
            format!(
                "git cannot show its staged content (object {}: {})",
                entry.oid,
                header.trim_end()
            ),
        )
        .with_hint("check the repository with `git fsck`")),
    }
}

/// A running `git cat-file` fed the object ids from another thread (git answers while we
/// are still asking).
struct CatFile {
    child: Child,
    reader: BufReader<ChildStdout>,
    writer: std::thread::JoinHandle<std::io::Result<()>>,
}

fn cat_file<'a>(
    root: &Path,
    mode: &str,
    oids: impl Iterator<Item = &'a String>,
) -> Result<CatFile, Problem> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["cat-file", mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| git_problem(&format!("cannot run git: {error}")))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let request: Vec<u8> = oids
        .flat_map(|oid| format!("{oid}\n").into_bytes())
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(&request));
    let reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    Ok(CatFile {
        child,
        reader,
        writer,
    })
}

impl CatFile {
    fn finish(mut self) -> Result<(), Problem> {
        let written = self.writer.join();
        drop(self.reader);
        let status = self.child.wait();
        match (written, status) {
            (Ok(Ok(())), Ok(status)) if status.success() => Ok(()),
            _ => Err(git_problem("git cat-file failed")),
        }
    }
}

pub fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, Problem> {
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

fn split_nul(output: &[u8]) -> impl Iterator<Item = &[u8]> {
    output
        .split(|&byte| byte == 0)
        .filter(|name| !name.is_empty())
}

fn split_once(record: &[u8], separator: u8) -> Result<(&[u8], &[u8]), Problem> {
    let at = memchr::memchr(separator, record).ok_or_else(|| unexpected("ls-files"))?;
    Ok((&record[..at], &record[at + 1..]))
}

fn unexpected(command: &str) -> Problem {
    git_problem(&format!("unexpected output from git {command}"))
}

fn git_problem(message: &str) -> Problem {
    Problem::new("scan", message.to_string()).with_hint(
        "run inside a git work tree (the default scans tracked files; --staged the index), or pass PATHs to scan",
    )
}
