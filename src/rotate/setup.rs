//! `rotate --database --setup`: the roles of `strategy: alternating` in PostgreSQL, and the
//! user name beside the password in the backend.

use super::external::{ExternalSystem, StepError};
use super::fault::Fault;
use super::protocol::Rotating;
use super::select::System;
use super::{postgres, refuse, systems};
use crate::backend::{Backends, Source};
use crate::config::{Config, Strategy};
use crate::error::Error;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::stderr::errln;
use crate::stdout::outln;

/// `rotate --database --setup`: the two login roles and their group, once.
pub async fn setup(
    config: &Config,
    backends: &Backends,
    deadline: tokio::time::Instant,
    fault: Fault,
    dry_run: bool,
) -> Result<i32, Error> {
    let Some(database) = &config.rotation.database else {
        return Ok(refuse(vec![
            Problem::new(
                "rotation.database",
                "is not in the config: --setup creates the roles of strategy: alternating",
            )
            .with_hint("add rotation.database (the README's Rotation section)"),
        ]));
    };
    if database.strategy != Strategy::Alternating {
        return Ok(refuse(vec![Problem::new(
            "rotation.database.strategy",
            "is single: --setup creates the second login role and the group of strategy: alternating, which single does not use",
        )
        .with_hint("set strategy: alternating first")]));
    }
    if dry_run {
        for statement in postgres::setup_sql(database) {
            outln!("{statement}");
        }
        return Ok(0);
    }
    let settings = database.clone();
    let admin = match systems::admin(System::Database, config, backends).await {
        Ok(admin) => admin,
        Err(problem) => return Ok(refuse(vec![problem])),
    };
    let postgres = postgres::Postgres::new(settings, admin, deadline);
    match postgres.setup().await {
        Ok(done) => {
            for line in done {
                errln!("cronos-secrets: setup: {line}");
            }
        }
        Err(StepError::Rejected(why) | StepError::Failed(why)) => {
            return Ok(refuse(vec![Problem::new(
                postgres.describe(),
                format!("setup failed: {why}"),
            )]));
        }
    }
    // The secret itself: the user name beside the password, so launches can read it now.
    let source = Source::from(config.backend);
    let backend = backends.get(source).expect("built by rotate").as_ref();
    let Some(store) = backend.rotation() else {
        return Ok(0);
    };
    let Some(secret) = config
        .secrets
        .iter()
        .find(|s| s.name == "database_password")
    else {
        return Ok(0);
    };
    let pair = systems::pair(config, System::Database);
    let rotating = Rotating {
        secret,
        reference: Reference::named_secret(&secret.name),
        backend,
        store,
        fault,
        system: None,
        pair: pair.as_ref(),
    };
    match rotating.pair_up().await {
        Ok(true) => errln!(
            "cronos-secrets: setup: {} now holds the user name {} beside the password (#username)",
            backend.location(&rotating.reference),
            database.role
        ),
        Ok(false) => {}
        Err(problem) => return Ok(refuse(vec![problem])),
    }
    Ok(0)
}
