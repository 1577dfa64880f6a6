//! The required-secrets table: the guide's five CRONOS AI secrets, or a config's `secrets:` map.

use std::time::Duration;

/// One secret the program needs before it may start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredSecret {
    /// The name in the backend (`database_password`), used by `secret://NAME`.
    pub name: String,
    /// The canonical variable the program sees (`CRONOS_AI_DB_PASSWORD`).
    pub env: String,
    /// Other variables accepted as the source (`DATABASE_PASSWORD`).
    pub aliases: Vec<String>,
    /// Minimum length in characters.
    pub min_length: usize,
    pub rotate_every: Option<Duration>,
    /// After a rotation, how long launches also get the replaced value (`<ENV>_PREVIOUS`).
    pub previous: Previous,
    /// Human name for messages: "Database password".
    pub description: String,
    pub optional: bool,
}

/// Whether launches get a rotated secret's previous value beside the current one, so that the
/// application accepts what was signed or encrypted with either during a grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Previous {
    Never,
    /// For this long after the rotation (the current version's date).
    For(Duration),
    /// Until `rotate --retire` (the encryption key: data stays encrypted with the old key
    /// until the operator re-encrypts it).
    UntilRetired,
}

/// The default grace period of a rotated JWT secret or API key: longer than the usual token
/// lifetimes (access tokens of minutes to hours, refresh tokens of days).
pub const DEFAULT_PREVIOUS_GRACE: Duration = Duration::from_secs(7 * 86_400);

impl Previous {
    /// The guide's keys keep their previous value; passwords do not (a database has one
    /// password per role, and alternating users are the database steps' business).
    pub fn default_for(name: &str) -> Previous {
        match name {
            "jwt_secret" | "api_key" => Previous::For(DEFAULT_PREVIOUS_GRACE),
            "encryption_key" => Previous::UntilRetired,
            _ => Previous::Never,
        }
    }
}

impl RequiredSecret {
    /// The env name and then the aliases, in the order they are tried.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.env.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// "database_password" → "Database password", for secrets declared without a description.
pub fn describe_name(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The table from the guide's "Required Secrets" section.
pub fn cronos_ai_defaults() -> Vec<RequiredSecret> {
    const DAY: u64 = 86_400;
    let secret =
        |name: &str, env: &str, aliases: &[&str], min_length, days: u64, description: &str| {
            RequiredSecret {
                name: name.to_string(),
                env: env.to_string(),
                aliases: aliases.iter().map(|alias| alias.to_string()).collect(),
                min_length,
                rotate_every: Some(Duration::from_secs(days * DAY)),
                previous: Previous::default_for(name),
                description: description.to_string(),
                optional: false,
            }
        };
    vec![
        secret(
            "database_password",
            "CRONOS_AI_DB_PASSWORD",
            &["DATABASE_PASSWORD"],
            16,
            90,
            "Database password",
        ),
        secret(
            "redis_password",
            "CRONOS_AI_REDIS_PASSWORD",
            &[],
            16,
            90,
            "Redis password",
        ),
        secret(
            "jwt_secret",
            "CRONOS_AI_JWT_SECRET",
            &["JWT_SECRET"],
            32,
            180,
            "JWT secret",
        ),
        secret(
            "encryption_key",
            "CRONOS_AI_ENCRYPTION_KEY",
            &[],
            32,
            365,
            "Encryption key",
        ),
        secret("api_key", "CRONOS_AI_API_KEY", &[], 32, 90, "API key"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_guide() {
        let table = cronos_ai_defaults();
        let names: Vec<_> = table
            .iter()
            .map(|s| (s.env.as_str(), s.min_length))
            .collect();
        assert_eq!(
            names,
            [
                ("CRONOS_AI_DB_PASSWORD", 16),
                ("CRONOS_AI_REDIS_PASSWORD", 16),
                ("CRONOS_AI_JWT_SECRET", 32),
                ("CRONOS_AI_ENCRYPTION_KEY", 32),
                ("CRONOS_AI_API_KEY", 32),
            ]
        );
        let jwt = &table[2];
        assert_eq!(
            jwt.variables().collect::<Vec<_>>(),
            ["CRONOS_AI_JWT_SECRET", "JWT_SECRET"]
        );
        assert_eq!(jwt.rotate_every, Some(Duration::from_secs(180 * 86_400)));
    }

    #[test]
    fn describes_names_for_messages() {
        assert_eq!(describe_name("database_password"), "Database password");
        assert_eq!(describe_name(""), "");
    }
}
