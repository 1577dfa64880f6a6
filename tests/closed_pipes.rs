//! A reader that goes away (`cronos-secrets check | head -1`, or `2>&1 | head -1`) ends every
//! printing command quietly: the status the command would have had with its reader there,
//! nothing on stderr about the pipe, never a panic, whatever SIGPIPE disposition the launcher
//! inherited.

mod common;

use std::process::{Output, Stdio};

use common::dispositions::with_dispositions;
use common::*;
use nix::sys::signal::Signal;

/// Runs `command` twice: stdout read in full, then stdout a pipe whose reader is already
/// gone (the extreme of `| head -1`: the first write fails). Returns both outcomes.
fn read_then_closed(launch: &Launch, ignored: &[Signal]) -> (Output, Output) {
    let read = with_dispositions(&mut launch.command(), ignored)
        .output()
        .unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let closed = with_dispositions(&mut launch.command(), ignored)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (read, closed)
}

fn printing_commands() -> Vec<(&'static str, Launch)> {
    let launch = || {
        Launch::with_required()
            .file("app.tmpl", "jwt=${secret://jwt_secret}\n")
            .file("leak.env", "PASSWORD=hunter2-but-longer-and-literal\n")
    };
    let cases: Vec<(&str, &[&str])> = vec![
        ("check", &["check"]),
        ("check --format json", &["check", "--format", "json"]),
        ("get", &["get", "jwt_secret"]),
        ("export", &["export"]),
        ("render", &["render", "app.tmpl"]),
        ("generate", &["generate"]),
        ("rotate --status", &["rotate", "--status", "--all"]),
        ("rotate --dry-run", &["rotate", "--dry-run", "--all"]),
        ("scan", &["scan", "leak.env"]),
        ("--generate man", &["--generate", "man"]),
        ("--generate complete-bash", &["--generate", "complete-bash"]),
        ("--help", &["--help"]),
    ];
    cases
        .into_iter()
        .map(|(name, args)| (name, launch().args(args)))
        .collect()
}

#[test]
fn every_printing_command_ends_quietly_when_its_reader_goes_away() {
    for ignored in [&[][..], &[Signal::SIGPIPE][..]] {
        for (name, launch) in printing_commands() {
            let (read, closed) = read_then_closed(&launch, ignored);
            let stderr = String::from_utf8_lossy(&closed.stderr);
            let context = format!(
                "{name} (SIGPIPE ignored: {}): {stderr}",
                !ignored.is_empty()
            );
            assert!(!read.stdout.is_empty(), "{context}: prints something");
            assert_eq!(closed.status.code(), read.status.code(), "{context}");
            for noise in ["panicked", "Broken pipe", "failed printing", "stdout"] {
                assert!(!stderr.contains(noise), "{context}");
            }
            assert_eq!(stderr, String::from_utf8_lossy(&read.stderr), "{context}");
        }
    }
}

/// `2>&1 | head -1`: stderr's reader is gone too, so the errors and summaries written there
/// (a failed `get`, `scan`'s count) must not panic either.
#[test]
fn a_command_whose_stderr_reader_is_gone_keeps_its_status() {
    let mut cases = printing_commands();
    cases.push((
        "get (an unknown name)",
        Launch::with_required().args(["get", "no_such_secret"]),
    ));
    for (name, launch) in cases {
        let read = launch.run();
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let closed = with_dispositions(&mut launch.command(), &[Signal::SIGPIPE])
            .stdout(Stdio::from(writer.try_clone().unwrap()))
            .stderr(Stdio::from(writer))
            .status()
            .unwrap();
        assert_eq!(
            closed.code(),
            Some(read.code()),
            "{name}: {}",
            read.stderr()
        );
    }
}

/// Any other write error is not swallowed: `/dev/full` (a full disk) is reported, with a
/// hint, and the command fails.
#[test]
fn a_full_disk_behind_stdout_is_an_error() {
    for args in [&["check"][..], &["generate"][..]] {
        let launch = Launch::with_required().args(args);
        let output = launch
            .command()
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(125), "{args:?}: {stderr}");
        assert!(
            stderr.contains("stdout: cannot write"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("hint:"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
