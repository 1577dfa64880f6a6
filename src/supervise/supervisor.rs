//! The main loop: signals, the watcher's sets, reaping, stop timeouts and the restart budget,
//! all from one `poll` on the signalfd and the watcher's wake-up socket.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::Instant;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::budget::Budget;
use super::child::Role;
use super::lease_keeper::{LeaseKeeper, ReleaseOnExit};
use super::metrics::Metrics;
use super::watcher::{Event, Watcher};
use super::{Action, Delivery, OnChange, Supervision, child, pidfile, signals};
use crate::error::Error;
use crate::launch::{LaunchSettings, Prepared, Ready};
use crate::output;
use crate::problem::Problem;
use crate::resolve::PlaceholderValue;

/// Runs until the program exits (its status is returned), or for the sidecar until SIGTERM,
/// SIGINT or SIGQUIT (0). The first set failing to resolve is an error, as in a one-shot launch.
pub fn supervise(
    mut prepared: Prepared,
    settings: LaunchSettings,
    extras: Vec<PlaceholderValue>,
    supervision: Supervision,
    delivery: &dyn Delivery,
) -> Result<i32, Error> {
    let signals = signals::take_over()?;
    child::become_subreaper();
    // Each poll and each resolution logs in afresh: the token it obtained must not outlive it.
    prepared.config.vault.revoke_token = true;
    let (mut wake, wake_sender) = UnixStream::pair()
        .and_then(|(read, write)| read.set_nonblocking(true).map(|()| (read, write)))
        .map_err(|error| Problem::new("watch", format!("cannot create a socket pair: {error}")))?;
    let metrics = Metrics::start(
        supervision.metrics_file.as_deref(),
        prepared.config.backend,
        supervision.timing.interval,
        supervision.program.is_some(),
    )?;
    let (events_sender, events) = mpsc::channel();
    let leases = LeaseKeeper::shared(&prepared, &settings);
    // Dropped on every return: the leases of dynamic secrets end with the launcher.
    let _release = ReleaseOnExit(Arc::clone(&leases));
    let watcher = Watcher {
        leases,
        prepared,
        settings,
        extras,
        timing: supervision.timing,
        events: events_sender,
        wake: wake_sender,
        metrics: metrics.clone(),
    };
    std::thread::Builder::new()
        .name("watcher".into())
        .spawn(move || watcher.run())
        .map_err(|error| Problem::new("watch", format!("cannot start the watcher: {error}")))?;
    let budget = supervision
        .program
        .as_ref()
        .map(|program| Budget::new(program.max_restarts, program.restart_window));
    let mut state = State {
        supervision,
        delivery,
        budget,
        child: None,
        started: false,
        stop_deadline: None,
        restart_with: None,
        held: None,
        exiting: false,
        hooks: Vec::new(),
        metrics,
    };
    loop {
        signals::wait(&signals, &wake, state.next_deadline());
        while let Ok(Some(info)) = signals.read_signal() {
            let Ok(signal) = Signal::try_from(info.ssi_signo as i32) else {
                continue;
            };
            if let Some(status) = state.on_signal(signal) {
                return Ok(status);
            }
        }
        let mut drained = [0u8; 64];
        while matches!(wake.read(&mut drained), Ok(read) if read > 0) {}
        if let Some(result) = state.on_events(&events) {
            return result;
        }
        if let Some(status) = state.reap()? {
            return Ok(status);
        }
        state.on_time();
    }
}

struct State<'a> {
    supervision: Supervision,
    delivery: &'a dyn Delivery,
    budget: Option<Budget>,
    /// The program's pid, which is also its process group.
    child: Option<Pid>,
    /// The first set was delivered.
    started: bool,
    /// A stop for a restart is under way: SIGKILL at this time.
    stop_deadline: Option<Instant>,
    /// The environment the program restarts with once the old one has exited.
    restart_with: Option<Vec<(OsString, crate::secret::SecretString)>>,
    /// A set waiting for the restart budget, and when it may be applied.
    held: Option<(Box<Ready>, Instant)>,
    /// A terminating signal arrived: when the program exits, so do we.
    exiting: bool,
    hooks: Vec<Pid>,
    metrics: Metrics,
}

impl State<'_> {
    fn next_deadline(&self) -> Option<Instant> {
        [self.stop_deadline, self.held.as_ref().map(|(_, at)| *at)]
            .into_iter()
            .flatten()
            .min()
    }

    /// Forwards the signal; returns an exit status when the launcher should end now.
    fn on_signal(&mut self, signal: Signal) -> Option<i32> {
        if signal == Signal::SIGCHLD {
            return None;
        }
        match self.child {
            Some(group) => {
                tracing::debug!(%signal, "forwarding to the program's process group");
                child::signal_group(group, signal);
                if signals::is_terminating(signal) {
                    self.exiting = true;
                    self.restart_with = None;
                }
                None
            }
            // Nothing to forward to: before the program starts, end as a one-shot launch
            // would (128+N); the sidecar ends cleanly (0).
            None if signals::is_terminating(signal) => {
                Some(if self.supervision.program.is_some() {
                    128 + signal as i32
                } else {
                    0
                })
            }
            None => None,
        }
    }

    fn on_events(&mut self, events: &Receiver<Event>) -> Option<Result<i32, Error>> {
        while let Ok(event) = events.try_recv() {
            match event {
                Event::Failed(error) => return Some(Err(error)),
                Event::Ready(ready) if !self.started => {
                    if let Err(error) = self.start(&ready) {
                        return Some(Err(error));
                    }
                }
                Event::Ready(ready) => self.on_change(ready),
            }
        }
        None
    }

    fn start(&mut self, ready: &Ready) -> Result<(), Error> {
        self.delivery.write_files(ready)?;
        if let Some(file) = &self.supervision.ready_file {
            output::write_atomically(file, b"", 0o644).map_err(Problem::from)?;
        }
        if let Some(program) = &self.supervision.program {
            let env = self.delivery.environment(ready);
            self.child = Some(child::spawn(
                &program.name,
                &program.args,
                &env,
                Role::Program,
            )?);
        }
        self.started = true;
        tracing::info!(
            "watching for changes every {}s",
            self.supervision.timing.interval.as_secs_f64()
        );
        Ok(())
    }

    fn on_change(&mut self, ready: Box<Ready>) {
        let restarts = self
            .supervision
            .actions
            .iter()
            .any(|action| matches!(action, Action::OnChange(OnChange::Restart)));
        if restarts
            && let Some(budget) = &mut self.budget
            && let Some(until) = budget.next_allowed(Instant::now())
        {
            if self.held.is_none() {
                let program = self.supervision.program.as_ref();
                tracing::error!(
                    "restart budget spent ({} restarts within {}s): the program keeps its values until {}s from now",
                    program.map_or(0, |program| program.max_restarts),
                    program.map_or(0.0, |program| program.restart_window.as_secs_f64()),
                    until.saturating_duration_since(Instant::now()).as_secs()
                );
            }
            self.held = Some((ready, until));
            return;
        }
        // `any`, not `all`: the `render --watch` sidecar without a hook has no action at all,
        // and rewriting its file is then its whole job.
        let only_logs = self
            .supervision
            .actions
            .iter()
            .any(|action| matches!(action, Action::OnChange(OnChange::None)));
        if only_logs {
            tracing::warn!(
                "the secrets changed and validated; --on-change none: the program keeps its values"
            );
            return;
        }
        if let Err(problem) = self.delivery.write_files(&ready) {
            tracing::error!(
                "cannot rewrite the rendered files; the program keeps its values: {problem}"
            );
            return;
        }
        if self.supervision.actions.is_empty() {
            tracing::info!("the secrets changed and validated: files rewritten");
        }
        for action in self.supervision.actions.clone() {
            self.act(&action, &ready);
        }
    }

    fn act(&mut self, action: &Action, ready: &Ready) {
        match action {
            Action::OnChange(OnChange::Restart) => {
                let (Some(group), Some(program)) = (self.child, &self.supervision.program) else {
                    return;
                };
                if let Some(budget) = &mut self.budget {
                    budget.record(Instant::now());
                }
                tracing::info!(signal = %program.stop_signal, "the secrets changed and validated: restarting the program");
                self.restart_with = Some(self.delivery.environment(ready));
                if self.stop_deadline.is_none() {
                    child::signal_group(group, program.stop_signal);
                    self.stop_deadline = Some(Instant::now() + program.stop_timeout);
                }
            }
            Action::OnChange(OnChange::Signal(signal)) => {
                if let Some(group) = self.child {
                    tracing::info!(%signal, "the secrets changed and validated: files rewritten, signalling the program");
                    child::signal_group(group, *signal);
                }
            }
            Action::OnChange(OnChange::Exec(command)) => self.run_hook(command, ready),
            Action::OnChange(OnChange::None) => {}
            Action::SignalPidfile { file, signal } => pidfile::signal_pidfile(file, *signal),
        }
    }

    fn run_hook(&mut self, command: &[String], ready: &Ready) {
        let Some((name, args)) = command.split_first() else {
            return;
        };
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        match child::spawn(
            name.as_ref(),
            &args,
            &self.delivery.environment(ready),
            Role::Hook,
        ) {
            Ok(pid) => {
                tracing::info!(hook = %name, pid = pid.as_raw(), "the secrets changed and validated: running the hook");
                self.hooks.push(pid);
            }
            Err(error) => tracing::error!("cannot run the --on-change hook: {error}"),
        }
    }

    /// Reaps everything; returns the program's status when the launcher should exit with it.
    fn reap(&mut self) -> Result<Option<i32>, Error> {
        let known: Vec<Pid> = self.child.iter().chain(&self.hooks).copied().collect();
        for reaped in child::reap_ended(&known) {
            if Some(reaped.pid) == self.child {
                self.child = None;
                self.stop_deadline = None;
                match (self.restart_with.take(), &self.supervision.program) {
                    (Some(env), Some(program)) if !self.exiting => {
                        let pid = child::spawn(&program.name, &program.args, &env, Role::Program)?;
                        tracing::info!(
                            pid = pid.as_raw(),
                            "the program restarted with the new values"
                        );
                        self.child = Some(pid);
                        self.metrics.restarted();
                    }
                    _ => {
                        tracing::debug!(status = reaped.status, "the program exited");
                        return Ok(Some(reaped.status));
                    }
                }
            } else if let Some(index) = self.hooks.iter().position(|pid| *pid == reaped.pid) {
                self.hooks.swap_remove(index);
                match reaped.status {
                    0 => tracing::info!("the --on-change hook succeeded"),
                    status => tracing::error!(status, "the --on-change hook failed"),
                }
            } else {
                tracing::debug!(pid = reaped.pid.as_raw(), "reaped an orphaned process");
            }
        }
        Ok(None)
    }

    fn on_time(&mut self) {
        let now = Instant::now();
        if let Some(deadline) = self.stop_deadline
            && now >= deadline
            && let Some(group) = self.child
        {
            tracing::warn!("the program did not stop within --stop-timeout: SIGKILL");
            child::signal_group(group, Signal::SIGKILL);
            self.stop_deadline = None;
        }
        if self.held.as_ref().is_some_and(|(_, at)| now >= *at) {
            let (ready, _) = self.held.take().expect("checked above");
            self.on_change(ready);
        }
    }
}
