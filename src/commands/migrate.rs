//! `migrate`: a backup of the deployment's secrets restored into another backend, in memory.

use crate::api::SecretsManager;
use crate::backup::{restore, rewrite, select, take};
use crate::cli::MigrateArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::stderr::errln;

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
    let backup = source.block_on(take::take(
        &source,
        prepared.config.backend,
        &prepared.plan,
        &wanted,
    ))?;
    take::refuse_empty(&backup)?;
    let entries = restore::select(&backup, &args.target.only, "migrate")?;
    errln!(
        "cronos-secrets: {} secrets read from the {} backend, written to the {} backend",
        entries.len(),
        prepared.config.backend,
        target.backend_name()
    );
    let reports = target.block_on(restore::restore(
        &target,
        backend,
        &entries,
        super::restore::options(&args.target),
    ))?;
    let code = super::restore::report(&target, &reports, args.target.dry_run);
    let Some(file) = &args.rewrite_env_file else {
        return Ok(code);
    };
    let names: Vec<&str> = entries.iter().map(|entry| entry.name.as_str()).collect();
    let changes = rewrite::changes(file, &prepared.plan, &prepared.config, &names);
    let shown = file.display();
    if changes.is_empty() {
        errln!(
            "cronos-secrets: {shown}: no entry of a migrated secret to rewrite (is it one of the --env-file files?)"
        );
        return Ok(code);
    }
    if code != 0 {
        errln!("cronos-secrets: {shown} left as it was: a secret was refused");
        return Ok(code);
    }
    if !args.target.dry_run {
        rewrite::apply(file, &changes)?;
    }
    let verb = if args.target.dry_run {
        "would rewrite"
    } else {
        "rewrote"
    };
    for change in &changes {
        errln!(
            "cronos-secrets: {verb} {shown}:{} {}=secret://{}",
            change.line,
            change.key,
            change.name
        );
    }
    Ok(code)
}
