//! The fault-injection seam of the crash tests: `CRONOS_SECRETS_ROTATE_FAULT=sigkill-after:STEP`
//! makes `rotate` kill itself with SIGKILL right after STEP, as `kill -9` would. Only `rotate`
//! reads the variable; it must name the action and a known step exactly, anything else is
//! refused before any change, and a set variable is announced on stderr, so it cannot act by
//! accident. (Like every CRONOS_SECRETS_* variable it never reaches a launched program.)

use super::step::Step;
use crate::env_vars::{Environment, ROTATE_FAULT};
use crate::problem::Problem;
use crate::stderr::errln;

const ACTION: &str = "sigkill-after:";

#[derive(Debug, Clone, Copy, Default)]
pub struct Fault {
    kill_after: Option<Step>,
}

impl Fault {
    pub fn from_env(env: &Environment) -> Result<Fault, Problem> {
        let Some(text) = env.get(ROTATE_FAULT) else {
            return Ok(Fault::default());
        };
        let step = text
            .to_str()
            .and_then(|text| text.strip_prefix(ACTION))
            .and_then(Step::parse)
            .ok_or_else(|| {
                Problem::new(ROTATE_FAULT, "is not a fault this build can inject").with_hint(
                    format!(
                        "unset it; it is for crash tests only: {ACTION}STEP with STEP one of {}",
                        Step::ALL.map(Step::as_str).join(", ")
                    ),
                )
            })?;
        errln!(
            "cronos-secrets: warning: {ROTATE_FAULT} is set: this process will kill itself (SIGKILL) after the {} step",
            step.as_str()
        );
        Ok(Fault {
            kill_after: Some(step),
        })
    }

    /// Called after each step: dies here when asked to.
    pub fn after(&self, step: Step) {
        if self.kill_after == Some(step) {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;

    fn env(value: &str) -> Environment {
        Environment::from_vars([(OsString::from(ROTATE_FAULT), OsString::from(value))])
    }

    #[test]
    fn only_the_exact_form_arms_the_seam() {
        assert_eq!(Fault::default().kill_after, None);
        let armed = Fault::from_env(&env("sigkill-after:promote")).unwrap();
        assert_eq!(armed.kill_after, Some(Step::Promote));
        for wrong in [
            "1",
            "yes",
            "promote",
            "sigkill-after:",
            "sigkill-after:commit",
        ] {
            assert!(Fault::from_env(&env(wrong)).is_err(), "{wrong}");
        }
        let unset = Fault::from_env(&Environment::default()).unwrap();
        assert_eq!(unset.kill_after, None);
    }
}
