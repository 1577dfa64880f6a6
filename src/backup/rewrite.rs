//! `migrate --rewrite-env-file FILE`: the lines of FILE that gave a migrated table secret its
//! value become `VAR=secret://NAME`, read from the new backend; the old file is kept as
//! `FILE.bak` with the same mode. Written atomically, and only once every secret was written.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::bounded;
use crate::config::Config;
use crate::envfile;
use crate::output;
use crate::plan::{Origin, Plan};
use crate::problem::Problem;

/// One line to rewrite: 1-based, the key as written, the secret's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub line: usize,
    pub key: String,
    pub name: String,
}

/// The lines of `file` that gave the table secrets `names` their values in `plan`.
pub fn changes(file: &Path, plan: &Plan, config: &Config, names: &[&str]) -> Vec<Change> {
    let wanted = same_file(file);
    let mut changes: Vec<Change> = plan
        .vars
        .iter()
        .filter_map(|var| {
            let secret = &config.secrets[var.secret?];
            let Origin::EnvFile { path, line } = &var.origin else {
                return None;
            };
            (names.contains(&secret.name.as_str()) && same_file(path) == wanted).then(|| Change {
                line: *line,
                key: var.alias_of.clone().unwrap_or_else(|| var.name.clone()),
                name: secret.name.clone(),
            })
        })
        .collect();
    changes.sort_by_key(|change| change.line);
    changes
}

fn same_file(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Applies `changes` to `file`, keeping `FILE.bak`. A value that spans lines (a quoted
/// multi-line value) is not rewritten by guesswork: the whole rewrite is refused.
pub fn apply(file: &Path, changes: &[Change]) -> Result<(), Problem> {
    let shown = file.display().to_string();
    let bytes = bounded::read_regular_file(file, bounded::INPUT_FILE_LIMIT).map_err(|error| {
        Problem::new(&shown, format!("cannot read it: {error}")).with_optional_hint(error.hint())
    })?;
    let mode = std::fs::metadata(file)
        .map(|metadata| metadata.permissions().mode() & 0o777)
        .unwrap_or(output::PRIVATE_MODE);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Problem::new(&shown, "is not UTF-8 text").with_hint("rewrite the lines by hand")
    })?;
    let entries = envfile::parse(text).map_err(|error| {
        Problem::new(format!("{shown}:{}", error.line()), error.to_string())
            .with_hint("fix the line, then migrate again")
    })?;
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    for change in changes {
        let whole = entries
            .iter()
            .find(|entry| entry.line == change.line && entry.key == change.key);
        let line = lines.get(change.line - 1).cloned().unwrap_or_default();
        let alone = envfile::parse(&line).ok();
        let single = matches!((whole, alone.as_deref()), (Some(whole), Some([alone]))
            if alone.key == whole.key && alone.value == whole.value);
        if !single {
            return Err(Problem::new(
                format!("{shown}:{}", change.line),
                format!("{}'s value spans several lines: not rewritten", change.key),
            )
            .with_hint(format!(
                "replace the entry by hand with {}=secret://{}; nothing in the file was changed",
                change.key, change.name
            )));
        }
        let export = if line.trim_start().starts_with("export ") {
            "export "
        } else {
            ""
        };
        lines[change.line - 1] = format!("{export}{}=secret://{}\n", change.key, change.name);
    }
    let mut backup = file.as_os_str().to_owned();
    backup.push(".bak");
    output::write_atomically(Path::new(&backup), &bytes, mode)?;
    output::write_atomically(file, lines.concat().as_bytes(), mode)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(line: usize, key: &str) -> Change {
        Change {
            line,
            key: key.to_string(),
            name: key.to_lowercase(),
        }
    }

    #[test]
    fn single_line_entries_are_rewritten_and_the_old_file_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env.production");
        std::fs::write(
            &file,
            "# db\nexport DB=old-value-1\nOTHER=x\nAPI='old-value-2'",
        )
        .unwrap();
        apply(&file, &[change(2, "DB"), change(4, "API")]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "# db\nexport DB=secret://db\nOTHER=x\nAPI=secret://api\n"
        );
        let kept = std::fs::read_to_string(dir.path().join(".env.production.bak")).unwrap();
        assert!(kept.contains("old-value-1"));
    }

    #[test]
    fn a_multi_line_value_refuses_the_whole_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        let text = "DB=one-line\nKEY=\"first\nsecond\"\n";
        std::fs::write(&file, text).unwrap();
        let error = apply(&file, &[change(1, "DB"), change(2, "KEY")]).unwrap_err();
        assert!(error.to_string().contains("spans several lines"), "{error}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        assert!(!dir.path().join(".env.bak").exists());
    }
}
