//! "Audit logging enabled": the launcher's own audit log (one JSON line per secret read,
//! `--audit-log`) is configured and writable by this user, and Vault's audit devices are
//! enabled, when the token may list them (`sys/audit` needs `sudo`; a denial is unknown).

use std::path::Path;

use nix::unistd::{AccessFlags, access};

use super::row::Part;
use super::tools;
use crate::backend::{FetchError, FetchErrorKind};
use crate::config::{BackendKind, Config};

pub fn parts(
    config: &Config,
    flag: Option<&Path>,
    cwd: &Path,
    devices: &Option<Result<Vec<String>, FetchError>>,
) -> Vec<Part> {
    let mut parts = vec![launcher_log(
        flag.or(config.audit_log.as_deref())
            .or(config.checklist.audit_log.as_deref()),
        cwd,
    )];
    if let Some(devices) = devices {
        parts.push(server_devices(config.backend, devices));
    }
    parts
}

fn launcher_log(path: Option<&Path>, cwd: &Path) -> Part {
    let Some(path) = path else {
        return Part::unknown(
            "no launcher audit log is named",
            "name the audit log in the config (secrets_manager: audit_log: /var/log/cronos/audit.jsonl), or the file the production launcher's --audit-log appends to (checklist: audit_log: …), or pass --audit-log to doctor",
        );
    };
    let path = cwd.join(path);
    let shown = tools::shown(&path, cwd);
    let fix = format!(
        "create {shown}'s directory and let the launcher's user write the file (the audit log is opened without following links), or choose another path for --audit-log"
    );
    match std::fs::symlink_metadata(&path) {
        Ok(metadata) if metadata.file_type().is_symlink() => Part::fail(
            format!("{shown}: a symbolic link, which the launcher refuses to open"),
            fix,
        ),
        Ok(metadata) if !metadata.is_file() => {
            Part::fail(format!("{shown}: not a regular file"), fix)
        }
        Ok(_) => match access(&path, AccessFlags::W_OK) {
            Ok(()) => Part::pass(format!("launcher audit log {shown}: writable")),
            Err(error) => Part::fail(format!("{shown}: not writable: {error}"), fix),
        },
        // Not there yet: the launcher creates it, if it may write the directory.
        Err(_) => {
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            match access(dir, AccessFlags::W_OK | AccessFlags::X_OK) {
                Ok(()) => Part::pass(format!(
                    "launcher audit log {shown}: not written yet; its directory is writable"
                )),
                Err(error) => Part::fail(
                    format!("{shown}: cannot be created: its directory: {error}"),
                    fix,
                ),
            }
        }
    }
}

fn server_devices(backend: BackendKind, devices: &Result<Vec<String>, FetchError>) -> Part {
    match devices {
        Ok(devices) if devices.is_empty() => Part::fail(
            format!("{backend}: no audit device is enabled"),
            "enable one: vault audit enable file file_path=/var/log/vault_audit.log (OpenBao 2.x: declare an audit block in the server's config)",
        ),
        Ok(devices) => Part::pass(format!("{backend} audit devices: {}", devices.join(", "))),
        Err(error) if error.kind == FetchErrorKind::Denied => Part::unknown(
            format!(
                "{backend}: the token may not list the audit devices: {}",
                error.message
            ),
            "run doctor once with a token that has read and sudo on sys/audit (an operator's), or check with vault audit list",
        ),
        Err(error) => Part::unknown(
            format!(
                "{backend}: the audit devices were not listed: {}",
                error.message
            ),
            "vault audit list, once the server answers",
        ),
    }
}
