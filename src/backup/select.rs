//! What a deployment uses, and so what a backup holds: the required-secrets table (each secret
//! as `secret://NAME`, read where a launch reads it), and every reference to a secret store in
//! the env files, the environment and the templates given. `env://` and `file://` references
//! and literal values are left out: they live in the environment and the files, which are
//! backed up with them, and no secret store could take them back.

use std::collections::BTreeSet;

use crate::backend::Source;
use crate::config::{BackendKind, Config};
use crate::expand;
use crate::plan::{Origin, Plan};
use crate::reference::{Reference, Scheme};
use crate::resolve::PlaceholderValue;

/// One secret to read into the backup.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// The table's name, or the reference as written.
    pub name: String,
    pub reference: Reference,
    /// An optional table secret: left out when the backend does not have it.
    pub optional: bool,
    /// A table secret whose previous value (`rotate`'s) is read too when it is kept.
    pub keeps_previous: bool,
}

/// Every secret the launch `plan` of `config`, and the `templates`' placeholders, use; each
/// reference once, the table's first.
pub fn wanted(config: &Config, plan: &Plan, templates: &[PlaceholderValue]) -> Vec<Wanted> {
    let mut wanted = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |wanted_one: Wanted, wanted: &mut Vec<Wanted>| {
        if seen.insert(wanted_one.reference.clone()) {
            wanted.push(wanted_one);
        }
    };
    for (index, secret) in config.secrets.iter().enumerate() {
        let var = plan.vars.iter().find(|var| var.secret == Some(index));
        let by_name = match var {
            // The env backend: what the program gets, from wherever the plan takes it.
            Some(_) if config.backend == BackendKind::Env => true,
            Some(var) => var.origin == Origin::Backend,
            None => !secret.optional,
        };
        if by_name {
            let one = Wanted {
                name: secret.name.clone(),
                reference: Reference::named_secret(&secret.name),
                optional: secret.optional,
                keeps_previous: config.backend != BackendKind::Env,
            };
            add(one, &mut wanted);
        }
    }
    // Previous values come with their secret; on the env backend a table secret's references
    // were read above, as its value.
    let read_as_written = plan
        .vars
        .iter()
        .filter(|var| var.previous_of.is_none())
        .filter(|var| !(config.backend == BackendKind::Env && var.secret.is_some()));
    let references = read_as_written.flat_map(|var| var.references()).chain(
        templates
            .iter()
            .flat_map(|extra| expand::references(&extra.pieces)),
    );
    for reference in references {
        if !Source::of(reference, config.backend).is_remote() {
            continue;
        }
        add(
            Wanted {
                name: name_of(reference),
                reference: reference.clone(),
                optional: false,
                keeps_previous: false,
            },
            &mut wanted,
        );
    }
    wanted
}

/// `secret://NAME` is named NAME; any other reference by itself.
fn name_of(reference: &Reference) -> String {
    if reference.scheme == Scheme::Secret && reference.key.is_none() && reference.params.is_empty()
    {
        reference.target.clone()
    } else {
        reference.to_string()
    }
}
