//! The guide's seven kinds of leaked secret ("What Gets Checked"); every finding names one.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    HardcodedPassword,
    ApiKeyOrToken,
    AwsCredentials,
    /// Chosen over `HardcodedPassword` whenever the password sits inside a URL or connection
    /// string, so that one leak always gets the same category.
    ConnectionString,
    JwtSecret,
    EncryptionKey,
    PrivateKey,
}

impl Category {
    pub fn id(self) -> &'static str {
        match self {
            Category::HardcodedPassword => "hardcoded-password",
            Category::ApiKeyOrToken => "api-key-or-token",
            Category::AwsCredentials => "aws-credentials",
            Category::ConnectionString => "connection-string",
            Category::JwtSecret => "jwt-secret",
            Category::EncryptionKey => "encryption-key",
            Category::PrivateKey => "private-key",
        }
    }

    /// The guide's words, for people.
    pub fn title(self) -> &'static str {
        match self {
            Category::HardcodedPassword => "hardcoded password",
            Category::ApiKeyOrToken => "API key or token",
            Category::AwsCredentials => "AWS credentials",
            Category::ConnectionString => "database connection string with a password",
            Category::JwtSecret => "JWT secret",
            Category::EncryptionKey => "encryption key",
            Category::PrivateKey => "private key",
        }
    }

    /// The category a secret's name suggests (`JWT_SECRET`, `database-password`, `api_key`).
    pub fn of_name(name: &str) -> Category {
        let lower = name.to_ascii_lowercase();
        let has = |word: &str| lower.contains(word);
        if has("jwt") {
            Category::JwtSecret
        } else if has("aws") {
            Category::AwsCredentials
        } else if has("private_key") || has("private-key") || has("privatekey") {
            Category::PrivateKey
        } else if has("encrypt")
            || has("cipher")
            || has("aes")
            || has("fernet")
            || has("master_key")
        {
            Category::EncryptionKey
        } else if has("pass") || has("pwd") {
            Category::HardcodedPassword
        } else {
            Category::ApiKeyOrToken
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pick_one_category() {
        assert_eq!(
            Category::of_name("CRONOS_AI_DB_PASSWORD"),
            Category::HardcodedPassword
        );
        assert_eq!(Category::of_name("jwt_secret"), Category::JwtSecret);
        assert_eq!(
            Category::of_name("CRONOS_AI_ENCRYPTION_KEY"),
            Category::EncryptionKey
        );
        assert_eq!(
            Category::of_name("AWS_SECRET_ACCESS_KEY"),
            Category::AwsCredentials
        );
        assert_eq!(Category::of_name("api-key"), Category::ApiKeyOrToken);
        assert_eq!(Category::of_name("tls_private_key"), Category::PrivateKey);
    }
}
