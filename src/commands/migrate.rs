//! `migrate`: a backup of the deployment's secrets restored into another backend, in memory.

use crate::api::SecretsManager;
use crate::backup::{restore, select, take};
use crate::cli::MigrateArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::runtime::block_on;

pub fn migrate(
    settings: &LaunchSettings,
    env: Environment,
    args: &MigrateArgs,
) -> Result<i32, Error> {
    let working_dir = super::working_dir()?;
    let (target, backend) = super::restore::target(settings, &env, &args.target)?;
    let prepared = launch::prepare(settings, env, &working_dir)?;
    let templates = super::backup::templates(&prepared, &args.template)?;
    let wanted = select::wanted(&prepared.config, &prepared.plan, &templates);
    let source = SecretsManager::new(prepared.config.clone(), prepared.env.clone())
        .with_timeout(settings.timeout);
    let backup = block_on(take::take(
        &source,
        prepared.config.backend,
        &prepared.plan,
        &wanted,
    ))?;
    take::refuse_empty(&backup)?;
    let entries = restore::select(&backup, &args.target.only, "migrate")?;
    let reports = block_on(restore::restore(
        &target,
        backend,
        &entries,
        args.target.dry_run,
    ))?;
    Ok(super::restore::report(
        &target,
        &reports,
        args.target.dry_run,
    ))
}
