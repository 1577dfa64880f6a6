//! `--on-change`: what a validated change does to the running program.

use nix::sys::signal::Signal;

use super::signals::parse_signal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnChange {
    /// Stop the program (`--stop-signal`, then SIGKILL after `--stop-timeout`) and start it
    /// again with the new environment.
    Restart,
    /// Send the signal to the program's group; its files were rewritten first.
    Signal(Signal),
    /// Run a hook (split like a shell would, not run by one) with the program's new
    /// environment; the program keeps running.
    Exec(Vec<String>),
    /// Log the change only.
    None,
}

impl OnChange {
    pub fn parse(text: &str) -> Result<OnChange, String> {
        match text {
            "restart" => Ok(OnChange::Restart),
            "none" => Ok(OnChange::None),
            _ => {
                if let Some(signal) = text.strip_prefix("signal:") {
                    return parse_signal(signal).map(OnChange::Signal);
                }
                if let Some(command) = text.strip_prefix("exec:") {
                    return parse_command(command).map(OnChange::Exec);
                }
                Err(format!(
                    "expected restart, signal:SIG (e.g. signal:HUP), exec:CMD or none, found \"{text}\""
                ))
            }
        }
    }
}

/// A hook command, split as a shell would (quotes), but never run by one.
pub fn parse_command(text: &str) -> Result<Vec<String>, String> {
    match shell_words::split(text) {
        Ok(words) if !words.is_empty() => Ok(words),
        Ok(_) => Err("the command is empty".to_string()),
        Err(error) => Err(format!("cannot split the command \"{text}\": {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_change_parses_each_action() {
        assert_eq!(OnChange::parse("restart"), Ok(OnChange::Restart));
        assert_eq!(
            OnChange::parse("signal:HUP"),
            Ok(OnChange::Signal(Signal::SIGHUP))
        );
        assert_eq!(
            OnChange::parse("exec:nginx -s 'reload now'"),
            Ok(OnChange::Exec(vec![
                "nginx".into(),
                "-s".into(),
                "reload now".into()
            ]))
        );
        assert_eq!(OnChange::parse("none"), Ok(OnChange::None));
        assert!(OnChange::parse("reload").is_err());
        assert!(OnChange::parse("exec:").is_err());
    }
}
