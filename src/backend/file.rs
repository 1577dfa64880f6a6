//! `file://PATH`: mounted secret files (Kubernetes and Docker secrets).

use std::io::ErrorKind;

use async_trait::async_trait;

use super::{Answers, Backend, FetchError, FetchErrorKind, Fetched, Source};
use crate::reference::Reference;
use crate::secret::SecretString;

pub struct FileBackend;

impl FileBackend {
    fn read(reference: &Reference) -> Result<Fetched, FetchError> {
        // Plain std::fs: the message below names the path once, with our own wording.
        match std::fs::read(&reference.target) {
            // Mounted secrets usually end with one newline that is not part of the value.
            Ok(bytes) => Ok(Fetched::value(
                SecretString::new(bytes).trim_one_trailing_newline(),
            )),
            Err(error) => {
                let (kind, reason, hint) = match error.kind() {
                    ErrorKind::NotFound => (
                        FetchErrorKind::NotFound,
                        "no such file".to_string(),
                        "check the path and that the secret volume is mounted",
                    ),
                    ErrorKind::PermissionDenied => (
                        FetchErrorKind::Denied,
                        "permission denied".to_string(),
                        "make the file readable by the launcher's user",
                    ),
                    ErrorKind::IsADirectory => (
                        FetchErrorKind::Invalid,
                        "is a directory".to_string(),
                        "name the file inside the directory",
                    ),
                    _ => (
                        FetchErrorKind::Unavailable,
                        error.to_string(),
                        "check the file",
                    ),
                };
                Err(
                    FetchError::new(kind, format!("cannot read {reference}: {reason}"))
                        .with_hint(hint),
                )
            }
        }
    }
}

#[async_trait]
impl Backend for FileBackend {
    fn source(&self) -> Source {
        Source::File
    }

    fn location(&self, reference: &Reference) -> String {
        format!("file://{}", reference.target)
    }

    async fn fetch(&self, references: &[Reference]) -> Answers {
        references
            .iter()
            .map(|reference| (reference.clone(), FileBackend::read(reference)))
            .collect()
    }
}
