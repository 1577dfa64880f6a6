//! `rotate --database --setup`: the roles of `strategy: alternating`.

use super::super::external::{ExternalSystem, StepError};
use super::errors::Doing;
use super::{Postgres, sql};
use crate::config::DatabaseSettings;
use crate::problem::Problem;

impl Postgres {
    /// The alternating strategy's roles: the group, both login roles in it, each session
    /// acting as the group. Safe to run again; one line per statement run, never a value.
    pub async fn setup(&self) -> Result<Vec<String>, StepError> {
        let settings = &self.settings;
        let names = [
            &settings.role,
            &settings.alternate_role,
            &settings.group_role,
        ];
        if names[0] == names[1] || names[2] == names[0] || names[2] == names[1] {
            return Err(StepError::Failed(
                Problem::new(
                    self.describe(),
                    "role, alternate_role and group_role must be three different roles",
                )
                .with_hint("set rotation.database.alternate_role and group_role (default: <role>_b and <role>_group)")
                .to_string(),
            ));
        }
        self.within(async {
            let target = self.target().await?;
            let mut admin = self.admin(&target).await?;
            let existing: Vec<String> = admin
                .query(&sql::existing_roles(&self.settings))
                .await
                .map_err(|error| self.failed(Doing::Statement("reading pg_roles"), error))?
                .into_iter()
                .filter_map(|row| row.into_iter().next().flatten())
                .collect();
            let mut done = Vec::new();
            for statement in sql::setup_statements(&self.settings) {
                if let Some(role) = &statement.creates
                    && existing.contains(role)
                {
                    done.push(format!("role {role} exists (left as it is)"));
                    continue;
                }
                admin
                    .query(&statement.sql)
                    .await
                    // The set-up's SQL holds names only: it may be shown.
                    .map_err(|error| self.failed(Doing::Statement(&statement.sql), error))?;
                done.push(statement.done);
            }
            admin.close().await;
            Ok(done)
        })
        .await
    }
}

/// The set-up as SQL text, for `--dry-run` and the docs (`CREATE ROLE`s are skipped for roles
/// that exist).
pub fn setup_sql(settings: &DatabaseSettings) -> Vec<String> {
    sql::setup_statements(settings)
        .into_iter()
        .map(|statement| match statement.creates {
            Some(_) => format!("{};  -- unless the role exists", statement.sql),
            None => format!("{};", statement.sql),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_sql_quotes_every_name() {
        let settings = crate::config::DatabaseSettings {
            host: "localhost".into(),
            port: 5432,
            dbname: "my db".into(),
            admin_user: "postgres".into(),
            admin_password: crate::reference::Reference::parse(
                "env://ADMIN",
                std::path::Path::new("."),
            )
            .expect("a reference"),
            role: "app".into(),
            strategy: crate::config::Strategy::Alternating,
            alternate_role: "app_b".into(),
            group_role: "App\"Group".into(),
            sslmode: crate::config::SslMode::Prefer,
            sslrootcert: None,
        };
        assert_eq!(
            setup_sql(&settings),
            [
                "CREATE ROLE \"App\"\"Group\" NOLOGIN;  -- unless the role exists",
                "CREATE ROLE \"app\" LOGIN;  -- unless the role exists",
                "CREATE ROLE \"app_b\" LOGIN;  -- unless the role exists",
                "GRANT \"App\"\"Group\" TO \"app\", \"app_b\";",
                "ALTER ROLE \"app\" SET role = 'App\"Group';",
                "ALTER ROLE \"app_b\" SET role = 'App\"Group';",
                "REASSIGN OWNED BY \"app\", \"app_b\" TO \"App\"\"Group\";",
                "GRANT CONNECT ON DATABASE \"my db\" TO \"App\"\"Group\";",
            ]
        );
    }
}
