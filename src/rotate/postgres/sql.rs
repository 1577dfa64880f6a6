//! The statements `rotate --database` sends, quoted here and nowhere else. No password is ever
//! in them: `ALTER ROLE` carries a SCRAM verifier computed on our side.

use crate::config::DatabaseSettings;

/// `"name"`, inner double quotes doubled: any role or database name, case kept.
pub fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, quotes doubled; with a backslash, an `E''` string with backslashes doubled, so
/// the text is the same whatever `standard_conforming_strings` says (as `quote_literal`).
pub fn literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

/// `ALTER ROLE … PASSWORD '<verifier>'`; None if `verifier` holds anything but the characters
/// of a SCRAM verifier (base64, `$`, `:` and the mechanism name), which cannot happen.
pub fn set_verifier(role: &str, verifier: &str) -> Option<String> {
    let plain = verifier
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || b"+/=$:-".contains(&byte));
    (plain && verifier.starts_with("SCRAM-SHA-256$"))
        .then(|| format!("ALTER ROLE {} PASSWORD '{verifier}'", identifier(role)))
}

/// One statement of the alternating set-up and the line that reports it.
pub struct SetupStatement {
    pub sql: String,
    pub done: String,
    /// Run only when this role does not exist yet (a `CREATE ROLE`).
    pub creates: Option<String>,
}

/// The alternating strategy's set-up, in order. Every statement but the `CREATE ROLE`s can run
/// again without harm; those are skipped for roles that exist (so an existing role's password
/// and attributes are left alone).
pub fn setup_statements(settings: &DatabaseSettings) -> Vec<SetupStatement> {
    let group = &settings.group_role;
    let logins = [&settings.role, &settings.alternate_role];
    let both = format!("{}, {}", identifier(logins[0]), identifier(logins[1]));
    let mut statements = vec![SetupStatement {
        sql: format!("CREATE ROLE {} NOLOGIN", identifier(group)),
        done: format!("created group role {group} (NOLOGIN)"),
        creates: Some(group.clone()),
    }];
    for login in logins {
        statements.push(SetupStatement {
            // No password: the first rotation of this role sets it.
            sql: format!("CREATE ROLE {} LOGIN", identifier(login)),
            done: format!("created login role {login} (no password until its first rotation)"),
            creates: Some(login.clone()),
        });
    }
    statements.push(SetupStatement {
        sql: format!("GRANT {} TO {both}", identifier(group)),
        done: format!("{} and {} are members of {group}", logins[0], logins[1]),
        creates: None,
    });
    for login in logins {
        statements.push(SetupStatement {
            // Each session starts as the group, so what either role creates is the group's
            // and the other role, logged in after the next rotation, can still use it.
            sql: format!(
                "ALTER ROLE {} SET role = {}",
                identifier(login),
                literal(group)
            ),
            done: format!("sessions of {login} act as {group} (objects they create are {group}'s)"),
            creates: None,
        });
    }
    statements.push(SetupStatement {
        // Tables the first role made before this set-up (the single strategy's history) are
        // its own: the alternate role could not read them after the first switch. Handing them
        // to the group fixes that once; in this database only (REASSIGN OWNED is per database).
        sql: format!("REASSIGN OWNED BY {both} TO {}", identifier(group)),
        done: format!(
            "objects of {} and {} in {} now belong to {group}",
            logins[0], logins[1], settings.dbname
        ),
        creates: None,
    });
    statements.push(SetupStatement {
        sql: format!(
            "GRANT CONNECT ON DATABASE {} TO {}",
            identifier(&settings.dbname),
            identifier(group)
        ),
        done: format!("{group} may connect to {}", settings.dbname),
        creates: None,
    });
    statements
}

/// Which of the set-up's roles exist already.
pub fn existing_roles(settings: &DatabaseSettings) -> String {
    format!(
        "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname IN ({}, {}, {})",
        literal(&settings.group_role),
        literal(&settings.role),
        literal(&settings.alternate_role)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_texts_are_quoted() {
        assert_eq!(identifier("cronos_user"), "\"cronos_user\"");
        assert_eq!(identifier("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(literal("o'neil"), "'o''neil'");
        assert_eq!(literal("a\\b'"), "E'a\\\\b'''");
    }

    #[test]
    fn only_a_verifier_goes_into_alter_role() {
        let verifier = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy";
        assert_eq!(
            set_verifier("app\"x", verifier).as_deref(),
            Some(
                "ALTER ROLE \"app\"\"x\" PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy'"
            )
        );
        assert_eq!(set_verifier("app", "hunter2'; DROP ROLE app; --"), None);
        assert_eq!(set_verifier("app", "plaintext-password"), None);
    }
}
