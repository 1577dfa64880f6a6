//! What one purpose does with which secret of one backend: the facts every policy format is
//! written from. Secrets are named by the backend's own layout ([`Layout::resource`]), the
//! parse its reads use, so a policy grants exactly the paths, ids and names read.
//!
//! [`Layout::resource`]: crate::backend::Layout::resource

use std::collections::{BTreeMap, BTreeSet};

use super::Purpose;
use crate::backend::{Resource, Source};
use crate::config::Config;
use crate::expand;
use crate::plan::Plan;
use crate::problem::Problem;
use crate::reference::{Reference, Scheme};
use crate::resolve::PlaceholderValue;

/// One kind of request, named after the backend call that makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Use {
    /// The value of a version (current, pinned or previous): every launch.
    Fetch,
    /// The current version's id without the value: the watcher's poll.
    Versions,
    /// Versions and their dates without the values: `rotate --status`, backups.
    Metadata,
    /// Reading whether a rotation is unfinished: `rotate --status` looks at every secret.
    PendingStatus,
    /// A new current version written over the one a rotation started from (promote,
    /// `--retire`), and the previous value kept.
    Rotate,
    /// The pending slot, created, read and removed by each rotation.
    Pending,
}

/// What a purpose needs of one secret, and who in the deployment needs it (for comments).
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub uses: BTreeSet<Use>,
    /// Variables, template placeholders or rotated names that lead here.
    pub needed_by: BTreeSet<String>,
}

/// The secrets of one backend a purpose touches.
#[derive(Debug, Default)]
pub struct Grants {
    pub resources: BTreeMap<Resource, Access>,
    /// Other secrets managers the same deployment reads from, with the references read
    /// there: their policies are printed by `--backend`.
    pub elsewhere: BTreeMap<Source, BTreeSet<Reference>>,
}

impl Grants {
    pub fn any(&self, wanted: Use) -> bool {
        self.resources
            .values()
            .any(|access| access.uses.contains(&wanted))
    }
}

/// What a deployment reads: its config, launch plan and templates.
pub struct Deployment<'a> {
    pub config: &'a Config,
    pub plan: &'a Plan,
    pub templates: &'a [PlaceholderValue],
}

/// The grants of `purpose` in backend `source`; a reference the backend cannot name (a bad
/// path, an unknown vault) is a problem, as it would be for the read.
pub fn collect(
    deployment: &Deployment,
    purpose: Purpose,
    source: Source,
) -> Result<Grants, Vec<Problem>> {
    let mut collector = Collector {
        config: deployment.config,
        source,
        grants: Grants::default(),
        problems: Vec::new(),
    };
    match purpose {
        Purpose::Rotate => collector.rotations(),
        Purpose::Run | Purpose::Watch | Purpose::Backup => {
            let uses: &[Use] = match purpose {
                Purpose::Run => &[Use::Fetch],
                Purpose::Watch => &[Use::Fetch, Use::Versions],
                _ => &[Use::Fetch, Use::Metadata],
            };
            collector.launch_reads(deployment, uses, purpose == Purpose::Backup);
        }
    }
    if collector.problems.is_empty() {
        Ok(collector.grants)
    } else {
        Err(collector.problems)
    }
}

struct Collector<'a> {
    config: &'a Config,
    source: Source,
    grants: Grants,
    problems: Vec<Problem>,
}

impl Collector<'_> {
    /// Every reference of the plan (previous values included: launches read them once a
    /// rotation kept one) and of the templates. A backup also takes each named secret's
    /// previous value, whether or not launches get it.
    fn launch_reads(&mut self, deployment: &Deployment, uses: &[Use], with_previous: bool) {
        let variables = deployment.plan.vars.iter().flat_map(|var| {
            var.references()
                .map(move |reference| (reference.clone(), var.name.clone()))
        });
        let placeholders = deployment.templates.iter().flat_map(|extra| {
            expand::references(&extra.pieces)
                .map(move |reference| (reference.clone(), extra.location.clone()))
        });
        let read: Vec<(Reference, String)> = variables.chain(placeholders).collect();
        for (reference, needed_by) in &read {
            // A backup keeps no dynamic credentials: each read would make new ones.
            if with_previous && reference.scheme == Scheme::VaultDynamic {
                continue;
            }
            self.grant(reference, needed_by, uses);
            // `secret://NAME` of this backend: its layout says where NAME's previous value is.
            if with_previous
                && reference.scheme == Scheme::Secret
                && Source::of(reference, self.config.backend) == self.source
                && let Some(previous) = self.layout().previous_reference(&reference.target)
            {
                self.grant(&previous, needed_by, uses);
            }
        }
    }

    /// `rotate --all` in this backend: every table secret's metadata and pending slot; the
    /// secrets this config lets rotate are written, with their pending and previous slots; the
    /// systems' admin passwords are read.
    fn rotations(&mut self) {
        let (secrets, admin_passwords) = crate::rotate::reach(self.config);
        for (secret, rotatable) in secrets {
            let reference = Reference::named_secret(&secret.name);
            let needed_by = format!("rotate {}", secret.name);
            let pending = self.layout().pending_reference(&secret.name);
            if rotatable {
                self.grant(
                    &reference,
                    &needed_by,
                    &[Use::Metadata, Use::Fetch, Use::Rotate],
                );
                if let Some(previous) = self.layout().previous_reference(&secret.name) {
                    self.grant(&previous, &needed_by, &[Use::Rotate]);
                }
            } else {
                self.grant(&reference, &needed_by, &[Use::Metadata]);
            }
            let pending_use = if rotatable {
                Use::Pending
            } else {
                Use::PendingStatus
            };
            match pending {
                Some(pending) => self.grant(&pending, &needed_by, &[pending_use]),
                // The pending slot is a version of the secret itself.
                None => self.grant(&reference, &needed_by, &[pending_use]),
            }
        }
        for reference in admin_passwords {
            let needed_by = "rotate: a system's admin password".to_string();
            self.grant(&reference, &needed_by, &[Use::Fetch]);
        }
    }

    fn layout(&self) -> &'static dyn crate::backend::Layout {
        self.source.layout()
    }

    fn grant(&mut self, reference: &Reference, needed_by: &str, uses: &[Use]) {
        let source = Source::of(reference, self.config.backend);
        if !source.is_remote() {
            return;
        }
        if source != self.source {
            let elsewhere = self.grants.elsewhere.entry(source).or_default();
            elsewhere.insert(reference.clone());
            return;
        }
        match source.layout().resource(reference, self.config) {
            Ok(Some(resource)) => {
                let access = self.grants.resources.entry(resource).or_default();
                access.uses.extend(uses);
                access.needed_by.insert(needed_by.to_string());
            }
            Ok(None) => {}
            Err(error) => self
                .problems
                .push(Problem::new(needed_by, error.message).with_optional_hint(error.hint)),
        }
    }
}
