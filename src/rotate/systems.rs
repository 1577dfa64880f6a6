//! The systems `rotate` changes passwords in, built from the config's `rotation:` section:
//! each admin password is a reference, read (and audited) through `resolve::read` like any other.

use std::collections::BTreeSet;

use super::external::ExternalSystem;
use super::postgres::Postgres;
use super::redis::Redis;
use super::select::System;
use crate::backend::{Backends, Source};
use crate::config::{Config, RotationSettings, Strategy};
use crate::problem::Problem;
use crate::reference::Reference;
use crate::resolve;
use crate::secret::SecretString;

/// The admin password references of `systems`, which the run must build backends for.
pub fn admin_references(settings: &RotationSettings, systems: &[System]) -> Vec<Reference> {
    systems
        .iter()
        .filter_map(|system| match system {
            System::Database => settings
                .database
                .as_ref()
                .map(|db| db.admin_password.clone()),
            System::Redis => settings
                .redis
                .as_ref()
                .map(|redis| redis.admin_password.clone()),
        })
        .collect()
}

pub fn sources(config: &Config, systems: &[System]) -> BTreeSet<Source> {
    admin_references(&config.rotation, systems)
        .iter()
        .map(|reference| Source::of(reference, config.backend))
        .collect()
}

/// The system's steps, with its admin password read; connects nothing yet.
pub async fn build(
    system: System,
    config: &Config,
    backends: &Backends,
    deadline: tokio::time::Instant,
) -> Result<Box<dyn ExternalSystem>, Problem> {
    let admin = admin(system, config, backends).await?;
    Ok(steps(system, config, admin, deadline))
}

/// `postgresql cronos_user@db:5432/cronos_ai`, for `--dry-run` (no password read).
pub fn describe(config: &Config, system: System) -> String {
    let missing = "rotation_of returns Password only for a configured system";
    match system {
        System::Database => {
            super::postgres::describe(config.rotation.database.as_ref().expect(missing))
        }
        System::Redis => super::redis::describe(config.rotation.redis.as_ref().expect(missing)),
    }
}

fn steps(
    system: System,
    config: &Config,
    admin: SecretString,
    deadline: tokio::time::Instant,
) -> Box<dyn ExternalSystem> {
    let missing = "admin() found the system's settings";
    match system {
        System::Database => {
            let settings = config.rotation.database.clone().expect(missing);
            Box::new(Postgres::new(settings, admin, deadline))
        }
        System::Redis => {
            let settings = config.rotation.redis.clone().expect(missing);
            Box::new(Redis::new(settings, admin, deadline))
        }
    }
}

/// The admin password, read through the backend its reference names.
pub async fn admin(
    system: System,
    config: &Config,
    backends: &Backends,
) -> Result<SecretString, Problem> {
    let Some(reference) = admin_references(&config.rotation, &[system]).pop() else {
        return Err(Problem::new(
            format!("rotation.{}", system.key()),
            "is not in the config",
        ));
    };
    admin_password(system, &reference, config, backends).await
}

/// `alternating`: the two login roles, the first the one `single` rotates.
pub fn pair(config: &Config, system: System) -> Option<[String; 2]> {
    let database = config.rotation.database.as_ref()?;
    (system == System::Database && database.strategy == Strategy::Alternating)
        .then(|| [database.role.clone(), database.alternate_role.clone()])
}

async fn admin_password(
    system: System,
    reference: &Reference,
    config: &Config,
    backends: &Backends,
) -> Result<SecretString, Problem> {
    let location = format!("rotation.{}.admin_password", system.key());
    let source = Source::of(reference, config.backend);
    let backend = backends.get(source).ok_or_else(|| {
        Problem::new(
            format!("{location} ({reference})"),
            format!("the {source} backend was not built"),
        )
    })?;
    let mut reads =
        resolve::read(backend.as_ref(), std::slice::from_ref(reference), &location).await?;
    let location = format!("{location} ({reference})");
    match reads.take(reference) {
        Ok(fetched) if !fetched.value.expose().is_empty() => Ok(fetched.value),
        Ok(_) => Err(Problem::new(location, "the admin password is empty")),
        Err(error) => Err(Problem::new(location, error.message).with_optional_hint(error.hint)),
    }
}
