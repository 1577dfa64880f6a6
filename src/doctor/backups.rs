//! "Backup of secrets stored securely": the newest file in `checklist.backups` is recent
//! (`max_backup_age`), encrypted with age (its header, binary or armored: what `backup`
//! writes), and readable by its owner only. Only the first bytes of a backup are read.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::row::Part;
use super::tools;
use crate::config::ChecklistSettings;
use crate::duration::{format_duration, rough_age};

/// The first line of an age file, and of its ASCII-armored form.
const AGE_HEADERS: [&[u8]; 2] = [
    b"age-encryption.org/v1\n",
    b"-----BEGIN AGE ENCRYPTED FILE-----",
];

pub fn parts(settings: &ChecklistSettings, cwd: &Path, now: SystemTime) -> Vec<Part> {
    let Some(dir) = &settings.backups else {
        return vec![Part::unknown(
            "no backup location is configured",
            "name the directory the backups are written to in the config (checklist: backups: /srv/cronos/backups)",
        )];
    };
    let dir = cwd.join(dir);
    let shown = tools::shown(&dir, cwd);
    let newest = match newest_file(&dir) {
        Ok(Some(newest)) => newest,
        Ok(None) => {
            return vec![Part::fail(
                format!("no backup in {shown}"),
                "run cronos-secrets backup into that directory, and schedule it (cron, a CronJob)",
            )];
        }
        Err(error) => {
            return vec![Part::fail(
                format!("{shown}: cannot list it: {error}"),
                "create the directory, or correct checklist.backups",
            )];
        }
    };
    let (path, modified, mode) = newest;
    let file = tools::shown(&path, cwd);
    let mut parts = Vec::new();
    let age = now.duration_since(modified).unwrap_or_default();
    if age > settings.max_backup_age {
        parts.push(Part::fail(
            format!(
                "{file}: the newest backup is {} old (checklist.max_backup_age: {})",
                rough_age(age),
                format_duration(settings.max_backup_age)
            ),
            "run cronos-secrets backup, and find out why the scheduled backup stopped",
        ));
    } else {
        parts.push(Part::pass(format!(
            "{file}: the newest backup, {} old",
            rough_age(age)
        )));
    }
    match is_age_file(&path) {
        Ok(true) => parts.push(Part::pass(format!("{file}: encrypted with age"))),
        Ok(false) => parts.push(Part::fail(
            format!("{file}: not an age-encrypted file (no age header)"),
            "write backups with cronos-secrets backup (age-encrypted to the recovery key), delete the plaintext copy, and rotate the secrets it held",
        )),
        Err(error) => parts.push(Part::fail(
            format!("{file}: cannot read it: {error}"),
            "make the backup readable by the user running doctor (its owner)",
        )),
    }
    if mode & 0o077 == 0 {
        parts.push(Part::pass(format!("{file}: mode {:04o}", mode & 0o7777)));
    } else {
        parts.push(Part::fail(
            format!(
                "{file}: mode {:04o}: group or others may open it",
                mode & 0o7777
            ),
            format!("chmod 600 {file}"),
        ));
    }
    parts
}

/// The most recently modified regular file (hidden files, such as a backup being written,
/// are left out).
fn newest_file(dir: &Path) -> std::io::Result<Option<(PathBuf, SystemTime, u32)>> {
    let mut newest: Option<(PathBuf, SystemTime, u32)> = None;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        // Not followed: a link is not a backup this directory holds.
        let metadata = entry.metadata()?;
        if !metadata.is_file() {
            continue;
        }
        let modified = metadata.modified()?;
        if newest.as_ref().is_none_or(|(_, time, _)| modified > *time) {
            newest = Some((entry.path(), modified, metadata.permissions().mode()));
        }
    }
    Ok(newest)
}

fn is_age_file(path: &Path) -> std::io::Result<bool> {
    let mut start = Vec::with_capacity(64);
    std::fs::File::open(path)?
        .take(64)
        .read_to_end(&mut start)?;
    Ok(AGE_HEADERS.iter().any(|header| start.starts_with(header)))
}
