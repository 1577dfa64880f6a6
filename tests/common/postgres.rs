//! A real PostgreSQL (Debian's 15) for `rotate --database`: SCRAM everywhere, TLS with a test
//! CA, every statement in the server log (so tests can grep it for a password), TCP on a free
//! 127.0.0.1 port and a unix socket in its temporary directory. One per test binary; it runs as
//! uid 65534 when the tests run as root (PostgreSQL refuses root), and is stopped, its
//! directory removed, when the test process ends.
//!
//! Over TCP, three user names get other methods, for the tests that refuse them:
//! `trust_user` (trust), `md5_user` (md5), `cleartext_user` (password); `cleartext_user` also
//! on the unix socket, where a cleartext password is safe. None is created here.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::server::{Server, free_port};
use super::tls::Ca;

/// The user PostgreSQL runs as when we are root (nobody).
const SERVER_UID: u32 = 65_534;

pub struct Postgres {
    pub host: String,
    pub port: u16,
    /// The directory of the unix socket (`host` for libpq and for rotation.database).
    pub socket_dir: PathBuf,
    pub admin_user: String,
    pub admin_password: String,
    /// The CA of the server's certificate, which names `localhost` only (so verify-full to
    /// 127.0.0.1 fails on the name).
    pub ca: PathBuf,
    /// A CA that signed nothing the server holds.
    pub other_ca: PathBuf,
    /// A database made at start, beside `postgres`.
    pub dbname: String,
    dir: PathBuf,
    bin: PathBuf,
    server: Server,
}

/// The server the tests of this binary share.
pub fn shared() -> &'static Postgres {
    static SERVER: OnceLock<Postgres> = OnceLock::new();
    SERVER.get_or_init(Postgres::start)
}

/// `pg_config --bindir`, else Debian's PostgreSQL 15.
fn bin_dir() -> PathBuf {
    Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
        .filter(|dir| dir.join("postgres").exists())
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"))
}

fn as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    std::fs::metadata("/proc/self").is_ok_and(|proc| proc.uid() == 0)
}

/// `program args…`, as the server's user when we are root.
fn server_command(program: &Path) -> (String, Vec<String>) {
    let program = program.to_string_lossy().into_owned();
    if as_root() {
        let mut args: Vec<String> = ["--reuid", "65534", "--regid", "65534", "--clear-groups"]
            .map(String::from)
            .to_vec();
        args.push(program);
        ("setpriv".into(), args)
    } else {
        (program, Vec::new())
    }
}

/// Hands `path` to the server's user (when we are root) with `mode`.
fn give(path: &Path, mode: u32) {
    if as_root() {
        std::os::unix::fs::chown(path, Some(SERVER_UID), Some(SERVER_UID)).expect("chown");
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn random_password() -> String {
    let mut bytes = [0u8; 18];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut bytes))
        .expect("random bytes");
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("temp dir").keep();
        give(&dir, 0o700);
        let data = dir.join("data");
        let socket_dir = dir.join("socket");
        std::fs::create_dir(&socket_dir).expect("socket dir");
        give(&socket_dir, 0o700);

        let admin_password = random_password();
        let pwfile = dir.join("admin.pw");
        std::fs::write(&pwfile, format!("{admin_password}\n")).expect("write pwfile");
        give(&pwfile, 0o600);

        let certs = dir.join("certs");
        std::fs::create_dir(&certs).expect("certs dir");
        let ca = Ca::new(&certs, "ca");
        let other_ca = Ca::new(&certs, "other-ca");
        let (cert, key) = ca.issue("server", "DNS:localhost");
        give(&certs, 0o755);
        give(&cert, 0o644);
        give(&key, 0o600);

        let (program, mut args) = server_command(&bin.join("initdb"));
        args.extend(
            [
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                &format!("--pwfile={}", pwfile.display()),
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
            .map(String::from),
        );
        let output = Command::new(&program)
            .args(&args)
            .current_dir(&dir)
            .env("LC_ALL", "C")
            .output()
            .expect("run initdb");
        assert!(
            output.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );

        let port = free_port();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all cleartext_user password\nlocal all all scram-sha-256\nhost all trust_user 127.0.0.1/32 trust\nhost all md5_user 127.0.0.1/32 md5\nhost all cleartext_user 127.0.0.1/32 password\nhostssl all all 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        let settings = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nlog_statement = 'all'\nlog_min_duration_statement = 0\nlog_connections = on\nlogging_collector = off\npassword_encryption = 'scram-sha-256'\nssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nfsync = off\nshared_buffers = 16MB\nmax_connections = 40\n",
            socket_dir.display(),
            cert.display(),
            key.display()
        );
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .expect("open postgresql.conf");
        conf.write_all(settings.as_bytes())
            .expect("write postgresql.conf");

        let (program, mut args) = server_command(&bin.join("postgres"));
        args.extend(["-D".to_string(), data.to_string_lossy().into_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients); then the
        // directory goes, data, log and certificates.
        let stop = format!(
            r#"kill -INT "$pid" 2>/dev/null; i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf '{}'"#,
            dir.display()
        );
        let server = Server::start_with_stop(
            "postgres",
            &program,
            &args,
            &[("LC_ALL", "C")],
            &dir,
            port,
            &stop,
        );
        let postgres = Postgres {
            host: "127.0.0.1".into(),
            port,
            socket_dir,
            admin_user: "postgres".into(),
            admin_password,
            ca: ca.cert,
            other_ca: other_ca.cert,
            dbname: "cronos_ai".into(),
            dir,
            bin,
            server,
        };
        postgres
            .server
            .wait_until("PostgreSQL", Duration::from_secs(60), || {
                postgres
                    .try_admin_sql("postgres", "SELECT 1")
                    .status
                    .success()
            });
        postgres.admin_sql_in("postgres", "CREATE DATABASE cronos_ai");
        postgres
    }

    /// psql as `user` with `password` in its environment (never its arguments), the
    /// statements on its stdin (they may hold passwords too).
    fn psql(&self, user: &str, password: &str, database: &str, sql: &str) -> Output {
        let mut child = Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-w"])
            .args(["-h", &self.host, "-p", &self.port.to_string()])
            .args(["-U", user, "-d", database, "-f", "-"])
            .env("PGPASSWORD", password)
            .env("PGSSLMODE", "require")
            .env("PGCONNECT_TIMEOUT", "10")
            .env_remove("PGPASSFILE")
            .env_remove("PGSERVICE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run psql");
        let written = child
            .stdin
            .take()
            .expect("psql stdin")
            .write_all(sql.as_bytes());
        let output = child.wait_with_output().expect("wait for psql");
        written.expect("write to psql");
        output
    }

    fn try_admin_sql(&self, database: &str, sql: &str) -> Output {
        self.psql(&self.admin_user, &self.admin_password, database, sql)
    }

    /// Runs `sql` as the admin in `database`; its output (unaligned, tuples only), trimmed.
    pub fn admin_sql_in(&self, database: &str, sql: &str) -> String {
        let output = self.try_admin_sql(database, sql);
        assert!(
            output.status.success(),
            "psql as admin failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Runs `sql` as the admin in [`dbname`](Self::dbname).
    pub fn admin_sql(&self, sql: &str) -> String {
        self.admin_sql_in(&self.dbname, sql)
    }

    /// Runs `sql` as `user` in [`dbname`](Self::dbname); Err with psql's stderr on failure.
    pub fn user_sql(&self, user: &str, password: &str, sql: &str) -> Result<String, String> {
        let output = self.psql(user, password, &self.dbname, sql);
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Whether `user` logs in to [`dbname`](Self::dbname) with `password` (checked by psql).
    pub fn login_ok(&self, user: &str, password: &str) -> bool {
        self.user_sql(user, password, "SELECT 1").as_deref() == Ok("1")
    }

    /// Everything the server logged so far: connections and every statement.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.server.log).unwrap_or_default()
    }

    /// A file in the server's temporary directory (removed with it).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}
