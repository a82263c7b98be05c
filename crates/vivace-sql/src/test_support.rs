//! Helpers shared by this crate's unit tests.

use sqlparser::ast::Statement;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

/// The one statement of `sql`, parsed as sqlparser's generic dialect reads it.
pub(crate) fn parse_one(sql: &str) -> Statement {
    Parser::parse_sql(&GenericDialect {}, sql)
        .unwrap()
        .remove(0)
}
