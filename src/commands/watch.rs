//! `run --watch` and `render --watch`: the commands' side of `supervise`, which is how a set
//! of values becomes files and an environment.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::CommandFactory;

use crate::cli::{Cli, RenderArgs, RunArgs, WatchTimingArgs};
use crate::env_vars::Environment;
use crate::error::Error;
use crate::exec::{self, ChildEnvOptions};
use crate::launch::{LaunchSettings, Prepared, Ready};
use crate::output::{self, PRIVATE_MODE};
use crate::problem::Problem;
use crate::secret::SecretString;
use crate::supervise::{self, Action, Delivery, OnChange, Program, Supervision, Timing};
use crate::template::{self, Template};

/// `run --watch`: the program as a supervised child.
pub fn run(
    settings: &LaunchSettings,
    prepared: Prepared,
    args: RunArgs,
    templates: Vec<Template>,
    options: ChildEnvOptions,
) -> Result<i32, Error> {
    let watch = &args.watch;
    if matches!(watch.on_change, OnChange::Signal(_)) && args.render.is_empty() {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--on-change signal:SIG needs --render: a running program cannot receive new environment variables, only reread files; use --on-change restart for programs that read only their environment",
            )
            .exit();
    }
    let (name, program_args) = args
        .command
        .split_first()
        .expect("clap requires at least the program");
    let supervision = Supervision {
        timing: timing(&watch.timing),
        program: Some(Program {
            name: name.clone(),
            args: program_args.to_vec(),
            stop_signal: watch.stop_signal,
            stop_timeout: watch.stop_timeout,
            max_restarts: watch.max_restarts,
            restart_window: watch.restart_window,
        }),
        actions: vec![Action::OnChange(watch.on_change.clone())],
        ready_file: None,
        metrics_file: watch.metrics.metrics_file.clone(),
    };
    let extras = template::extras_of(&templates);
    let delivery = RunDelivery {
        env: prepared.env.clone(),
        inherited: prepared.plan.inherited.clone(),
        options,
        templates,
        destinations: args.render.iter().map(|(_, to)| to.clone()).collect(),
    };
    supervise::supervise(prepared, settings.clone(), extras, supervision, &delivery)
}

/// `render --watch`: the sidecar that keeps `--output` current.
pub fn render(
    settings: &LaunchSettings,
    prepared: Prepared,
    args: &RenderArgs,
    template: Template,
) -> Result<i32, Error> {
    let watch = &args.watch;
    let output = args
        .output
        .clone()
        .filter(|output| !output::is_stdout(output))
        .ok_or_else(|| {
            Problem::new(
                "--output",
                "render --watch keeps a file current, not stdout",
            )
            .with_hint("give the file with -o FILE")
        })?;
    let mut actions = Vec::new();
    if let Some(file) = &watch.signal_pidfile {
        actions.push(Action::SignalPidfile {
            file: file.clone(),
            signal: watch.signal,
        });
    }
    if let Some(command) = &watch.exec {
        let command =
            supervise::parse_command(command).map_err(|message| Problem::new("--exec", message))?;
        actions.push(Action::OnChange(OnChange::Exec(command)));
    }
    let supervision = Supervision {
        timing: timing(&watch.timing),
        program: None,
        actions,
        ready_file: watch.ready_file.clone(),
        metrics_file: watch.metrics.metrics_file.clone(),
    };
    let extras = template::extras_of(std::slice::from_ref(&template));
    let delivery = RenderDelivery {
        env: prepared.env.clone(),
        template,
        output,
        mode: args.mode,
    };
    supervise::supervise(prepared, settings.clone(), extras, supervision, &delivery)
}

fn timing(args: &WatchTimingArgs) -> Timing {
    Timing {
        interval: args.interval,
        debounce: args.debounce,
        splay: args.splay,
    }
}

struct RunDelivery {
    env: Environment,
    inherited: Vec<String>,
    options: ChildEnvOptions,
    templates: Vec<Template>,
    destinations: Vec<PathBuf>,
}

impl Delivery for RunDelivery {
    fn write_files(&self, ready: &Ready) -> Result<(), Problem> {
        if self.templates.is_empty() {
            return Ok(());
        }
        let rendered = template::render_all(&self.templates, ready.extras.clone());
        let files = self
            .destinations
            .iter()
            .zip(&rendered)
            .map(|(destination, contents)| (destination.as_path(), contents.expose()));
        Ok(output::write_all_or_nothing(files, PRIVATE_MODE)?)
    }

    fn environment(&self, ready: &Ready) -> Vec<(OsString, SecretString)> {
        exec::child_environment(&self.env, &ready.values, &self.inherited, self.options)
    }
}

struct RenderDelivery {
    env: Environment,
    template: Template,
    output: PathBuf,
    mode: u32,
}

impl Delivery for RenderDelivery {
    fn write_files(&self, ready: &Ready) -> Result<(), Problem> {
        let rendered =
            template::render_all(std::slice::from_ref(&self.template), ready.extras.clone())
                .remove(0);
        output::write_to(Some(&self.output), rendered.expose(), self.mode)
    }

    /// The hook's: the launcher's environment without its credentials, and no secret (the
    /// file holds them).
    fn environment(&self, _ready: &Ready) -> Vec<(OsString, SecretString)> {
        exec::child_environment(&self.env, &[], &[], ChildEnvOptions::default())
    }
}
