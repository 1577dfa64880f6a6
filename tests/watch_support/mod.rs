//! A watching launcher run in the background, and the program it supervises: a small Python
//! script that notes each start (with the value it got), the signals it and its own child
//! receive, and can leave an orphan behind.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::common::Launch;

pub const PROGRAM: &str = r#"
import os, signal, sys, time
log, mode = sys.argv[1], sys.argv[2]
def note(text):
    with open(log, "a") as f:
        f.write(text + "\n")
role = "child"
def on_signal(number, frame):
    note("%s got %d" % (role, number))
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)
note("start %d %s" % (os.getpid(), os.environ.get("APP_SECRET", "")))
if mode == "signals":
    if os.fork() == 0:
        role = "grandchild"
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGQUIT):
        signal.signal(number, on_signal)
    note("%s ready" % role)
elif mode == "orphan":
    if os.fork() == 0:
        if os.fork() == 0:
            note("orphan %d" % os.getpid())
            time.sleep(0.3)
            os._exit(0)
        os._exit(0)
elif mode == "exit":
    sys.exit(3)
elif mode == "stubborn":
    signal.signal(signal.SIGQUIT, lambda n, f: note("child got %d" % n))
elif mode == "hup":
    signal.signal(signal.SIGHUP, lambda n, f: note("hup " + open(sys.argv[3]).read().strip()))
while True:
    time.sleep(0.05)
"#;

pub struct Running {
    child: Child,
    pub log: PathBuf,
    pub stderr: PathBuf,
}

impl Running {
    /// Starts `launch` (its args up to `--`) with the program in `mode` after it.
    pub fn start(launch: Launch, mode: &str, extra: &[&str]) -> Running {
        let launch = launch.file("program.py", PROGRAM);
        let log = launch.path("program.log");
        let program = launch.path("program.py");
        let mut args = vec![
            "python3".to_string(),
            program.display().to_string(),
            log.display().to_string(),
            mode.to_string(),
        ];
        args.extend(extra.iter().map(|arg| arg.to_string()));
        Running::start_plain(launch.args(args))
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The value each start of the program got, in order.
    pub fn starts(&self) -> Vec<String> {
        self.lines()
            .iter()
            .filter_map(|line| line.strip_prefix("start "))
            .map(|rest| {
                rest.split_once(' ')
                    .map_or("", |(_, value)| value)
                    .to_string()
            })
            .collect()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits (generously) for `ready`; panics with the launcher's stderr if it never is.
    pub fn wait_for(&self, what: &str, mut ready: impl FnMut(&Running) -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if ready(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "timed out waiting for {what}\nprogram log:\n{}\nlauncher stderr:\n{}",
            self.lines().join("\n"),
            self.stderr()
        );
    }

    pub fn wait_for_starts(&self, count: usize) {
        self.wait_for(&format!("{count} program start(s)"), |running| {
            running.starts().len() >= count
        });
    }

    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).expect("signal the launcher");
    }

    /// The launcher's exit status, as a shell reports it.
    pub fn wait_exit(&mut self) -> i32 {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Some(status) = self.child.try_wait().expect("wait") {
                use std::os::unix::process::ExitStatusExt;
                return status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the launcher did not exit\n{}", self.stderr());
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = kill(self.pid(), Signal::SIGTERM);
            let start = Instant::now();
            while self.is_running() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether `pid` is gone or a zombie nobody reaped.
pub fn process_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    after_name.trim_start().chars().next()
}

/// A TCP relay to `upstream` that can refuse connections for a while: a backend outage
/// without stopping the shared server.
pub struct Relay {
    pub address: String,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    pub fn start(upstream: &str) -> Relay {
        use std::net::{TcpListener, TcpStream};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let upstream = upstream.trim_start_matches("http://").to_string();
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = down.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { address, down }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }
}

pub fn path_text(path: &Path) -> String {
    path.display().to_string()
}

impl Running {
    /// A launcher whose own arguments are complete (no program after them).
    pub fn start_plain(launch: Launch) -> Running {
        let log = launch.path("program.log");
        let stderr = launch.path("launcher.stderr");
        let child = launch
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start cronos-secrets");
        std::mem::forget(launch);
        Running { child, log, stderr }
    }
}
