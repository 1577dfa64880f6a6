//! What the program inherits of the launcher's signal state: the dispositions the launcher
//! itself inherited (`nohup` stays in force), SIGPIPE at its default, nothing blocked, in a
//! plain launch (`execve`) and in the watch mode's child. Every launcher here is started with
//! an explicit signal state, so the tests do not depend on their runner's.

mod common;

use std::process::Command;

use common::dispositions::with_dispositions;
use common::*;
use nix::sys::signal::Signal;

const STATUS_LINES: [&str; 3] = ["-E", "^Sig(Ign|Blk)", "/proc/self/status"];

/// The SigIgn and SigBlk lines of `grep` run by the launcher (`run` or `run --watch`), the
/// launcher being started with `ignored` ignored.
fn launched_grep(mode: &[&str], ignored: &[Signal]) -> String {
    let launch = Launch::with_required()
        .args(["run"])
        .args(mode)
        .args(["--", "grep"])
        .args(STATUS_LINES);
    let output = with_dispositions(&mut launch.command(), ignored)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The same lines of `grep` started directly in the same state: what `nohup env grep` gives.
fn direct_grep(ignored: &[Signal]) -> String {
    let output = with_dispositions(Command::new("grep").args(STATUS_LINES), ignored)
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

fn ignores(status: &str, signal: Signal) -> bool {
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:\t"))
        .expect("a SigIgn line");
    let mask = u64::from_str_radix(mask.trim(), 16).expect("a hex mask");
    mask & (1 << (signal as u64 - 1)) != 0
}

#[test]
fn the_program_starts_with_default_signal_dispositions() {
    for mode in [&[][..], &["--watch"][..]] {
        let status = launched_grep(mode, &[]);
        assert_eq!(status, direct_grep(&[]), "mode {mode:?}");
        assert!(status.contains("SigBlk:\t0000000000000000"), "{status}");
        assert!(!ignores(&status, Signal::SIGHUP), "{status}");
    }
}

/// `nohup cronos-secrets run -- prog`: prog ignores SIGHUP, as under `nohup env prog`.
#[test]
fn under_nohup_the_program_still_ignores_sighup() {
    for mode in [&[][..], &["--watch"][..]] {
        let status = launched_grep(mode, &[Signal::SIGHUP]);
        assert_eq!(status, direct_grep(&[Signal::SIGHUP]), "mode {mode:?}");
        assert!(ignores(&status, Signal::SIGHUP), "mode {mode:?}: {status}");
        assert!(status.contains("SigBlk:\t0000000000000000"), "{status}");
    }
}

/// SIGPIPE is the default whatever the launcher inherited (the Rust runtime hides it): `yes`
/// dies of SIGPIPE (141) as from a shell, instead of printing "Broken pipe".
#[test]
fn the_program_gets_sigpipe_at_its_default() {
    for ignored in [&[][..], &[Signal::SIGPIPE][..]] {
        let launch = Launch::with_required().args([
            "run",
            "--",
            "bash",
            "-c",
            "yes | head -1 >/dev/null; echo \"yes=${PIPESTATUS[0]}\"",
        ]);
        let output = with_dispositions(&mut launch.command(), ignored)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stdout, "yes=141\n", "ignored {ignored:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{stderr}");
    }
}

/// Under `nohup`, a hangup while the launcher fetches does not end it either (a handled one
/// would: 128+1). A server that accepts and never answers holds the launch in its fetch; once
/// the hangup is sent, the server hangs up too and the launch fails on its own terms (its
/// retries end at `--timeout`).
#[test]
fn under_nohup_a_hangup_during_the_fetch_is_ignored() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let launch = Launch::with_required()
        .env(
            "VAULT_ADDR",
            &format!("http://{}", listener.local_addr().unwrap()),
        )
        .env("VAULT_TOKEN", "hvs.test-token-for-a-silent-server")
        .env("CRONOS_SECRETS_BACKEND", "vault")
        .file("one.env", "X=secret://jwt\n")
        .args([
            "--env-file",
            "one.env",
            "--timeout",
            "2s",
            "run",
            "--",
            "true",
        ]);
    let child = with_dispositions(&mut launch.command(), &[Signal::SIGHUP])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (held, _) = listener.accept().unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, Signal::SIGHUP).unwrap();
    drop(held);
    drop(listener);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("cronos-secrets: error:"), "{stderr}");
}
