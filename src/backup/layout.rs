//! The JSON inside a backup, documented in docs/backup.md so that a file made or opened with the
//! reference `age` tool restores: `{"format": "cronos-secrets-backup", "version": 1, …}`. The
//! version is checked before anything else is read, so a newer layout is refused by name
//! rather than half understood.

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::problem::Problem;
use crate::secret::SecretString;

/// The `format` field: what the file is, whatever its version.
pub const FORMAT: &str = "cronos-secrets-backup";
/// The only layout version this build writes and reads.
pub const VERSION: u32 = 1;

/// A whole backup: where it was taken from and every secret the deployment uses.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    pub format: String,
    pub version: u32,
    /// When the backup was taken (`2026-12-06T21:40:00Z`), for the runbook's age check.
    pub created: String,
    /// The configured backend it was taken from (`vault`), for messages only.
    pub backend: String,
    pub secrets: Vec<Entry>,
}

/// One secret: where it goes back to, and what was read.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The name `--only` selects: the table's secret name, or the reference as written.
    pub name: String,
    /// What restore writes: `secret://NAME` (the target's configured backend) or an explicit
    /// reference (`vault://secret/data/app#key`).
    pub reference: String,
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When the backend says this version was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The value `rotate` kept when it replaced this one, where the backend keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Previous>,
}

impl Entry {
    /// The length of the texts this entry holds, to size the JSON written from it.
    fn text_len(&self) -> usize {
        let previous = self
            .previous
            .as_ref()
            .map_or(0, |previous| previous.value.0.len());
        self.name.len() + self.reference.len() + self.value.0.len() + previous
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Previous {
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A value as JSON text: zeroized when dropped, never printed.
#[derive(Serialize, Deserialize, Clone)]
#[serde(transparent)]
pub struct Value(String);

impl Value {
    /// Backends store text (Vault, AWS `SecretString`, Key Vault): a value that is not UTF-8
    /// (only the environment can hold one) is refused, naming the secret.
    pub fn of(name: &str, value: &SecretString) -> Result<Value, Problem> {
        match value.expose_str() {
            Some(text) => Ok(Value(text.to_string())),
            None => Err(Problem::new(
                name,
                "the value is not UTF-8 text, which no backend can store",
            )
            .with_hint("store it base64-encoded and decode it in the program")),
        }
    }

    pub fn secret(&self) -> SecretString {
        SecretString::from(self.0.as_str())
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Backup {
    /// The JSON bytes, zeroized when dropped.
    pub fn to_json(&self) -> SecretString {
        // Sized up front (JSON escapes are at most 6 bytes a byte): a buffer that grew would
        // leave copies of values in freed memory.
        let values: usize = self.secrets.iter().map(Entry::text_len).sum();
        let mut json = Vec::with_capacity(6 * values + 512 * (self.secrets.len() + 1));
        serde_json::to_writer_pretty(&mut json, self).expect("a backup serializes");
        SecretString::new(json)
    }

    /// Reads the layout from decrypted JSON (`file` names it in messages): the format and the
    /// version first, then the rest.
    pub fn from_json(file: &str, json: &SecretString) -> Result<Backup, Problem> {
        #[derive(Deserialize)]
        struct Header {
            format: Option<String>,
            version: Option<serde_json::Value>,
        }
        let header: Header = serde_json::from_slice(json.expose()).map_err(|error| {
            Problem::new(
                file,
                format!("the decrypted backup is not JSON ({})", at(&error)),
            )
            .with_hint("a file encrypted with the age tool must hold the layout in docs/backup.md")
        })?;
        if header.format.as_deref() != Some(FORMAT) {
            return Err(Problem::new(file, format!("the decrypted file is not a cronos-secrets backup (\"format\" is not \"{FORMAT}\")"))
                .with_hint("see the layout in docs/backup.md"));
        }
        match header.version {
            Some(serde_json::Value::Number(number))
                if number.as_u64() == Some(u64::from(VERSION)) => {}
            other => {
                let found = other.map_or("none".to_string(), |version| version.to_string());
                return Err(Problem::new(
                    file,
                    format!("backup layout version {found} is not one this cronos-secrets reads (it reads version {VERSION})"),
                )
                .with_hint("restore it with the cronos-secrets release that wrote it, or a newer one"));
            }
        }
        serde_json::from_slice(json.expose()).map_err(|error| {
            Problem::new(
                file,
                format!("the backup's layout is wrong ({})", at(&error)),
            )
            .with_hint("see the layout in docs/backup.md")
        })
    }
}

/// Where JSON went wrong, without serde's message, which may quote the text found there (a
/// value written as a number would be shown).
fn at(error: &serde_json::Error) -> String {
    let what = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "a field missing, unknown or of the wrong type",
        serde_json::error::Category::Eof => "it ends too early",
    };
    format!("{what} at line {}, column {}", error.line(), error.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(version: u32) -> SecretString {
        let backup = Backup {
            format: FORMAT.to_string(),
            version,
            created: "2026-12-06T00:00:00Z".to_string(),
            backend: "vault".to_string(),
            secrets: vec![Entry {
                name: "jwt_secret".to_string(),
                reference: "secret://jwt_secret".to_string(),
                value: Value("planted-layout-value".to_string()),
                version: Some("3".to_string()),
                created: None,
                previous: None,
            }],
        };
        backup.to_json()
    }

    #[test]
    fn a_backup_round_trips() {
        let read = Backup::from_json("f", &backup(VERSION)).unwrap();
        assert_eq!(
            read.secrets[0].value.secret().expose(),
            b"planted-layout-value"
        );
        assert_eq!(read.secrets[0].version.as_deref(), Some("3"));
    }

    #[test]
    fn an_unknown_version_is_refused_by_number_without_its_values() {
        let error = Backup::from_json("f", &backup(2))
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("version 2 is not one"), "{error}");
        assert!(!error.contains("planted-layout-value"));
        let wrong = SecretString::from(r#"{"format":"other","version":1}"#);
        let error = Backup::from_json("f", &wrong).err().unwrap().to_string();
        assert!(error.contains("not a cronos-secrets backup"), "{error}");
    }
}
