//! What kind of file a path is, which decides how assignments are read from it.

use crate::placeholder::Syntax;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.env`, `.env.production`, `production.env`, `env.production`: the dotenv parser.
    EnvFile,
    /// YAML: configs, Kubernetes manifests (a `Secret`'s `data`/`stringData`), compose files.
    Yaml,
    Json,
    Shell,
    Python,
    Rust,
    /// Anything else: assignments at the start of a line (`KEY=value`, `key: value`).
    Text,
}

impl FileKind {
    pub fn of(path: &str, text: &str) -> FileKind {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        let extension = lower.rsplit_once('.').map(|(_, extension)| extension);
        if lower == ".env"
            || lower.starts_with(".env.")
            || lower.ends_with(".env")
            || lower.starts_with("env.")
            || lower == ".envrc"
        {
            return FileKind::EnvFile;
        }
        match extension {
            Some("yaml" | "yml") => return FileKind::Yaml,
            Some("json") => return FileKind::Json,
            Some("sh" | "bash" | "zsh" | "ksh") => return FileKind::Shell,
            Some("py" | "pyw") => return FileKind::Python,
            Some("rs") => return FileKind::Rust,
            _ => {}
        }
        if matches!(
            lower.as_str(),
            ".bashrc" | ".profile" | ".zshrc" | ".bash_profile"
        ) {
            return FileKind::Shell;
        }
        let first_line = text.lines().next().unwrap_or("");
        if first_line.starts_with("#!") {
            if first_line.contains("python") {
                return FileKind::Python;
            }
            if ["sh", "bash", "zsh", "ksh", "dash"].iter().any(|shell| {
                first_line.ends_with(shell) || first_line.contains(&format!("{shell} "))
            }) {
                return FileKind::Shell;
            }
        }
        FileKind::Text
    }

    /// How `${…}` reads in this kind: shell-like files also expand a bare `$NAME`.
    pub fn syntax(self) -> Syntax {
        match self {
            FileKind::EnvFile | FileKind::Shell | FileKind::Text => Syntax::EnvFile,
            FileKind::Yaml | FileKind::Json | FileKind::Python | FileKind::Rust => Syntax::Template,
        }
    }

    /// Code, where an unquoted value is an expression (`os.getenv("X")`), not a literal.
    pub fn quoted_values_only(self) -> bool {
        matches!(self, FileKind::Json | FileKind::Python | FileKind::Rust)
    }

    /// Prose-heavy kinds, where only a key at the start of a line is an assignment.
    pub fn keys_at_line_start_only(self) -> bool {
        matches!(self, FileKind::Yaml | FileKind::Text | FileKind::EnvFile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_and_shebang() {
        assert_eq!(FileKind::of(".env", ""), FileKind::EnvFile);
        assert_eq!(
            FileKind::of("deploy/.env.production", ""),
            FileKind::EnvFile
        );
        assert_eq!(FileKind::of("prod.env", ""), FileKind::EnvFile);
        assert_eq!(
            FileKind::of("templates/env.production", ""),
            FileKind::EnvFile
        );
        assert_eq!(FileKind::of("k8s/secret.yml", ""), FileKind::Yaml);
        assert_eq!(
            FileKind::of("bin/deploy", "#!/usr/bin/env bash\n"),
            FileKind::Shell
        );
        assert_eq!(
            FileKind::of("tool", "#!/usr/bin/python3\n"),
            FileKind::Python
        );
        assert_eq!(FileKind::of(".npmrc", ""), FileKind::Text);
    }
}
