//! `file://PATH`: mounted secret files (Kubernetes and Docker secrets).
//!
//! Only regular files of at most [`bounded::SECRET_FILE_LIMIT`] are read (symlinks followed, as
//! Kubernetes secret volumes are symlinks): `file:///dev/zero` or a FIFO is a clear error, and
//! a read on a hung network mount is abandoned at the launch's deadline.

use std::io::ErrorKind;
use std::path::PathBuf;

use async_trait::async_trait;
use futures::future::join_all;
use tokio::time::Instant;

use super::{Answers, Backend, FetchError, FetchErrorKind, Fetched, Layout, Source, call_deadline};
use crate::bounded::{self, ReadError};
use crate::config::Config;
use crate::reference::Reference;
use crate::secret::SecretString;

/// A file's layout is its path.
pub struct FileLayout;

impl Layout for FileLayout {
    fn planned_location(&self, reference: &Reference, _config: &Config) -> String {
        location(reference)
    }
}

fn location(reference: &Reference) -> String {
    format!("file://{}", reference.target)
}

pub struct FileBackend {
    deadline: Instant,
}

impl FileBackend {
    pub fn new(deadline: Instant) -> Self {
        FileBackend { deadline }
    }

    async fn read(&self, reference: &Reference) -> Result<Fetched, FetchError> {
        let path = PathBuf::from(&reference.target);
        match bounded::read_regular_file_until(
            path,
            bounded::SECRET_FILE_LIMIT,
            call_deadline::current(self.deadline),
        )
        .await
        {
            // Mounted secrets usually end with one newline that is not part of the value.
            Ok(bytes) => Ok(Fetched::value(
                SecretString::new(bytes).trim_one_trailing_newline(),
            )),
            Err(error) => {
                let kind = match &error {
                    ReadError::Io(io) if io.kind() == ErrorKind::NotFound => {
                        FetchErrorKind::NotFound
                    }
                    ReadError::Io(io) if io.kind() == ErrorKind::PermissionDenied => {
                        FetchErrorKind::Denied
                    }
                    ReadError::Io(_) | ReadError::TimedOut => FetchErrorKind::Unavailable,
                    ReadError::NotRegular(_) | ReadError::TooLarge { .. } => {
                        FetchErrorKind::Invalid
                    }
                };
                let hint = error.hint().unwrap_or_else(|| "check the file".into());
                Err(
                    FetchError::new(kind, format!("cannot read {reference}: {error}"))
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
        location(reference)
    }

    async fn fetch(&self, references: &[Reference]) -> Answers {
        let reads = join_all(references.iter().map(|reference| self.read(reference))).await;
        references.iter().cloned().zip(reads).collect()
    }
}
