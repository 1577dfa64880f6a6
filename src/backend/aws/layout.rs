//! Secrets Manager's layout: a location is the secret id under the configured prefix
//! (`aws-sm cronos-ai/db#password`); `rotate` keeps the previous value as the version staged
//! `AWSPREVIOUS`, a pinned read that cannot join a batch; a paired login is AWS's own JSON
//! shape `{"username": …, "password": …}`.

use super::request::{Request, location};
use super::rotation::{PASSWORD_KEY, previous_reference};
use crate::backend::{FetchError, Layout, Resource};
use crate::config::Config;
use crate::reference::Reference;

pub struct AwsLayout;

impl Layout for AwsLayout {
    fn planned_location(&self, reference: &Reference, config: &Config) -> String {
        location(reference, &config.aws.prefix)
    }

    fn previous_reference(&self, name: &str) -> Option<Reference> {
        Some(previous_reference(name))
    }

    fn paired_password_key(&self) -> &'static str {
        PASSWORD_KEY
    }

    /// The secret whatever version is read: versions and staging labels (the pending slot,
    /// the previous value) are not resources of their own.
    fn resource(
        &self,
        reference: &Reference,
        config: &Config,
    ) -> Result<Option<Resource>, FetchError> {
        let request = Request::of(reference, &config.aws.prefix)?;
        Ok(Some(Resource::Aws {
            id: request.read.id,
        }))
    }
}
