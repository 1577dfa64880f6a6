//! Real servers for tests (OpenBao, moto, …): one per test binary, on a free 127.0.0.1 port,
//! stopped when the test process ends.
//!
//! A server kept in a `static` is never dropped, and `PR_SET_PDEATHSIG` fires when the spawning
//! *thread* ends (test threads end after each test). So the server runs under a small `sh`
//! guard that kills it as soon as its stdin pipe closes, which happens when this process exits,
//! however it exits.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound, then released for the server to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A running server; it stops when this value's stdin pipe closes (drop or process exit).
pub struct Server {
    pub port: u16,
    pub log: PathBuf,
    _stdin: ChildStdin,
    _guard: Child,
}

impl Server {
    /// Starts `program args…` under the guard, with its output in a log file in `dir`.
    pub fn start(
        name: &str,
        program: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        dir: &std::path::Path,
        port: u16,
    ) -> Server {
        let stop = r#"kill "$pid" 2>/dev/null; sleep 0.2; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null"#;
        Server::start_with_stop(name, program, args, envs, dir, port, stop)
    }

    /// [`start`](Self::start), with `stop` the shell commands that end the server (`$pid`),
    /// run when the pipe closes.
    pub fn start_with_stop(
        name: &str,
        program: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        dir: &std::path::Path,
        port: u16,
        stop: &str,
    ) -> Server {
        let log = dir.join(format!("{name}.log"));
        let script =
            format!(r#"log="$1"; shift; "$@" >"$log" 2>&1 & pid=$!; cat >/dev/null; {stop}"#);
        let mut guard = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("server-guard")
            .arg(&log)
            .arg(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {program}: {error}"));
        let stdin = guard.stdin.take().expect("guard stdin");
        Server {
            port,
            log,
            _stdin: stdin,
            _guard: guard,
        }
    }

    /// Waits until `ready` says so, polling (never a fixed sleep); panics with the log on timeout.
    pub fn wait_until(&self, what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if ready() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut log = String::new();
        let _ = std::fs::File::open(&self.log).and_then(|mut file| file.read_to_string(&mut log));
        panic!("{what} was not ready after {timeout:?}; its log:\n{log}");
    }

    pub fn accepts_connections(&self) -> bool {
        TcpStream::connect(("127.0.0.1", self.port)).is_ok()
    }
}
