//! The precedence rules, on the plan itself (no launch, no fetch).

use std::ffi::OsString;

use super::*;
use crate::config;

/// The plan of `files` (name, text) in a fresh directory, with `env` as the environment.
fn plan_of(files: &[(&str, &str)], env: &[(&str, &str)], override_env: bool) -> Plan {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let env = Environment::from_vars(
        env.iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value))),
    );
    let config = config::load(None, &env).unwrap();
    let env_files = EnvFiles::Explicit(files.iter().map(|(name, _)| PathBuf::from(name)).collect());
    build(&PlanRequest {
        config: &config,
        env: &env,
        env_files: &env_files,
        override_env,
        working_dir: dir.path(),
        keep_launcher_env: false,
        resolve_inherited: true,
    })
    .unwrap()
}

fn text_of(plan: &Plan, name: &str) -> Option<String> {
    let var = plan.vars.iter().find(|var| var.name == name)?;
    let text = expand::text_only(&var.pieces)?;
    Some(String::from_utf8(text.expose().to_vec()).unwrap())
}

#[test]
fn the_environment_wins_over_env_files_unless_override() {
    let files = [("a.env", "A=from-file\n")];
    let env = [("A", "from-env")];
    // Not planned: the program keeps the environment's value as it is.
    assert_eq!(text_of(&plan_of(&files, &env, false), "A"), None);
    assert_eq!(
        text_of(&plan_of(&files, &env, true), "A").as_deref(),
        Some("from-file")
    );
}

#[test]
fn a_later_file_wins_and_a_key_line_passes_the_environment_through() {
    let files = [
        ("a.env", "A=first\nB=file-value\n"),
        ("b.env", "A=second\nB\n"),
    ];
    let plan = plan_of(&files, &[("B", "env-value")], true);
    assert_eq!(text_of(&plan, "A").as_deref(), Some("second"));
    assert_eq!(text_of(&plan, "B"), None, "B comes from the environment");
    assert_eq!(plan.inherited, ["B"]);
    assert_eq!(plan.env_file_keys, ["A", "B"]);
}

#[test]
fn an_alias_fills_the_canonical_name() {
    let plan = plan_of(&[("a.env", "JWT_SECRET=via-alias\n")], &[], false);
    let canonical = plan
        .vars
        .iter()
        .find(|var| var.name == "CRONOS_AI_JWT_SECRET")
        .unwrap();
    assert_eq!(canonical.alias_of.as_deref(), Some("JWT_SECRET"));
    assert!(canonical.secret.is_some());
    assert_eq!(
        text_of(&plan, "CRONOS_AI_JWT_SECRET").as_deref(),
        Some("via-alias")
    );
}

#[test]
fn a_self_reference_means_the_environment() {
    let files = [("a.env", "LEVEL=${LEVEL:-debug}\n")];
    assert_eq!(
        text_of(&plan_of(&files, &[], false), "LEVEL").as_deref(),
        Some("debug")
    );
    let overridden = plan_of(&files, &[("LEVEL", "warn")], true);
    assert_eq!(text_of(&overridden, "LEVEL").as_deref(), Some("warn"));
}
