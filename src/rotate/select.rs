//! Which secrets a `rotate` command line means (the guide's selectors, names, `--due`), and
//! whether each can be rotated by this build: a key the application checks itself (JWT
//! secret, API key, encryption key) needs only the store; a password checked by another
//! system (the database, Redis) must change there too, and is refused unless the config's
//! `rotation:` section says where that system is (see `systems`).

use std::time::{Duration, SystemTime};

use crate::backend::Source;
use crate::config::RotationSettings;
use crate::problem::Problem;
use crate::schema::RequiredSecret;

/// The guide's selectors and the table names they stand for.
pub const SELECTORS: [(&str, &str); 5] = [
    ("--database", "database_password"),
    ("--redis", "redis_password"),
    ("--jwt", "jwt_secret"),
    ("--api-key", "api_key"),
    ("--encryption-key", "encryption_key"),
];

/// How a secret's new value comes about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Generated and stored; the application reads it at its next start. `length` characters
    /// of the URL-safe base64 alphabet (they may end up in URLs and headers).
    Key { length: usize },
    /// Generated like a key, set and tested in `system` before it is promoted.
    Password { system: System, length: usize },
    /// Refused: why, and what to do instead.
    Refused { why: String, hint: String },
}

/// A secret whose rotation the config does not allow ([`Rotation::Refused`]), as `rotate`
/// refuses it and `--dry-run` says it would.
pub fn refusal(secret: &RequiredSecret, why: &str, hint: String) -> Problem {
    Problem::new(
        &secret.name,
        format!("refusing to rotate {}: it {why}", secret.name),
    )
    .with_hint(hint)
}

/// Why a backend without pending slots (env) cannot rotate at all, and what to configure.
pub fn no_pending_slot(source: Source) -> Problem {
    Problem::new(
        format!("backend {source}"),
        "has no pending slot to rotate through: a value written straight into a .env file or the environment could be lost in a crash, and nothing guards against a concurrent writer",
    )
    .with_hint("configure a backend that can rotate: secrets_manager.backend (or --backend) vault, aws_secrets_manager or azure_key_vault; or store a new value by hand: cronos-secrets generate")
}

/// The systems that check a rotated password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Database,
    Redis,
}

impl System {
    /// `rotation.database` / `rotation.redis`.
    pub fn key(self) -> &'static str {
        match self {
            System::Database => "database",
            System::Redis => "redis",
        }
    }
}

/// `secrets.token_urlsafe(32)`: 256 bits, the guide's API-key recipe.
const KEY_LENGTH: usize = 43;
/// `secrets.token_urlsafe(64)`: the guide's JWT-secret recipe.
const JWT_LENGTH: usize = 86;

pub fn rotation_of(secret: &RequiredSecret, settings: &RotationSettings) -> Rotation {
    let length = |length: usize| length.max(secret.min_length);
    let key = |size: usize| Rotation::Key {
        length: length(size),
    };
    match secret.name.as_str() {
        "jwt_secret" => key(JWT_LENGTH),
        "api_key" | "encryption_key" => key(KEY_LENGTH),
        "database_password" | "redis_password" => {
            let (system, configured, what) = if secret.name == "redis_password" {
                (System::Redis, settings.redis.is_some(), "Redis")
            } else {
                (System::Database, settings.database.is_some(), "the database")
            };
            if configured {
                return Rotation::Password {
                    system,
                    length: length(KEY_LENGTH),
                };
            }
            Rotation::Refused {
                why: format!(
                    "is a password {what} checks, and the config has no rotation.{} section saying where {what} is: changing it only in the store would lock the application out",
                    system.key()
                ),
                hint: format!(
                    "add rotation.{} to the config (the README's Rotation section), or rotate the others by name (--jwt --api-key --encryption-key)",
                    system.key()
                ),
            }
        }
        _ => Rotation::Refused {
            why: "has no known rotation: cronos-secrets rotates the guide's JWT secret, API key and encryption key, and cannot tell whether another system checks this value".to_string(),
            hint: "store a new value with: cronos-secrets generate | cronos-secrets set NAME, after changing it where it is checked".to_string(),
        },
    }
}

/// The selected secrets, in table order, each once. `names` holds the guide's flags turned
/// into table names, plus names given as arguments.
pub fn select<'a>(
    table: &'a [RequiredSecret],
    all: bool,
    names: &[String],
) -> Result<Vec<&'a RequiredSecret>, Problem> {
    for name in names {
        if !table.iter().any(|secret| &secret.name == name) {
            let known: Vec<&str> = table.iter().map(|secret| secret.name.as_str()).collect();
            return Err(
                Problem::new(name, "is not a secret of the required-secrets table")
                    .with_hint(format!("choose one of: {}", known.join(", "))),
            );
        }
    }
    Ok(table
        .iter()
        .filter(|secret| all || names.contains(&secret.name))
        .collect())
}

/// Where a secret stands against its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub updated: Option<SystemTime>,
    pub every: Option<Duration>,
}

impl Schedule {
    pub fn due(&self) -> Option<SystemTime> {
        Some(self.updated? + self.every?)
    }

    /// Past its due date (a secret with no schedule is never overdue).
    pub fn overdue(&self, now: SystemTime) -> bool {
        self.due().is_some_and(|due| due <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::cronos_ai_defaults;

    #[test]
    fn keys_rotate_and_passwords_are_refused() {
        let table = cronos_ai_defaults();
        let none = RotationSettings::default();
        let rotations: Vec<_> = table
            .iter()
            .map(|secret| rotation_of(secret, &none))
            .collect();
        assert!(matches!(rotations[0], Rotation::Refused { .. }));
        assert!(matches!(rotations[1], Rotation::Refused { .. }));
        assert_eq!(rotations[2], Rotation::Key { length: 86 });
        assert_eq!(rotations[3], Rotation::Key { length: 43 });
        assert_eq!(rotations[4], Rotation::Key { length: 43 });
    }

    #[test]
    fn passwords_rotate_where_the_config_says_their_system_is() {
        let table = cronos_ai_defaults();
        let text = "rotation:\n  redis:\n    admin_password: env://REDIS_ADMIN\n";
        let env = crate::env_vars::Environment::from_vars([]);
        let config =
            crate::config::from_text(&crate::config::ConfigOrigin::BuiltIn, text, &env).unwrap();
        assert!(matches!(
            rotation_of(&table[0], &config.rotation),
            Rotation::Refused { .. }
        ));
        assert_eq!(
            rotation_of(&table[1], &config.rotation),
            Rotation::Password {
                system: System::Redis,
                length: 43
            }
        );
    }

    #[test]
    fn selection_keeps_table_order_and_names_unknown_secrets() {
        let table = cronos_ai_defaults();
        let picked = select(&table, false, &["api_key".into(), "jwt_secret".into()]).unwrap();
        let names: Vec<_> = picked.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["jwt_secret", "api_key"]);
        assert_eq!(select(&table, true, &[]).unwrap().len(), 5);
        let error = select(&table, false, &["jwt".into()]).unwrap_err();
        assert!(error.to_string().contains("jwt_secret"), "{error}");
    }

    #[test]
    fn overdue_from_the_last_change() {
        let day = Duration::from_secs(86_400);
        let now = SystemTime::UNIX_EPOCH + 100 * day;
        let schedule = |age_days: u32| Schedule {
            updated: Some(now - day * age_days),
            every: Some(90 * day),
        };
        assert!(!schedule(89).overdue(now));
        assert!(schedule(90).overdue(now));
        let unscheduled = Schedule {
            updated: Some(now - 400 * day),
            every: None,
        };
        assert!(!unscheduled.overdue(now));
    }
}
