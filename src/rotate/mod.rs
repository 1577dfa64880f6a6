//! `rotate`: the guide's rotation script, crash-safe on every backend (see `protocol`), with a
//! schedule that `--status` enforces (see `status`).

mod external;
mod external_steps;
mod fault;
pub(crate) mod postgres; // `pub(crate)`: the fuzz target replays its logins
mod protocol;
pub(crate) mod redis; // `pub(crate)`: the fuzz target reads its replies
mod select;
mod setup;
mod slot_check;
mod status;
mod status_metrics;
mod step;
mod systems;
mod then;

use std::ffi::OsString;
use std::time::SystemTime;

use crate::backend::{Backend, Backends, BuildContext, Source, deadline_after};
use crate::config::{BackendKind, Config};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::logging;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::schema::RequiredSecret;
use crate::stderr::errln;
use crate::stdout::outln;

use external::ExternalSystem;
use fault::Fault;
use protocol::{Done, Rotating};
use select::{Rotation, Schedule, System};
use status::Observed;

pub use select::SELECTORS;
pub use status::StatusFormat;

/// `check`'s warning for a secret past its `rotate_every`, from the current version's date.
pub fn overdue_warning(secret: &RequiredSecret, updated: Option<SystemTime>) -> Option<String> {
    let schedule = Schedule {
        updated,
        every: secret.rotate_every,
    };
    let due = schedule.due()?;
    schedule.overdue(SystemTime::now()).then(|| {
        Problem::new(
            &secret.name,
            format!(
                "overdue for rotation: last changed {}, due {}",
                crate::backend::utc(updated.unwrap_or(due)),
                crate::backend::utc(due)
            ),
        )
        .with_hint(format!(
            "cronos-secrets rotate {} (rotate --status lists every secret's schedule)",
            secret.name
        ))
        .to_string()
    })
}

/// What `rotate --all` may touch, for `policy --for rotate`: each secret of the table with
/// whether this config lets it be rotated (`--status` and `--dry-run` only look at the
/// others), and the admin password references of the systems whose passwords it changes.
pub fn reach(config: &Config) -> (Vec<(&RequiredSecret, bool)>, Vec<Reference>) {
    let mut systems = Vec::new();
    let secrets = config
        .secrets
        .iter()
        .map(
            |secret| match select::rotation_of(secret, &config.rotation) {
                Rotation::Key { .. } => (secret, true),
                Rotation::Password { system, .. } => {
                    systems.push(system);
                    (secret, true)
                }
                Rotation::Refused { .. } => (secret, false),
            },
        )
        .collect();
    (
        secrets,
        systems::admin_references(&config.rotation, &systems),
    )
}

/// What the command line asked for, decided by `commands::rotate`.
pub struct Request {
    pub all: bool,
    /// Table names: the guide's flags (`--jwt` → `jwt_secret`) and names given as arguments.
    pub names: Vec<String>,
    pub backend: Option<BackendKind>,
    pub due_only: bool,
    pub action: Action,
    pub then: Vec<OsString>,
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Status {
        format: StatusFormat,
    },
    DryRun,
    Rotate,
    Resume,
    Abort,
    Retire,
    /// `--database --setup`: creates the roles of `strategy: alternating` once (or, with
    /// `--dry-run`, prints the SQL).
    Setup {
        dry_run: bool,
    },
}

pub async fn rotate(mut config: Config, env: Environment, request: Request) -> Result<i32, Error> {
    if let Some(kind) = request.backend {
        config.backend = kind;
    }
    let fault = match request.action {
        Action::Rotate | Action::Resume => Fault::from_env(&env)?,
        _ => Fault::default(),
    };
    let status_all = matches!(request.action, Action::Status { .. }) && request.names.is_empty();
    let selected = select::select(&config.secrets, request.all || status_all, &request.names)?;
    let source = Source::from(config.backend);
    let deadline = deadline_after(request.timeout);
    let context = BuildContext {
        config: &config,
        env: &env,
        deadline,
        keep_launcher_env: false,
    };
    // The systems whose passwords change, and the backends their admin passwords are in.
    let systems: Vec<System> = match request.action {
        Action::Rotate | Action::Resume | Action::Abort | Action::Setup { dry_run: false } => {
            selected
                .iter()
                .filter_map(
                    |secret| match select::rotation_of(secret, &config.rotation) {
                        Rotation::Password { system, .. } => Some(system),
                        _ => None,
                    },
                )
                .collect()
        }
        _ => Vec::new(),
    };
    let mut sources = systems::sources(&config, &systems);
    sources.insert(source);
    let backends = Backends::build(&sources, &context).await?;
    if let Action::Setup { dry_run } = request.action {
        let code = setup::setup(&config, &backends, deadline, fault, dry_run).await;
        backends.finish().await;
        return code;
    }
    let backend = backends.get(source).expect("built above").as_ref();
    let now = SystemTime::now();
    let observed = observe(&selected, backend, source).await;
    let observed: Vec<Observed> = observed
        .into_iter()
        .filter(|seen| !request.due_only || seen.schedule.overdue(now) || seen.pending.is_some())
        .collect();
    let code = match request.action {
        Action::Status { format } => {
            let rows: Vec<status::Row> = observed
                .iter()
                .map(|seen| status::row(seen, source, now))
                .collect();
            match format {
                StatusFormat::Json => outln!(
                    "{}",
                    serde_json::to_string_pretty(&rows).expect("rows serialize")
                ),
                StatusFormat::Table => status::print_table(&rows),
                StatusFormat::Prometheus => {
                    let text = status_metrics::render(&observed, &rows, now);
                    outln!("{}", text.trim_end());
                }
            }
            // The metrics carry the states; a failing exit would stop the `> tmp && mv` that
            // publishes them, exactly when a secret is overdue (docs/monitoring.md).
            let attention = rows.iter().any(status::Row::needs_attention);
            i32::from(attention && format != StatusFormat::Prometheus)
        }
        Action::DryRun => {
            if observed.is_empty() {
                errln!("cronos-secrets: nothing to rotate (no selected secret is due)");
            }
            let mut stops: Vec<Problem> = Vec::new();
            for seen in &observed {
                let pending = backend
                    .rotation()
                    .map(|store| store.pending_location(&seen.reference));
                let rotation = select::rotation_of(seen.secret, &config.rotation);
                let system = match rotation {
                    Rotation::Password { system, .. } => Some(systems::describe(&config, system)),
                    _ => None,
                };
                let stop =
                    status::print_plan(seen, backend, pending, rotation, system.as_deref(), now);
                // One backend without a pending slot stops every secret the same way: said once.
                stops.extend(stop.filter(|stop| !stops.contains(stop)));
            }
            // Exits as the real run would, so that a CI gate on the dry run means something.
            if stops.is_empty() { 0 } else { refuse(stops) }
        }
        Action::Rotate | Action::Resume | Action::Abort | Action::Retire => {
            let run = Run {
                config: &config,
                backends: &backends,
                backend,
                fault,
                deadline,
            };
            run.change(&observed, request.action, &request.then, &env)
                .await?
        }
        Action::Setup { .. } => unreachable!("returned above"),
    };
    backends.finish().await;
    Ok(code)
}

pub use status::Row as StatusRow;

/// `rotate --status --all`'s rows from an already built `backend` (the configured one), for
/// `doctor`: each secret against its schedule, and any unfinished rotation.
pub async fn status_rows(
    config: &Config,
    backend: &dyn Backend,
) -> Result<Vec<StatusRow>, Problem> {
    let selected = select::select(&config.secrets, true, &[])?;
    let now = SystemTime::now();
    let source = backend.source();
    Ok(observe(&selected, backend, source)
        .await
        .iter()
        .map(|seen| status::row(seen, source, now))
        .collect())
}

/// Each secret's current version, its date and its pending slot: metadata only, no value is
/// read (`Backend::metadata`).
async fn observe<'a>(
    selected: &[&'a RequiredSecret],
    backend: &dyn Backend,
    source: Source,
) -> Vec<Observed<'a>> {
    let references: Vec<Reference> = selected
        .iter()
        .map(|secret| Reference::named_secret(&secret.name))
        .collect();
    let mut answers = if source.is_remote() {
        backend.metadata(&references).await
    } else {
        Default::default()
    };
    let mut observed = Vec::new();
    for (secret, reference) in selected.iter().zip(references) {
        let (metadata, mut problem) = match answers.remove(&reference) {
            Some(Ok(metadata)) => (metadata, None),
            Some(Err(error)) => (Default::default(), Some(error.message)),
            None => (Default::default(), None),
        };
        let mut pending = None;
        if let (Some(store), None) = (backend.rotation(), &problem) {
            match store.pending(&reference).await {
                Ok(slot) => pending = slot.map(|slot| slot.rotation_id),
                Err(error) => problem = Some(format!("pending slot: {}", error.message)),
            }
        }
        observed.push(Observed {
            secret,
            reference,
            version: metadata.version,
            schedule: Schedule {
                updated: metadata.updated,
                every: secret.rotate_every,
            },
            pending,
            problem,
        });
    }
    observed
}

/// What a rotate run changes with.
struct Run<'a> {
    config: &'a Config,
    backends: &'a Backends,
    backend: &'a dyn Backend,
    fault: Fault,
    deadline: tokio::time::Instant,
}

impl Run<'_> {
    /// Rotates, resumes or aborts each observed secret; refusals are decided for all of them
    /// before anything changes.
    async fn change(
        &self,
        observed: &[Observed<'_>],
        action: Action,
        then: &[OsString],
        env: &Environment,
    ) -> Result<i32, Error> {
        let backend = self.backend;
        let Some(store) = backend.rotation() else {
            return Ok(refuse(vec![select::no_pending_slot(backend.source())]));
        };
        let mut refused = Vec::new();
        let mut plans = Vec::new();
        for seen in observed {
            match select::rotation_of(seen.secret, &self.config.rotation) {
                Rotation::Key { length } => plans.push((length, None)),
                Rotation::Password { system, length } => plans.push((length, Some(system))),
                Rotation::Refused { why, hint }
                    if !matches!(action, Action::Abort | Action::Retire) =>
                {
                    refused.push(select::refusal(seen.secret, &why, hint));
                    plans.push((0, None));
                }
                Rotation::Refused { .. } => plans.push((0, None)),
            }
        }
        if !refused.is_empty() {
            return Ok(refuse(refused));
        }
        if observed.is_empty() {
            errln!("cronos-secrets: nothing to rotate (no selected secret is due)");
            return Ok(0);
        }
        let mut rotated = Vec::new();
        let mut failures = Vec::new();
        for (seen, (length, system)) in observed.iter().zip(plans) {
            let external: Option<Box<dyn ExternalSystem>> = match system {
                Some(system) if action != Action::Retire => {
                    match systems::build(system, self.config, self.backends, self.deadline).await {
                        Ok(built) => Some(built),
                        Err(problem) => {
                            failures.push(problem);
                            continue;
                        }
                    }
                }
                _ => None,
            };
            let pair = system.and_then(|system| systems::pair(self.config, system));
            let rotating = Rotating {
                secret: seen.secret,
                reference: seen.reference.clone(),
                backend,
                store,
                fault: self.fault,
                system: external.as_deref(),
                pair: pair.as_ref(),
            };
            let name = &seen.secret.name;
            if action == Action::Retire {
                match rotating.retire().await {
                    Ok(true) => errln!(
                        "cronos-secrets: retired the previous value of {name}: launches no longer get {}_PREVIOUS",
                        seen.secret.env
                    ),
                    Ok(false) => errln!("cronos-secrets: {name}: no previous value to retire"),
                    Err(problem) => failures.push(problem),
                }
                continue;
            }
            let outcome = match action {
                Action::Resume => rotating.resume().await,
                Action::Abort => rotating.abort().await,
                _ => rotating.rotate(length).await,
            };
            match outcome {
                Ok(Done::Rotated {
                    rotation_id,
                    version,
                }) => {
                    errln!(
                        "cronos-secrets: rotated {name} (rotation {rotation_id}, now version {})",
                        version.as_deref().unwrap_or("-")
                    );
                    rotated.push(name.clone());
                }
                Ok(Done::Aborted {
                    rotation_id,
                    promoted,
                }) => {
                    let rotation_id = crate::untrusted_text::escaped(&rotation_id);
                    if promoted {
                        errln!(
                            "cronos-secrets: aborted rotation {rotation_id} of {name}: its new value was promoted before the run stopped and stays current; only the pending slot is removed"
                        );
                    } else {
                        errln!(
                            "cronos-secrets: aborted rotation {rotation_id} of {name}: the pending slot is removed; the current value stays"
                        );
                    }
                }
                Ok(Done::NothingPending) => {
                    errln!("cronos-secrets: {name}: no pending rotation");
                }
                Err(problem) => failures.push(problem),
            }
        }
        logging::check_audit_written()?;
        let mut code = 0;
        if !rotated.is_empty() && !then.is_empty() {
            code = then::run(then, &rotated, env);
        }
        if !failures.is_empty() {
            code = refuse(failures);
        }
        Ok(code)
    }
}

/// Refusals exit 1, like failures of a step: non-zero, never 2 (usage errors).
pub(super) fn refuse(problems: Vec<Problem>) -> i32 {
    errln!("cronos-secrets: error: {}", Error::Problems(problems));
    1
}
