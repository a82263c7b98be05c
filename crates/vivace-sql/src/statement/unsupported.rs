//! Statements Trino accepts that Vivace does not run, recognised by their opening keywords so
//! each gets a `NOT_SUPPORTED` error naming it instead of a parser's complaint.

use vivace_common::ErrorCode;

use super::Tokens;
use crate::TrinoError;

/// Opening keywords and what the error calls the statement. Longer openings come before the
/// shorter ones they extend.
const UNSUPPORTED: &[(&[&str], &str)] = &[
    (&["GRANT"], "GRANT"),
    (&["REVOKE"], "REVOKE"),
    (&["DENY"], "DENY"),
    (&["CREATE", "ROLE"], "CREATE ROLE"),
    (&["DROP", "ROLE"], "DROP ROLE"),
    (&["SHOW", "ROLES"], "SHOW ROLES"),
    (&["SHOW", "CURRENT", "ROLES"], "SHOW CURRENT ROLES"),
    (&["SHOW", "ROLE", "GRANTS"], "SHOW ROLE GRANTS"),
    (&["SHOW", "GRANTS"], "SHOW GRANTS"),
    (&["SHOW", "BRANCHES"], "SHOW BRANCHES"),
    (
        &["CREATE", "OR", "REPLACE", "MATERIALIZED", "VIEW"],
        "CREATE MATERIALIZED VIEW",
    ),
    (
        &["CREATE", "MATERIALIZED", "VIEW"],
        "CREATE MATERIALIZED VIEW",
    ),
    (&["DROP", "MATERIALIZED", "VIEW"], "DROP MATERIALIZED VIEW"),
    (
        &["REFRESH", "MATERIALIZED", "VIEW"],
        "REFRESH MATERIALIZED VIEW",
    ),
    (&["CREATE", "OR", "REPLACE", "FUNCTION"], "CREATE FUNCTION"),
    (&["CREATE", "FUNCTION"], "CREATE FUNCTION"),
    (&["DROP", "FUNCTION"], "DROP FUNCTION"),
    (&["CREATE", "CATALOG"], "CREATE CATALOG"),
    (&["DROP", "CATALOG"], "DROP CATALOG"),
    (&["CREATE", "BRANCH"], "CREATE BRANCH"),
    (&["DROP", "BRANCH"], "DROP BRANCH"),
    (&["ANALYZE"], "ANALYZE"),
    (&["MERGE"], "MERGE"),
    (&["UPDATE"], "UPDATE"),
    (&["DELETE"], "DELETE"),
    (&["TRUNCATE"], "TRUNCATE TABLE"),
    (
        &["SET", "SESSION", "AUTHORIZATION"],
        "SET SESSION AUTHORIZATION",
    ),
    (
        &["RESET", "SESSION", "AUTHORIZATION"],
        "RESET SESSION AUTHORIZATION",
    ),
    (&["SET", "AUTHORIZATION"], "SET AUTHORIZATION"),
];

/// The `NOT_SUPPORTED` error for a statement that opens like one Vivace does not run.
pub(super) fn unsupported_statement(t: &mut Tokens<'_>) -> Option<TrinoError> {
    let start = t.pos;
    let location = t.location();
    UNSUPPORTED.iter().find_map(|(opening, name)| {
        let matched = t.keywords(opening);
        t.pos = start;
        matched.then(|| {
            TrinoError::at(
                ErrorCode::NOT_SUPPORTED,
                format!("{name} is not supported"),
                location,
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use crate::TrinoError;
    use vivace_common::ErrorCode;

    fn message(sql: &str) -> String {
        match parse(sql) {
            Err(e) => {
                assert!(
                    matches!(&e, TrinoError { code, .. } if *code == ErrorCode::NOT_SUPPORTED),
                    "{sql}: {e}"
                );
                e.to_string()
            }
            Ok(statement) => panic!("{sql} parsed as {statement:?}"),
        }
    }

    #[test]
    fn names_the_statement() {
        assert!(message("GRANT SELECT ON t TO alice").contains("GRANT is not supported"));
        assert!(
            message("create or replace materialized view v as select 1")
                .contains("CREATE MATERIALIZED VIEW is not supported")
        );
        assert!(message("SHOW CURRENT ROLES").contains("SHOW CURRENT ROLES is not supported"));
        assert!(message("delete from t where x = 1").contains("DELETE is not supported"));
    }
}
