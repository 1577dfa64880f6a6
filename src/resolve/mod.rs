//! Fetching every reference of a plan: deduplicated, grouped per backend, all backends at once,
//! within one overall deadline. A variable gets a value only when all of its references did.
//! Every value comes through `read`, the one audited read path (also `rotate`'s).

mod previous;
mod program_values;
mod read;

pub use program_values::as_the_program_gets;
pub use read::read;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use crate::backend::{
    Backends, BuildContext, FetchError, FetchErrorKind, Fetched, Metadata, Source, deadline_after,
};
use crate::config::Config;
use crate::env_vars::Environment;
use crate::expand::{self, Piece};
use crate::logging;
use crate::plan::{Plan, PlannedVar};
use crate::problem::Problem;
use crate::random;
use crate::reference::Reference;
use crate::secret::SecretString;

/// One reference read for a variable: for audit events and `check`.
#[derive(Debug, Clone)]
pub struct ReadRecord {
    pub reference: Reference,
    pub source: Source,
    pub location: String,
    pub metadata: Metadata,
    /// Reused from a watcher's earlier read of the same version: not read (nor audited) again.
    pub reused: bool,
}

#[derive(Debug)]
pub struct ResolvedVar {
    pub planned: PlannedVar,
    /// The joined value, or every reason it could not be built.
    pub value: Result<SecretString, Vec<Problem>>,
    pub reads: Vec<ReadRecord>,
    /// Some reference does not exist (as opposed to being unreadable), so the secret is
    /// "not configured" in the guide's words.
    pub not_found: bool,
}

/// A value resolved beside a plan's variables, in the same fetch batch: a template's
/// placeholder (so rendering costs no second round-trip to the backends), or the one
/// reference `get` and the library read.
#[derive(Debug, Clone)]
pub struct PlaceholderValue {
    /// Where the pieces were written (`app.yaml.tmpl:3:7`), to name in problems.
    pub location: String,
    pub pieces: Vec<Piece>,
}

#[derive(Debug)]
pub struct ResolvedPlaceholder {
    pub location: String,
    pub value: Result<SecretString, Vec<Problem>>,
    pub reads: Vec<ReadRecord>,
    /// Why the first failed reference failed: the library raises an error of that kind.
    pub failure: Option<FetchErrorKind>,
}

#[derive(Debug)]
pub struct Resolution {
    pub vars: Vec<ResolvedVar>,
    /// In the order of the extras asked for.
    pub extras: Vec<ResolvedPlaceholder>,
    /// Every reference answered, for a watcher to reuse while its version stays the same.
    pub fetched: Reuse,
}

/// Values a watcher (`run --watch`) already holds, of versions unchanged since it read them:
/// not fetched again. Empty for every one-shot command.
pub type Reuse = BTreeMap<Reference, Fetched>;

/// How a launch fetches.
#[derive(Debug, Clone, Copy)]
pub struct FetchOptions {
    /// The overall deadline, from the start of the fetch.
    pub timeout: Duration,
    /// A random delay up to this before the first request to a server.
    pub jitter: Option<Duration>,
    /// `run --keep-launcher-env`: references may read the launcher's credentials.
    pub keep_launcher_env: bool,
}

/// Fetches every distinct reference of the plan and the extras once, and builds each
/// variable's and each extra's value.
pub async fn resolve(
    plan: &Plan,
    extras: &[PlaceholderValue],
    config: &Config,
    env: &Environment,
    options: FetchOptions,
) -> Result<Resolution, Problem> {
    resolve_reusing(plan, extras, config, env, options, &Reuse::new()).await
}

/// [`resolve`], fetching only the references `reuse` has no value for.
pub async fn resolve_reusing(
    plan: &Plan,
    extras: &[PlaceholderValue],
    config: &Config,
    env: &Environment,
    options: FetchOptions,
    reuse: &Reuse,
) -> Result<Resolution, Problem> {
    resolve_on(None, plan, extras, config, env, options, reuse).await
}

/// [`resolve`] of extras on backends kept across calls (the library's manager): those in
/// `kept` serve as they are (their login, tokens and connection pool), a missing one is built
/// and added, and none is finished: they serve the next call too.
pub async fn resolve_kept(
    kept: &mut Backends,
    extras: &[PlaceholderValue],
    config: &Config,
    env: &Environment,
    options: FetchOptions,
) -> Result<Resolution, Problem> {
    let plan = Plan::default();
    resolve_on(
        Some(kept),
        &plan,
        extras,
        config,
        env,
        options,
        &Reuse::new(),
    )
    .await
}

/// The one resolution: on the `kept` backends, or on backends built for this call alone and
/// finished after its reads (`None`).
async fn resolve_on(
    kept: Option<&mut Backends>,
    plan: &Plan,
    extras: &[PlaceholderValue],
    config: &Config,
    env: &Environment,
    options: FetchOptions,
    reuse: &Reuse,
) -> Result<Resolution, Problem> {
    let FetchOptions {
        timeout,
        jitter,
        keep_launcher_env,
    } = options;
    let now = SystemTime::now();
    let extras = &program_values::as_the_program_gets(extras, plan, config);
    // First round: everything but the previous values whose slot costs a read of its own; a
    // watcher's values of unchanged versions are reused, not fetched.
    let mut groups = first_round(plan, extras, config);
    let mut reused = BTreeMap::new();
    for (&source, references) in groups.iter_mut() {
        references.retain(|reference| {
            let Some(fetched) = reuse.get(reference) else {
                return true;
            };
            let result = Ok(fetched.clone());
            reused.insert(
                reference.clone(),
                Answer {
                    source,
                    result,
                    reused: true,
                },
            );
            false
        });
    }
    groups.retain(|_, references| !references.is_empty());
    let sources: BTreeSet<Source> = groups.keys().copied().collect();
    // Before the deadline starts: the jitter spreads a rollout, it is not time to fetch.
    if let Some(max) = jitter
        && sources.iter().any(|source| source.is_remote())
    {
        tokio::time::sleep(random::duration_up_to(max)).await;
    }
    // One deadline for the whole launch: building the backends (logins, credential files,
    // region and credential lookups) spends from the same budget as the reads.
    let deadline = deadline_after(timeout);
    let context = BuildContext {
        config,
        env,
        deadline,
        keep_launcher_env,
    };
    let finish_after = kept.is_none();
    let mut own = Backends::default();
    let backends = kept.unwrap_or(&mut own);
    backends.add(&sources, &context).await?;
    let mut answers = read::fetch_all(backends, groups, timeout, deadline).await;
    answers.extend(reused);
    // Second round: the previous values the current reads show kept and within their grace;
    // none at all for a launch whose secrets were never rotated.
    // Each is read as the version its current read names, if it names one, and answers under
    // its own reference.
    let later: BTreeMap<Reference, Reference> = plan
        .vars
        .iter()
        .filter(|var| previous::read_later(var, config))
        .filter(|var| previous::wanted(var, plan, &answers, config, now))
        .flat_map(|var| {
            var.references().map(|reference| {
                (
                    reference.clone(),
                    previous::pinned(var, reference, plan, &answers),
                )
            })
        })
        .filter(|(reference, _)| !answers.contains_key(reference))
        .collect();
    if !later.is_empty() {
        let reads = by_source(later.values().cloned().collect(), config);
        // A watcher may have reused every current value of that backend: built only now.
        backends
            .add(&reads.keys().copied().collect(), &context)
            .await?;
        let mut more = read::fetch_all(backends, reads, timeout, deadline).await;
        for (reference, pinned) in later {
            if let Some(answer) = more.remove(&pinned) {
                answers.insert(reference, answer);
            }
        }
    }
    // Bounded by each backend (Vault gives revocation what is left, at least a moment).
    if finish_after {
        backends.finish().await;
    }
    let vars = plan
        .vars
        .iter()
        .filter(|planned| previous::wanted(planned, plan, &answers, config, now))
        .map(|planned| {
            let joined = join(&planned.name, &planned.pieces, &answers, backends);
            ResolvedVar {
                planned: planned.clone(),
                value: joined.value,
                reads: joined.reads,
                not_found: joined.not_found,
            }
        })
        .collect();
    let extras = extras
        .iter()
        .map(|extra| {
            let joined = join(&extra.location, &extra.pieces, &answers, backends);
            ResolvedPlaceholder {
                location: extra.location.clone(),
                value: joined.value,
                reads: joined.reads,
                failure: joined.failure,
            }
        })
        .collect();
    let vars = previous::without_absent(vars, config);
    let fetched = answers
        .iter()
        .filter_map(|(reference, answer)| {
            Some((reference.clone(), answer.result.as_ref().ok()?.clone()))
        })
        .collect();
    let resolution = Resolution {
        vars,
        extras,
        fetched,
    };
    audit(&resolution)?;
    Ok(resolution)
}

/// Every distinct reference of the plan and the extras that a launch reads in its first round,
/// grouped by the backend that serves it: what a launch fetches first, and what the watcher
/// (`run --watch`) polls. Previous values read in a second round follow their current
/// value's version, so they are not polled themselves.
pub fn references_by_source(
    plan: &Plan,
    extras: &[PlaceholderValue],
    config: &Config,
) -> BTreeMap<Source, Vec<Reference>> {
    let extras = program_values::as_the_program_gets(extras, plan, config);
    first_round(plan, &extras, config)
}

/// [`references_by_source`] of extras already read as the program gets them.
fn first_round(
    plan: &Plan,
    extras: &[PlaceholderValue],
    config: &Config,
) -> BTreeMap<Source, Vec<Reference>> {
    let references: BTreeSet<Reference> = plan
        .vars
        .iter()
        .filter(|var| !previous::read_later(var, config))
        .flat_map(PlannedVar::references)
        .chain(
            extras
                .iter()
                .flat_map(|extra| expand::references(&extra.pieces)),
        )
        .cloned()
        .collect();
    by_source(references, config)
}

/// References grouped by the backend that serves them.
pub fn by_source(
    references: BTreeSet<Reference>,
    config: &Config,
) -> BTreeMap<Source, Vec<Reference>> {
    let mut groups: BTreeMap<Source, Vec<Reference>> = BTreeMap::new();
    for reference in references {
        groups
            .entry(Source::of(&reference, config.backend))
            .or_default()
            .push(reference);
    }
    groups
}

/// One audit event per secret read (never the value), for every command and the library
/// alike; nothing may use a value whose read was not recorded.
fn audit(resolution: &Resolution) -> Result<(), Problem> {
    let var_reads = resolution
        .vars
        .iter()
        .flat_map(|var| var.reads.iter().map(|read| (&var.planned.name, read)));
    let extra_reads = resolution
        .extras
        .iter()
        .flat_map(|extra| extra.reads.iter().map(|read| (&extra.location, read)));
    for (variable, read) in var_reads
        .chain(extra_reads)
        .filter(|(_, read)| !read.reused)
    {
        read::audit_event(variable, read);
    }
    logging::check_audit_written()
}

struct Answer {
    source: Source,
    result: Result<Fetched, FetchError>,
    reused: bool,
}

struct Joined {
    value: Result<SecretString, Vec<Problem>>,
    reads: Vec<ReadRecord>,
    not_found: bool,
    failure: Option<FetchErrorKind>,
}

/// Joins text and fetched values; `label` (a variable, a template location) names problems.
fn join(
    label: &str,
    pieces: &[Piece],
    answers: &BTreeMap<Reference, Answer>,
    backends: &Backends,
) -> Joined {
    let mut value = SecretString::default();
    let mut problems = Vec::new();
    let mut reads = Vec::new();
    let mut not_found = false;
    let mut failure = None;
    for piece in pieces {
        match piece {
            Piece::Text(text) => value.push_bytes(text.expose()),
            Piece::Ref(reference) => match answers.get(reference) {
                Some(Answer {
                    source,
                    result: Ok(fetched),
                    reused,
                }) => {
                    value.push_bytes(fetched.value.expose());
                    let location = backends
                        .get(*source)
                        .map(|backend| backend.location(reference))
                        .unwrap_or_else(|| reference.to_string());
                    reads.push(ReadRecord {
                        reference: reference.clone(),
                        source: *source,
                        location,
                        metadata: fetched.metadata.clone(),
                        reused: *reused,
                    });
                }
                Some(Answer {
                    result: Err(error), ..
                }) => {
                    not_found |= error.kind == FetchErrorKind::NotFound;
                    failure = failure.or(Some(error.kind));
                    // A reference read alone (`get`) is its own label: not said twice.
                    let message = error
                        .message
                        .strip_prefix(label)
                        .and_then(|rest| rest.strip_prefix(": "))
                        .unwrap_or(&error.message);
                    problems
                        .push(Problem::new(label, message).with_optional_hint(error.hint.clone()));
                }
                None => problems.push(Problem::new(label, format!("{reference} was not fetched"))),
            },
        }
    }
    Joined {
        value: if problems.is_empty() {
            Ok(value)
        } else {
            Err(problems)
        },
        reads,
        not_found,
        failure,
    }
}
