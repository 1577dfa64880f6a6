//! A real redis-server 7 (Debian's, built with TLS) on a free 127.0.0.1 port, one plain and
//! one TLS-only per test binary, with an ACL file in its temp dir so `ACL SAVE` works and the
//! slow log recording every command (`slowlog-log-slower-than 0`), so tests can look for a
//! password in everything the server kept.
//!
//! Passwords never go on a command line here either: `redis-cli` gets the login's in
//! `REDISCLI_AUTH`, and commands that hold one on its stdin.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::server::{Server, free_port};
use super::tls::tls;

pub const ADMIN_USER: &str = "default";
/// The ACL user the config's `rotation.redis.user` names by default.
pub const USER: &str = "cronos";
pub const USER_PASSWORD: &str = "initial-redis-password-Qw7Er9Ty2u";

pub struct RedisServer {
    pub port: u16,
    pub tls: bool,
    pub admin_password: String,
    pub dir: PathBuf,
    /// The aclfile or redis.conf that holds the users (none when started from arguments).
    pub users_file: Option<PathBuf>,
    server: Server,
}

/// The plain-TCP server of this test binary.
pub fn shared() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(|| RedisServer::start(false))
}

/// The TLS-only server of this test binary (certificate from the test CA, for 127.0.0.1).
pub fn shared_tls() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(|| RedisServer::start(true))
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("random bytes");
    buffer.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Where a server keeps its users across restarts, as `set` finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// An `aclfile` (`ACL SAVE` writes it).
    AclFile,
    /// `user` lines in redis.conf and no aclfile (`CONFIG REWRITE` writes them).
    ConfigFile,
    /// Started from arguments, no file at all: a change lives in memory only.
    Nothing,
}

/// A file only the test's user may read (it holds passwords).
fn write_private(path: &Path, contents: &str) {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
}

impl RedisServer {
    pub fn start(tls_only: bool) -> RedisServer {
        RedisServer::start_with(tls_only, Persistence::AclFile)
    }

    /// A server of the test's own, its users kept as `persistence` says.
    pub fn start_with(tls_only: bool, persistence: Persistence) -> RedisServer {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let port = free_port();
        let admin_password = format!("admin-{}", random_hex(16));
        let users = format!(
            "user {ADMIN_USER} on >{admin_password} ~* &* +@all\nuser {USER} on >{USER_PASSWORD} ~* +@all\n"
        );
        let port_text = port.to_string();
        let dir_text = dir.to_string_lossy().into_owned();
        let mut config = format!(
            "bind 127.0.0.1\ndaemonize no\nlogfile \"\"\nsave \"\"\nappendonly no\ndir {dir_text}\nslowlog-log-slower-than 0\nslowlog-max-len 4096\n"
        );
        if tls_only {
            let tls = tls();
            config.push_str(&format!(
                "port 0\ntls-port {port}\ntls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\ntls-auth-clients no\n",
                tls.cert.display(),
                tls.key.display(),
                tls.ca.display()
            ));
        } else {
            config.push_str(&format!("port {port}\n"));
        }
        let config_file = dir.join("redis.conf");
        let config_arg = config_file.to_string_lossy().into_owned();
        let (args, users_file) = match persistence {
            Persistence::AclFile => {
                let acl_file = dir.join("users.acl");
                write_private(&acl_file, &users);
                config.push_str(&format!("aclfile {}\n", acl_file.display()));
                write_private(&config_file, &config);
                (vec![config_arg.as_str()], Some(acl_file))
            }
            Persistence::ConfigFile => {
                config.push_str(&users);
                write_private(&config_file, &config);
                (vec![config_arg.as_str()], Some(config_file.clone()))
            }
            Persistence::Nothing => {
                assert!(!tls_only, "a server without a config file is plain TCP");
                // The default user starts without a password; it is set below, over stdin.
                let args = vec![
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    &port_text,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    &dir_text,
                    "--slowlog-log-slower-than",
                    "0",
                ];
                (args, None)
            }
        };
        let server = Server::start("redis", "redis-server", &args, &[], &dir, port);
        let redis = RedisServer {
            port,
            tls: tls_only,
            admin_password,
            dir,
            users_file,
            server,
        };
        redis
            .server
            .wait_until("redis-server", Duration::from_secs(30), || {
                redis.auth_ok(ADMIN_USER, &redis.admin_password)
            });
        if persistence == Persistence::Nothing {
            // `user NAME rules` as ACL SETUSER NAME resetpass rules (the default user had nopass).
            let commands: String = users
                .lines()
                .filter_map(|line| line.strip_prefix("user "))
                .map(|rules| {
                    let (name, rules) = rules.split_once(' ').expect("user NAME rules");
                    format!("ACL SETUSER {name} resetpass {rules}\n")
                })
                .collect();
            let replies = redis.admin_stdin(&commands);
            assert!(replies.lines().all(|line| line == "OK"), "{replies}");
        }
        redis
    }

    /// `redis-cli` for this server logged in as `user` (password in the environment).
    fn cli_as(&self, user: &str, password: &str) -> Command {
        let mut command = Command::new("redis-cli");
        command
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["--user", user])
            .env("REDISCLI_AUTH", password)
            .stdin(Stdio::null());
        if self.tls {
            command.arg("--tls").arg("--cacert").arg(&tls().ca);
        }
        command
    }

    /// Runs one command as the admin; panics with its output if redis-cli fails.
    pub fn admin(&self, args: &[&str]) -> String {
        let output = self
            .cli_as(ADMIN_USER, &self.admin_password)
            .args(args)
            .output()
            .expect("run redis-cli");
        text_of(&output, args)
    }

    /// Runs commands (one per line) as the admin from stdin: for commands that hold a password.
    pub fn admin_stdin(&self, commands: &str) -> String {
        let mut child = self
            .cli_as(ADMIN_USER, &self.admin_password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run redis-cli");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(commands.as_bytes())
            .expect("write commands");
        let output = child.wait_with_output().expect("wait for redis-cli");
        text_of(&output, &["(stdin)"])
    }

    /// An ACL user of the test's own (tests share the server), with one password.
    pub fn add_user(&self, user: &str, password: &str) {
        let reply = self.admin_stdin(&format!(
            "ACL DELUSER {user}\nACL SETUSER {user} on >{password} ~* +@all\n"
        ));
        assert!(reply.ends_with("OK"), "ACL SETUSER {user}: {reply}");
    }

    /// Whether `user` logs in with `password` (a fresh connection).
    pub fn auth_ok(&self, user: &str, password: &str) -> bool {
        let output = self
            .cli_as(user, password)
            .arg("PING")
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&output.stdout).trim() == "PONG"
    }

    /// Everything the server keeps about commands run: the slow log (every command, as
    /// configured) and the ACL log (failed logins and denied commands).
    pub fn command_logs(&self) -> String {
        let slowlog = self.admin(&["SLOWLOG", "GET", "4096"]);
        let acl_log = self.admin(&["ACL", "LOG", "128"]);
        format!("{slowlog}\n{acl_log}")
    }

    /// `redis-cli monitor` as the admin, running until [`Monitor::finish`].
    pub fn monitor(&self) -> Monitor<'_> {
        let output = self.dir.join(format!("monitor-{}.log", random_hex(4)));
        let file = std::fs::File::create(&output).expect("monitor log");
        let child = self
            .cli_as(ADMIN_USER, &self.admin_password)
            .arg("monitor")
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("run redis-cli monitor");
        let monitor = Monitor {
            redis: self,
            child,
            output,
        };
        // MONITOR answers OK once it is on; commands before that are not shown.
        self.server
            .wait_until("redis-cli monitor", Duration::from_secs(10), || {
                monitor.text().lines().next() == Some("OK")
            });
        monitor
    }
}

/// A TCP relay in front of a plain server that records what clients send: what travels on
/// the wire, which MONITOR and the slow log do not show (Redis redacts some arguments).
pub struct Recorder {
    pub port: u16,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    /// Everything clients sent through the relay so far.
    pub fn sent(&self) -> Vec<u8> {
        self.sent.lock().unwrap().clone()
    }
}

impl RedisServer {
    /// A relay to this (plain) server; it serves until the test process ends.
    pub fn recorder(&self) -> Recorder {
        assert!(!self.tls, "the recorder relays plain TCP");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&sent);
        let server_port = self.port;
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", server_port)) else {
                    continue;
                };
                let (mut from_client, mut to_server) = (client.try_clone().unwrap(), server);
                let (mut from_server, mut to_client) = (to_server.try_clone().unwrap(), client);
                let record = Arc::clone(&record);
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 8192];
                    while let Ok(read) = from_client.read(&mut buffer) {
                        if read == 0 || to_server.write_all(&buffer[..read]).is_err() {
                            break;
                        }
                        record.lock().unwrap().extend_from_slice(&buffer[..read]);
                    }
                    let _ = to_server.shutdown(Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(Shutdown::Write);
                });
            }
        });
        Recorder { port, sent }
    }
}

/// A server that reads a command, answers `answer` (nothing: never answers) and holds the
/// connection until the client hangs up: for the misbehaving-server tests.
pub fn misbehaving(answer: Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 8192];
                let _ = client.read(&mut buffer);
                let _ = client.write_all(&answer);
                while matches!(client.read(&mut buffer), Ok(read) if read > 0) {}
            });
        }
    });
    port
}

pub struct Monitor<'a> {
    redis: &'a RedisServer,
    child: Child,
    output: PathBuf,
}

impl Monitor<'_> {
    fn text(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Every command the server ran since the monitor started, as MONITOR prints them.
    pub fn finish(self) -> String {
        // A marker command, seen once everything before it has been printed.
        let marker = format!("monitor-end-{}", random_hex(4));
        self.redis.admin(&["ECHO", &marker]);
        self.redis
            .server
            .wait_until("the monitor's marker", Duration::from_secs(10), || {
                self.text().contains(&marker)
            });
        self.text()
    }
}

impl Drop for Monitor<'_> {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text_of(output: &Output, what: &[&str]) -> String {
    assert!(
        output.status.success(),
        "redis-cli {what:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}
