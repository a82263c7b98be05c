//! The Trino SQL front end: what turns statement text into something the engine runs.
//!
//! - [`limits`] measures a statement on its tokens before anything recursive sees it;
//! - [`statement`] recognises session control, `SHOW`, `DESCRIBE`, transactions and Trino DDL on
//!   the token stream, and binds `EXECUTE` parameters;
//! - [`trino_sql`] rewrites Trino-only syntax (typed literals, `CAST` to Trino types, ...) so that
//!   sqlparser reads it, and [`dialect`] is the dialect it is then parsed with;
//! - [`rewrite`] and its function rewrites turn the parsed AST to Trino's semantics;
//! - [`parse`] puts those together for the SQL the planner runs: its output, [`ParsedSql`], is
//!   a typed statement, never text to parse again.
//!
//! It must not depend on DataFusion, the engine or any server crate: only on sqlparser,
//! `vivace-common` and `vivace-protocol` (for Trino's type names). That keeps it quick to build
//! and to fuzz (`fuzz/`), and it is what lets the function library implement the internal
//! functions named in [`internal_functions`] without a cycle.

pub mod dialect;
mod function_rewrite;
mod hidden_columns;
pub mod internal_functions;
pub mod like;
pub mod limits;
pub mod literals;
pub mod parse;
pub mod quote;
pub mod rewrite;
pub mod statement;
#[cfg(test)]
mod test_support;
pub mod trino_sql;

pub use dialect::TrinoDialect;
pub use hidden_columns::hidden_columns;
pub use like::LikeMatcher;
pub use limits::SqlLimits;
pub use parse::{ParsedSql, parse_sql};
pub use statement::Statement;
pub use vivace_common::{SqlLocation, TrinoError};

/// Result of the front end's operations; every error carries its Trino code.
pub type SqlResult<T> = Result<T, TrinoError>;
