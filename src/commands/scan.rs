//! `scan`: flags → options, the project's declared secrets (and with --live their current
//! values), then the report. Exit 0 clean, 1 findings, 2 usage.

use crate::bounded;
use crate::cli::{ScanArgs, ScanFormat};
use crate::config;
use crate::env_vars::Environment;
use crate::error::Error;
use crate::launch::{self, LaunchSettings};
use crate::problem::Problem;
use crate::scan::keys::Declared;
use crate::scan::live::{LiveValues, MIN_LIVE_LENGTH};
use crate::scan::report::{self, Format};
use crate::scan::{self, Baseline, Rules, ScanOptions, Selection, Skip};
use crate::schema;
use crate::stderr::errln;
use crate::stdout;
use crate::untrusted_text::escaped;

pub fn scan(settings: &LaunchSettings, env: Environment, args: &ScanArgs) -> Result<i32, Error> {
    let cwd = super::working_dir()?;
    let selection = if args.staged {
        Selection::Staged {
            only: args.paths.clone(),
        }
    } else if args.paths.is_empty() {
        Selection::Tracked
    } else {
        Selection::Paths(args.paths.clone())
    };
    let options = ScanOptions {
        selection,
        max_file_bytes: args.max_file_size,
        baseline: args.baseline.clone(),
        apply_baseline: !args.update_baseline,
    };
    let rules = match rules(settings, env, args.live) {
        Ok(rules) => rules,
        Err(error) => return Ok(usage(error)),
    };
    let outcome = match scan::scan(&options, &rules, &cwd) {
        Ok(outcome) => outcome,
        Err(problem) => return Ok(usage(problem.into())),
    };
    for (path, skip) in &outcome.skipped {
        let why = match skip {
            Skip::TooLarge(bytes) => format!("larger than --max-file-size ({bytes} bytes)"),
            Skip::Binary => "binary (a NUL byte in its first 8 KiB)".to_string(),
            Skip::NotAFile => "not a regular file".to_string(),
        };
        tracing::info!("{}: not scanned: {why}", escaped(path));
    }
    for (path, reason) in &outcome.excluded {
        tracing::info!("{}: not scanned: {reason}", escaped(path));
    }
    for example in &outcome.examples {
        tracing::info!(
            "{}:{}:{}: skipped: {}, published as an example, not a secret",
            escaped(&example.path),
            example.line,
            example.column,
            example.what
        );
    }
    if args.update_baseline {
        // A file that could not be read would be missing from the baseline.
        if !outcome.unreadable.is_empty() {
            report_unreadable(&outcome.unreadable);
            return Ok(2);
        }
        if let Err(problem) = Baseline::write(&outcome.baseline_path, &outcome.all) {
            return Ok(usage(problem.into()));
        }
        errln!(
            "cronos-secrets scan: wrote {} accepted finding(s) to {}",
            outcome.all.len(),
            outcome.baseline_path.display()
        );
        return Ok(0);
    }
    let format = match args.format {
        ScanFormat::Text => Format::Text,
        ScanFormat::Json => Format::Json,
        ScanFormat::Sarif => Format::Sarif,
    };
    let mut report = Vec::new();
    report::write(format, &outcome.findings, &mut report)
        .map_err(|error| Problem::new("scan", format!("cannot format the report: {error}")))?;
    stdout::write(&report)?;
    summarize(&outcome, args.max_file_size);
    if !outcome.unreadable.is_empty() {
        report_unreadable(&outcome.unreadable);
        return Ok(2);
    }

    Ok(if outcome.findings.is_empty() { 0 } else { 1 })
}

/// A secret scanner fails closed: a file it meant to read and could not is an error.
fn report_unreadable(unreadable: &[(String, String)]) {
    for (path, why) in unreadable {
        // A file name is the repository's text: escaped, so that it cannot forge our lines.
        errln!(
            "cronos-secrets: error: {}: cannot read it: {why}",
            escaped(path)
        );
    }
    errln!(
        "  hint: make the file(s) readable by this user and scan again; an unread file is never passed as clean"
    );
}

/// `; 3 skipped: 1 binary, 1 over 2 MiB, 1 not a regular file (-v names them)`, or nothing.
fn skipped_summary(skipped: &[(String, Skip)], max_file_bytes: u64) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let count = |wanted: fn(&Skip) -> bool| skipped.iter().filter(|(_, skip)| wanted(skip)).count();
    let kinds = [
        (count(|skip| *skip == Skip::Binary), "binary".to_string()),
        (
            count(|skip| matches!(skip, Skip::TooLarge(_))),
            format!("over {}", bounded::human_size(max_file_bytes)),
        ),
        (
            count(|skip| *skip == Skip::NotAFile),
            "not a regular file".to_string(),
        ),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
    format!(
        "; {} skipped: {} (-v names them)",
        skipped.len(),
        parts.join(", ")
    )
}

fn summarize(outcome: &scan::Outcome, max_file_bytes: u64) {
    let accepted = outcome.all.len() - outcome.findings.len();
    let accepted = if accepted > 0 {
        format!(
            ", {accepted} accepted by {}",
            outcome.baseline_path.display()
        )
    } else {
        String::new()
    };
    let skipped = skipped_summary(&outcome.skipped, max_file_bytes);
    let unreadable = match outcome.unreadable.len() {
        0 => String::new(),
        count => format!("; {count} could not be read"),
    };
    let scanned = outcome.files - outcome.skipped.len() - outcome.unreadable.len();
    let accepted = if outcome.excluded.is_empty() {
        accepted
    } else {
        format!(
            "{accepted}, {} excluded by {}",
            outcome.excluded.len(),
            scan::exclude::IGNORE_FILE
        )
    };
    let files_with: std::collections::BTreeSet<&str> =
        outcome.findings.iter().map(|f| f.path.as_str()).collect();
    if outcome.findings.is_empty() {
        errln!(
            "cronos-secrets scan: no literal secret in {scanned} file(s){skipped}{unreadable}{accepted}"
        );
    } else {
        errln!(
            "cronos-secrets scan: {} finding(s) in {} of {scanned} file(s){skipped}{unreadable}{accepted}\n  hint: replace each value with a reference (secret://NAME, vault://…, aws-sm://…) or a ${{VAR}} placeholder, and rotate any secret that was ever pushed; allow a line with `# cronos-secrets: allow`, or accept the current findings with `cronos-secrets scan --update-baseline`",
            outcome.findings.len(),
            files_with.len(),
        );
    }
}

/// The declared secrets from the config (or the built-in table), and with `live` the values
/// the launch resolves now.
fn rules(settings: &LaunchSettings, env: Environment, live: bool) -> Result<Rules, Error> {
    if !live {
        let path = config::locate(settings.config_path.as_deref(), &env);
        let secrets = match config::load(path.as_deref(), &env) {
            Ok(config) => config.secrets,
            // A broken config must not stop the hook that guards every commit: the built-in
            // table still applies, and `check` reports the config's problem.
            Err(problem) if settings.config_path.is_none() => {
                tracing::warn!(
                    "{problem}\n  scanning with the built-in required-secrets table instead"
                );
                schema::cronos_ai_defaults()
            }
            Err(problem) => return Err(problem.into()),
        };
        return Ok(Rules {
            declared: Declared::new(&secrets),
            live: LiveValues::default(),
        });
    }
    let prepared = launch::prepare(settings, env, &super::working_dir()?)?;
    let outcome = launch::resolve_and_validate(&prepared, settings)?;
    let declared = Declared::new(&prepared.config.secrets);
    let mut values = LiveValues::default();
    for var in outcome.resolved {
        let is_secret = var.planned.secret.is_some()
            || var.planned.references().next().is_some()
            || declared.get(&var.planned.name).is_some();
        if !is_secret {
            continue;
        }
        let name = var.planned.name.clone();
        match var.value {
            Ok(value) => {
                if !values.add(&name, value) {
                    tracing::warn!(
                        "{name}: shorter than {MIN_LIVE_LENGTH} characters, not compared with files"
                    );
                }
            }
            Err(_) => {
                tracing::warn!("{name}: did not resolve, so its current value was not compared")
            }
        }
    }
    Ok(Rules {
        declared,
        live: values,
    })
}

/// Usage problems (not a git work tree, a missing PATH, a broken baseline or config) exit 2.
fn usage(error: Error) -> i32 {
    errln!("cronos-secrets: error: {error}");
    2
}
