//! Access control: who may see and do what.
//!
//! This crate holds Trino's file-based access control (`access-control.name=file`): the JSON
//! rules file parsed and validated into typed rules ([`FileRules`]), and every check the
//! engine and the server ask of it (catalog access, table privileges, visibility of catalogs,
//! schemas, tables and columns, row filters and column masks, session properties, queries,
//! system information, impersonation, functions and procedures), with Trino's semantics and
//! its exact denial messages ([`AccessDenied`]).
//!
//! It knows nothing of SQL planning, HTTP or DataFusion: the engine applies what it answers
//! (filters and masks are returned as SQL text for the engine to plan). It depends only on
//! `vivace-common`.

#![warn(unreachable_pub)]

mod denied;
mod error;
mod evaluate;
mod names;
mod pattern;
mod rules;

pub use denied::AccessDenied;
pub use error::AccessError;
pub use names::{SchemaName, Subject, TableName};
pub use rules::{CatalogAccess, FileRules, PolicyExpression, QueryAccess, TablePrivilege};
