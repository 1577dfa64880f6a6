//! The questions for the configured backend, built once: each secret's schedule (`rotate
//! --status`'s rows) and, where the backend keeps them, its audit devices.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::backend::{Backends, BuildContext, FetchError, Source, deadline_after};
use crate::config::Config;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::rotate::{self, StatusRow};

pub struct Answers {
    pub schedule: Result<Vec<StatusRow>, String>,
    pub audit_devices: Option<Result<Vec<String>, FetchError>>,
}

pub async fn ask(config: &Config, env: &Environment, timeout: Duration) -> Result<Answers, Error> {
    let source = Source::from(config.backend);
    let context = BuildContext {
        config,
        env,
        deadline: deadline_after(timeout),
        keep_launcher_env: false,
    };
    let backends = match Backends::build(&BTreeSet::from([source]), &context).await {
        Ok(backends) => backends,
        Err(problem) => {
            return Ok(Answers {
                schedule: Err(problem.to_string()),
                audit_devices: None,
            });
        }
    };
    let backend = backends.get(source).expect("built above").as_ref();
    let schedule = rotate::status_rows(config, backend)
        .await
        .map_err(|problem| problem.to_string());
    let audit_devices = backend.audit_devices().await;
    backends.finish().await;
    Ok(Answers {
        schedule,
        audit_devices,
    })
}
