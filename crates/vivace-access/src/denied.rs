//! Denials, worded as Trino's `AccessDeniedException`s so that clients and BI tools show them
//! as they would Trino's.

use std::fmt;

use vivace_common::ErrorCode;

use crate::names::{SchemaName, TableName};

/// A denied check: `PERMISSION_DENIED` with the message `Access Denied: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDenied {
    /// What was denied, without the `Access Denied: ` prefix.
    reason: String,
}

impl AccessDenied {
    fn new(reason: String) -> Self {
        AccessDenied { reason }
    }

    /// What was denied, without the prefix.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Trino's `PERMISSION_DENIED`.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::PERMISSION_DENIED
    }

    pub(crate) fn select_table(table: &TableName) -> Self {
        Self::new(format!("Cannot select from table {table}"))
    }

    pub(crate) fn insert_table(table: &TableName) -> Self {
        Self::new(format!("Cannot insert into table {table}"))
    }

    pub(crate) fn delete_table(table: &TableName) -> Self {
        Self::new(format!("Cannot delete from table {table}"))
    }

    pub(crate) fn update_table_columns(table: &TableName, columns: &[&str]) -> Self {
        Self::new(format!(
            "Cannot update columns [{}] in table {table}",
            columns.join(", ")
        ))
    }

    pub(crate) fn create_table(table: &TableName) -> Self {
        Self::new(format!("Cannot create table {table}"))
    }

    pub(crate) fn drop_table(table: &TableName) -> Self {
        Self::new(format!("Cannot drop table {table}"))
    }

    pub(crate) fn create_view(view: &TableName) -> Self {
        Self::new(format!("Cannot create view {view}"))
    }

    pub(crate) fn drop_view(view: &TableName) -> Self {
        Self::new(format!("Cannot drop view {view}"))
    }

    pub(crate) fn show_create_table(table: &TableName) -> Self {
        Self::new(format!("Cannot show create table for {table}"))
    }

    pub(crate) fn create_schema(schema: &SchemaName) -> Self {
        Self::new(format!("Cannot create schema {schema}"))
    }

    pub(crate) fn drop_schema(schema: &SchemaName) -> Self {
        Self::new(format!("Cannot drop schema {schema}"))
    }

    pub(crate) fn show_schemas() -> Self {
        Self::new("Cannot show schemas".to_string())
    }

    pub(crate) fn show_tables(schema: &SchemaName) -> Self {
        Self::new(format!("Cannot show tables of schema {schema}"))
    }

    pub(crate) fn show_columns(table: &TableName) -> Self {
        Self::new(format!("Cannot show columns of table {table}"))
    }

    pub(crate) fn catalog_access(catalog: &str) -> Self {
        Self::new(format!("Cannot access catalog {catalog}"))
    }

    pub(crate) fn set_system_session_property(property: &str) -> Self {
        Self::new(format!("Cannot set system session property {property}"))
    }

    pub(crate) fn set_catalog_session_property(property: &str) -> Self {
        Self::new(format!("Cannot set catalog session property {property}"))
    }

    pub(crate) fn impersonate_user(user: &str, new_user: &str) -> Self {
        Self::new(format!("User {user} cannot impersonate user {new_user}"))
    }

    pub(crate) fn view_query() -> Self {
        Self::new("Cannot view query".to_string())
    }

    pub(crate) fn kill_query() -> Self {
        Self::new("Cannot kill query".to_string())
    }

    pub(crate) fn execute_query() -> Self {
        Self::new("Cannot execute query".to_string())
    }

    pub(crate) fn read_system_information() -> Self {
        Self::new("Cannot read system information".to_string())
    }

    pub(crate) fn write_system_information() -> Self {
        Self::new("Cannot write system information".to_string())
    }

    pub(crate) fn execute_function(function: &str) -> Self {
        Self::new(format!("Cannot execute function {function}"))
    }

    pub(crate) fn execute_procedure(procedure: &str) -> Self {
        Self::new(format!("Cannot execute procedure {procedure}"))
    }
}

impl fmt::Display for AccessDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Access Denied: {}", self.reason)
    }
}

impl std::error::Error for AccessDenied {}
