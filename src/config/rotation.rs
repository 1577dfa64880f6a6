//! `rotation:`: the systems whose passwords `rotate --database` and `--redis` change
//! (PostgreSQL and Redis), and the admin logins that change them. An admin password is a
//! reference (`secret://postgres_admin_password`), never a literal: the config file is no
//! place for a password, and the reference goes through the one resolution path.

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use super::ConfigError;
use super::document::Document;
use super::typed_mapping::TypedMapping;
use crate::reference::Reference;

pub(crate) const ROTATION: &str = "rotation";
const SYSTEMS: &[&str] = &["database", "redis"];
const DATABASE_KEYS: &[&str] = &[
    "host",
    "port",
    "dbname",
    "admin_user",
    "admin_password",
    "role",
    "strategy",
    "alternate_role",
    "group_role",
    "sslmode",
    "sslrootcert",
];
const REDIS_KEYS: &[&str] = &[
    "host",
    "port",
    "admin_user",
    "admin_password",
    "user",
    "tls",
    "tls_ca",
    "tls_server_name",
];

#[derive(Debug, Clone, Default)]
pub struct RotationSettings {
    pub database: Option<DatabaseSettings>,
    pub redis: Option<RedisSettings>,
}

/// How the database password changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// One login role; its password changes (the guide's recipe). Between *set* and
    /// *promote* only the pending password logs in.
    Single,
    /// Two login roles in one group; each rotation changes the one not in use, so the
    /// current credential logs in at every instant.
    Alternating,
}

/// libpq's `sslmode`, the four that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// A host name, an address, or (starting with `/`) the directory of the server's unix
    /// socket, as libpq reads `host`.
    pub host: String,
    pub port: u16,
    pub dbname: String,
    pub admin_user: String,
    pub admin_password: Reference,
    /// The login role whose password rotates (with `alternating`, the first of the two).
    pub role: String,
    pub strategy: Strategy,
    /// `alternating`: the second login role (default `<role>_b`).
    pub alternate_role: String,
    /// `alternating`: the group role holding the privileges and owning the objects (default
    /// `<role>_group`).
    pub group_role: String,
    pub sslmode: SslMode,
    /// `verify-full`: the CA bundle (PEM) to trust instead of the built-in roots.
    pub sslrootcert: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub host: String,
    pub port: u16,
    pub admin_user: String,
    pub admin_password: Reference,
    /// The ACL user whose password rotates.
    pub user: String,
    pub tls: bool,
    /// A CA bundle (PEM) to trust instead of the built-in roots.
    pub tls_ca: Option<PathBuf>,
    /// The name the server's certificate must hold (default: `host`).
    pub tls_server_name: Option<String>,
}

pub(super) fn read(
    document: &Document<'_>,
    value: &Value,
) -> Result<RotationSettings, ConfigError> {
    let empty = Mapping::new();
    let map = mapping(document, &[ROTATION], value, &empty)?;
    document.check_keys(map, &[ROTATION], SYSTEMS)?;
    let mut settings = RotationSettings::default();
    if let Some(value) = map.get("database") {
        let path = [ROTATION, "database"];
        let map = mapping(document, &path, value, &empty)?;
        document.check_keys(map, &path, DATABASE_KEYS)?;
        settings.database = Some(database(&TypedMapping {
            document,
            map,
            path: &path,
        })?);
    }
    if let Some(value) = map.get("redis") {
        let path = [ROTATION, "redis"];
        let map = mapping(document, &path, value, &empty)?;
        document.check_keys(map, &path, REDIS_KEYS)?;
        settings.redis = Some(redis(&TypedMapping {
            document,
            map,
            path: &path,
        })?);
    }
    Ok(settings)
}

fn mapping<'a>(
    document: &Document<'_>,
    path: &[&str],
    value: &'a Value,
    empty: &'a Mapping,
) -> Result<&'a Mapping, ConfigError> {
    match value {
        Value::Null => Ok(empty),
        Value::Mapping(map) => Ok(map),
        _ => Err(document.error(path, "expected a mapping of settings", None)),
    }
}

fn database(settings: &TypedMapping<'_>) -> Result<DatabaseSettings, ConfigError> {
    let role = settings
        .string("role")?
        .unwrap_or_else(|| "cronos_user".into());
    let strategy = match settings.string("strategy")?.as_deref() {
        None | Some("single") => Strategy::Single,
        Some("alternating") => Strategy::Alternating,
        Some(other) => {
            return Err(settings.error(
                "strategy",
                &format!("unknown strategy \"{other}\""),
                Some("expected single (one role, the guide's recipe) or alternating (two roles, no outage)".into()),
            ));
        }
    };
    let sslmode = match settings.string("sslmode")?.as_deref() {
        None | Some("prefer") => SslMode::Prefer,
        Some("disable") => SslMode::Disable,
        Some("require") => SslMode::Require,
        Some("verify-full") => SslMode::VerifyFull,
        Some(other) => {
            return Err(settings.error(
                "sslmode",
                &format!("unsupported sslmode \"{other}\""),
                Some("expected disable, prefer, require or verify-full (verify-ca: use verify-full with the server's name)".into()),
            ));
        }
    };
    Ok(DatabaseSettings {
        host: settings
            .string("host")?
            .unwrap_or_else(|| "localhost".into()),
        port: port(settings, 5432)?,
        dbname: settings
            .string("dbname")?
            .unwrap_or_else(|| "cronos_ai".into()),
        admin_user: settings
            .string("admin_user")?
            .unwrap_or_else(|| "postgres".into()),
        admin_password: admin_password(settings, "postgres_admin_password")?,
        alternate_role: settings
            .string("alternate_role")?
            .unwrap_or_else(|| format!("{role}_b")),
        group_role: settings
            .string("group_role")?
            .unwrap_or_else(|| format!("{role}_group")),
        role,
        strategy,
        sslmode,
        sslrootcert: settings.path("sslrootcert")?,
    })
}

fn redis(settings: &TypedMapping<'_>) -> Result<RedisSettings, ConfigError> {
    Ok(RedisSettings {
        host: settings
            .string("host")?
            .unwrap_or_else(|| "localhost".into()),
        port: port(settings, 6379)?,
        admin_user: settings
            .string("admin_user")?
            .unwrap_or_else(|| "default".into()),
        admin_password: admin_password(settings, "redis_admin_password")?,
        user: settings.string("user")?.unwrap_or_else(|| "cronos".into()),
        tls: settings.boolean("tls")?.unwrap_or(false),
        tls_ca: settings.path("tls_ca")?,
        tls_server_name: settings.string("tls_server_name")?,
    })
}

fn port(settings: &TypedMapping<'_>, default: u16) -> Result<u16, ConfigError> {
    match settings.integer("port")? {
        None => Ok(default),
        Some(port) => u16::try_from(port)
            .ok()
            .filter(|port| *port > 0)
            .ok_or_else(|| settings.error("port", "expected a TCP port (1 to 65535)", None)),
    }
}

/// A reference, never a literal: a password typed into the config would be in every copy of
/// the file, its history and its backups.
fn admin_password(settings: &TypedMapping<'_>, example: &str) -> Result<Reference, ConfigError> {
    let hint = || {
        Some(format!(
            "store the password in the backend and reference it: admin_password: secret://{example} (or env://VAR, file:///run/secrets/…)"
        ))
    };
    let Some(text) = settings.string("admin_password")? else {
        return Err(settings.error("admin_password", "is required", hint()));
    };
    if !Reference::is_reference(&text) {
        // Not echoed: it may be the password itself.
        return Err(settings.error(
            "admin_password",
            "must be a reference (secret://NAME, env://VAR, file://PATH…), never the password itself",
            hint(),
        ));
    }
    let base = match settings.document.origin {
        super::ConfigOrigin::File(path) => path.parent().unwrap_or(Path::new(".")),
        super::ConfigOrigin::BuiltIn | super::ConfigOrigin::Given(_) => Path::new("."),
    };
    Reference::parse(&text, base)
        .map_err(|error| settings.error("admin_password", &error.to_string(), hint()))
}
