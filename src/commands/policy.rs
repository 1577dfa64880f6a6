//! `policy`: the least-privilege policy for the deployment's secrets, on stdout.

use std::path::PathBuf;

use crate::backend::Source;
use crate::cli::PolicyArgs;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::exec::ChildEnvOptions;
use crate::launch::{self, LaunchSettings};
use crate::policy::{self, Deployment, Purpose, Request};
use crate::stderr::errln;
use crate::stdout::outln;
use crate::template::{self, LaunchVariables};

pub fn policy(
    settings: &LaunchSettings,
    env: Environment,
    args: &PolicyArgs,
) -> Result<i32, Error> {
    let working_dir = super::working_dir()?;
    let mut prepared = launch::prepare(settings, env, &working_dir)?;
    let backend = args.backend.map(super::rotate::backend_kind);
    // `rotate --backend` rotates in that backend: `secret://NAME` then names a secret there.
    if let (Purpose::Rotate, Some(kind)) = (args.purpose, backend) {
        prepared.config.backend = kind;
    }
    let variables = LaunchVariables {
        plan: &prepared.plan,
        env: &prepared.env,
        options: ChildEnvOptions::default(),
    };
    let paths = args.templates.iter().map(PathBuf::as_path);
    let templates = template::load_all(paths, &working_dir, &variables)?;
    let placeholders = template::extras_of(&templates);
    let deployment = Deployment {
        config: &prepared.config,
        plan: &prepared.plan,
        templates: &placeholders,
    };
    let written = policy::write(
        &deployment,
        &Request {
            purpose: args.purpose,
            source: Source::from(backend.unwrap_or(prepared.config.backend)),
            format: args.format,
            aws_account: args.aws_account.as_deref(),
            kms_keys: &args.kms_keys,
            assignee: args.assignee.as_deref(),
        },
    )?;
    outln!("{}", written.policy.trim_end());
    for note in &written.notes {
        errln!("cronos-secrets: note: {note}");
    }
    Ok(0)
}
