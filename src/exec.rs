//! Becoming the program: the child environment, then `execve`. The launcher's PID, signals and
//! exit status all become the program's; nothing of the launcher keeps running.

use std::collections::HashMap;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::env_vars::{Environment, is_launcher_variable};
use crate::inherited_signals;
use crate::secret::SecretString;

/// Options for the program's environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildEnvOptions {
    /// Start from an empty environment instead of the launcher's.
    pub pristine: bool,
    /// Pass the launcher's credentials and `CRONOS_SECRETS_*` settings to the program.
    pub keep_launcher_env: bool,
}

/// The program's environment: the launcher's (unless pristine), minus launcher credentials,
/// plus the resolved entries, plus `KEY`-only env-file lines passed through.
pub fn child_environment(
    env: &Environment,
    resolved: &[(String, SecretString)],
    inherited: &[String],
    options: ChildEnvOptions,
) -> Vec<(OsString, SecretString)> {
    let mut child: Vec<(OsString, SecretString)> = Vec::new();
    // An index, not a search per entry: 100k env-file entries must not take quadratic time.
    let mut positions: HashMap<OsString, usize> = HashMap::new();
    let mut set = |name: &OsStr, value: SecretString| {
        if !options.keep_launcher_env && is_launcher_variable(name) {
            return;
        }
        match positions.get(name) {
            Some(&position) => child[position].1 = value,
            None => {
                positions.insert(name.to_os_string(), child.len());
                child.push((name.to_os_string(), value));
            }
        }
    };
    if !options.pristine {
        for (name, value) in env.iter() {
            set(name, SecretString::from_os(value.to_os_string()));
        }
    }
    for name in inherited {
        if let Some(value) = env.get(name) {
            set(
                OsStr::new(name),
                SecretString::from_os(value.to_os_string()),
            );
        }
    }
    for (name, value) in resolved {
        set(OsStr::new(name), value.clone());
    }
    child
}

/// Why the program could not be started, with GNU `env`'s exit codes.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ExecError {
    /// 126: found but not executable; 127: not found.
    pub code: i32,
    pub message: String,
    pub hint: &'static str,
}

/// Replaces this process with `program`. Returns only on failure.
pub fn exec(program: &OsStr, args: &[OsString], env: &[(OsString, SecretString)]) -> ExecError {
    let argv: Vec<CString> = std::iter::once(program)
        .chain(args.iter().map(OsString::as_os_str))
        .filter_map(|arg| CString::new(arg.as_bytes()).ok())
        .collect();
    let envp: Vec<CString> = env
        .iter()
        .filter_map(|(name, value)| {
            let mut entry = name.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.expose());
            CString::new(entry).ok()
        })
        .collect();
    let name = program.to_string_lossy();
    // The launcher's handlers and mask are its own; the program gets what the launcher
    // inherited (SIGHUP stays ignored under nohup).
    inherited_signals::restore_before_exec();
    let mut denied = None;
    for candidate in candidates(program, env) {
        let Ok(path) = CString::new(candidate.as_os_str().as_bytes()) else {
            continue;
        };
        let errno = match nix::unistd::execve(&path, &argv, &envp) {
            Err(errno) => errno,
            Ok(never) => match never {},
        };
        match errno {
            Errno::ENOENT | Errno::ENOTDIR => continue,
            Errno::EACCES | Errno::EPERM => denied = Some(candidate),
            // `check` reports a single variable over the limit by name; this is the total.
            Errno::E2BIG => {
                return ExecError {
                    code: 125,
                    message: format!(
                        "cannot run {}: the program's environment and arguments are larger than Linux allows",
                        candidate.display()
                    ),
                    hint: "pass large values as files (render them with --render) instead of variables",
                };
            }
            // A script without "#!": run it with sh, as execvp does.
            Errno::ENOEXEC => {
                let shell = c"/bin/sh";
                let mut shell_argv = vec![shell.to_owned(), path.clone()];
                shell_argv.extend(argv.iter().skip(1).cloned());
                let errno = match nix::unistd::execve(shell, &shell_argv, &envp) {
                    Err(errno) => errno,
                    Ok(never) => match never {},
                };
                return ExecError {
                    code: 126,
                    message: format!("cannot run {}: {}", candidate.display(), errno.desc()),
                    hint: "check that the program is a valid executable for this machine",
                };
            }
            other => {
                return ExecError {
                    code: 126,
                    message: format!("cannot run {}: {}", candidate.display(), other.desc()),
                    hint: "check that the program is a valid executable for this machine",
                };
            }
        }
    }
    match denied {
        Some(path) => ExecError {
            code: 126,
            message: format!("cannot run {}: permission denied", path.display()),
            hint: "make it executable (chmod +x) and check the directory permissions",
        },
        None => ExecError {
            code: 127,
            message: format!("program \"{name}\" not found"),
            hint: "check the name, or give the full path; with --pristine, PATH comes from the env files",
        },
    }
}

/// Where to look for the program: the path itself if it has a `/`, else each directory of
/// the program's PATH (the launcher's when the program gets none), as `env` does.
fn candidates(program: &OsStr, env: &[(OsString, SecretString)]) -> Vec<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return vec![PathBuf::from(program)];
    }
    if program.is_empty() {
        return Vec::new();
    }
    let child_path = env
        .iter()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| value.as_os_str().to_os_string());
    let search = child_path
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    std::env::split_paths(&search)
        .map(|dir| {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".").to_path_buf()
            } else {
                dir
            };
            dir.join(program)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(child: &[(OsString, SecretString)]) -> Vec<String> {
        child
            .iter()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn strips_launcher_credentials_unless_kept() {
        let env = Environment::from_vars([
            ("PATH".into(), "/bin".into()),
            ("VAULT_TOKEN".into(), "s.token".into()),
            ("CRONOS_SECRETS_BACKEND".into(), "vault".into()),
        ]);
        let stripped = child_environment(&env, &[], &[], ChildEnvOptions::default());
        assert_eq!(names(&stripped), ["PATH"]);
        let kept = child_environment(
            &env,
            &[],
            &[],
            ChildEnvOptions {
                keep_launcher_env: true,
                ..Default::default()
            },
        );
        assert_eq!(
            names(&kept),
            ["PATH", "VAULT_TOKEN", "CRONOS_SECRETS_BACKEND"]
        );
    }

    #[test]
    fn pristine_keeps_only_resolved_and_inherited() {
        let env = Environment::from_vars([
            ("PATH".into(), "/bin".into()),
            ("HOME".into(), "/root".into()),
        ]);
        let resolved = [("A".to_string(), SecretString::from("1"))];
        let options = ChildEnvOptions {
            pristine: true,
            ..Default::default()
        };
        let child = child_environment(&env, &resolved, &["HOME".to_string()], options);
        assert_eq!(names(&child), ["HOME", "A"]);
    }

    #[test]
    fn resolved_values_replace_inherited_ones() {
        let env = Environment::from_vars([("A".into(), "secret://a".into())]);
        let resolved = [("A".to_string(), SecretString::from("fetched"))];
        let child = child_environment(&env, &resolved, &[], ChildEnvOptions::default());
        assert_eq!(child.len(), 1);
        assert_eq!(child[0].1.expose(), b"fetched");
    }
}
