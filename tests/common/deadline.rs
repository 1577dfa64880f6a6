//! Running a launch under a hard limit: a launch that should end by its own `--timeout` but
//! hangs fails the test (killed, with its stderr) instead of hanging the suite.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{Launch, Outcome};

/// Runs `launch`, killing it after `limit`; returns its outcome and how long it took.
pub fn run_within(launch: &Launch, limit: Duration) -> (Outcome, Duration) {
    let (output, elapsed) = output_within(&mut launch.command(), limit);
    (Outcome { output }, elapsed)
}

/// Runs `command` (stdin from /dev/null), killing it after `limit`: a command that hangs fails
/// the test with its stderr. Returns its output and how long it took.
pub fn output_within(command: &mut Command, limit: Duration) -> (Output, Duration) {
    let files = tempfile::tempdir().expect("temp dir");
    let stdout = files.path().join("stdout");
    let stderr = files.path().join("stderr");
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("run cronos-secrets");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "still running after {limit:?} (a hang); stderr:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let output = Output {
        status,
        stdout: std::fs::read(&stdout).unwrap_or_default(),
        stderr: std::fs::read(&stderr).unwrap_or_default(),
    };
    (output, elapsed)
}
