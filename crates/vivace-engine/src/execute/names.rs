//! Resolving catalog, schema and table names against the session and the catalogs, and
//! checking every name a statement uses before planning, so errors carry Trino's codes.

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    ObjectName, ObjectNamePart, ObjectType, SchemaName, Statement as SqlStatement, TableObject,
};
use vivace_common::ErrorCode;

use crate::error::{EngineError, EngineResult, SqlLocation, find_word};

use super::query::with_location;
use super::{Execution, Parsed};

impl Execution {
    pub(super) fn catalog_or_session(&self, catalog: Option<String>) -> EngineResult<String> {
        let catalog = catalog
            .or_else(|| self.session().catalog.clone())
            .ok_or_else(|| {
                EngineError::new(
                    ErrorCode::MISSING_CATALOG_NAME,
                    "Catalog must be specified when session catalog is not set",
                )
            })?;
        if self.engine.catalogs.get(&catalog).is_none() {
            return Err(EngineError::new(
                ErrorCode::CATALOG_NOT_FOUND,
                format!("Catalog '{catalog}' does not exist"),
            ));
        }
        Ok(catalog)
    }

    pub(super) fn require_schema(&self, catalog: &str, schema: &str) -> EngineResult<()> {
        let exists = self
            .engine
            .catalogs
            .get(catalog)
            .is_some_and(|c| c.provider.schema(schema).is_some());
        if exists {
            Ok(())
        } else {
            Err(EngineError::new(
                ErrorCode::SCHEMA_NOT_FOUND,
                format!("Schema '{schema}' does not exist"),
            ))
        }
    }

    /// `[catalog.]schema` or the session's, checked to exist.
    pub(super) fn resolve_schema(&self, parts: &[String]) -> EngineResult<(String, String)> {
        let (catalog, schema) = match parts {
            [] => {
                let schema = self.session_schema()?;
                (self.catalog_or_session(None)?, schema)
            }
            _ => self.schema_name(parts)?.ok_or_else(|| {
                EngineError::new(
                    ErrorCode::SYNTAX_ERROR,
                    format!("Too many dots in schema name: {}", parts.join(".")),
                )
            })?,
        };
        self.require_schema(&catalog, &schema)?;
        Ok((catalog, schema))
    }

    /// The session's schema, or Trino's error when the session has none.
    fn session_schema(&self) -> EngineResult<String> {
        self.session().schema.clone().ok_or_else(|| {
            EngineError::new(
                ErrorCode::MISSING_SCHEMA_NAME,
                "Schema must be specified when session schema is not set",
            )
        })
    }

    /// `[catalog.]schema` with the session's catalog filled in; `None` for any other number of
    /// parts.
    fn schema_name(&self, parts: &[String]) -> EngineResult<Option<(String, String)>> {
        Ok(match parts {
            [schema] => Some((self.catalog_or_session(None)?, schema.clone())),
            [catalog, schema] => Some((
                self.catalog_or_session(Some(catalog.clone()))?,
                schema.clone(),
            )),
            _ => None,
        })
    }

    /// A table name completed from the session, without checking that it exists.
    pub(super) fn qualify(&self, parts: &[String]) -> EngineResult<(String, String, String)> {
        match parts {
            [table] => {
                let schema = self.session_schema()?;
                Ok((self.catalog_or_session(None)?, schema, table.clone()))
            }
            [schema, table] => Ok((
                self.catalog_or_session(None)?,
                schema.clone(),
                table.clone(),
            )),
            [catalog, schema, table] => Ok((
                self.catalog_or_session(Some(catalog.clone()))?,
                schema.clone(),
                table.clone(),
            )),
            _ => Err(EngineError::new(
                ErrorCode::SYNTAX_ERROR,
                format!("Too many dots in table name: {}", parts.join(".")),
            )),
        }
    }

    pub(super) fn table_exists(&self, catalog: &str, schema: &str, table: &str) -> bool {
        self.engine
            .catalogs
            .get(catalog)
            .and_then(|c| c.provider.schema(schema))
            .is_some_and(|s| s.table_exist(table))
    }

    /// A table name completed and checked to exist.
    pub(super) fn resolve_table(
        &self,
        parts: &[String],
        location: Option<SqlLocation>,
    ) -> EngineResult<(String, String, String)> {
        let (catalog, schema, table) = self.qualify(parts)?;
        self.require_schema(&catalog, &schema)
            .map_err(|e| with_location(e, location))?;
        if !self.table_exists(&catalog, &schema, &table) {
            return Err(EngineError::at(
                ErrorCode::TABLE_NOT_FOUND,
                format!("Table '{catalog}.{schema}.{table}' does not exist"),
                location,
            ));
        }
        Ok((catalog, schema, table))
    }

    /// Checks the names a statement uses, so errors carry Trino's codes and messages.
    pub(super) fn check_names(&self, parsed: &Parsed, sql: &str) -> EngineResult<()> {
        let statement = &parsed.statement;
        let DfStatement::Statement(inner) = statement else {
            return Ok(());
        };
        let mut skip: Option<(String, String, String)> = None;
        match inner.as_ref() {
            SqlStatement::CreateTable(create) => {
                let parts = object_name_parts(&create.name);
                let (catalog, schema, table) = self.qualify(&parts)?;
                self.require_schema(&catalog, &schema)?;
                if !create.if_not_exists
                    && !create.or_replace
                    && self.table_exists(&catalog, &schema, &table)
                {
                    return Err(EngineError::at(
                        ErrorCode::TABLE_ALREADY_EXISTS,
                        format!("Table '{catalog}.{schema}.{table}' already exists"),
                        find_word(sql, &table),
                    ));
                }
                skip = Some((catalog, schema, table));
            }
            SqlStatement::CreateSchema {
                schema_name,
                if_not_exists,
                ..
            } => {
                let name = match schema_name {
                    SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => {
                        object_name_parts(n)
                    }
                    SchemaName::UnnamedAuthorization(_) => vec![],
                };
                let (catalog, schema) = self.schema_name(&name)?.ok_or_else(|| {
                    EngineError::new(
                        ErrorCode::SYNTAX_ERROR,
                        "CREATE SCHEMA takes [catalog.]schema",
                    )
                })?;
                if !if_not_exists && self.require_schema(&catalog, &schema).is_ok() {
                    return Err(EngineError::new(
                        ErrorCode::SCHEMA_ALREADY_EXISTS,
                        format!("Schema '{catalog}.{schema}' already exists"),
                    ));
                }
                return Ok(());
            }
            SqlStatement::Drop {
                object_type,
                if_exists,
                names,
                cascade,
                ..
            } => {
                for name in names {
                    let parts = object_name_parts(name);
                    match object_type {
                        ObjectType::Table | ObjectType::View => {
                            let (catalog, schema, table) = self.qualify(&parts)?;
                            if !if_exists && !self.table_exists(&catalog, &schema, &table) {
                                let kind = if *object_type == ObjectType::View {
                                    "View"
                                } else {
                                    "Table"
                                };
                                return Err(EngineError::at(
                                    ErrorCode::TABLE_NOT_FOUND,
                                    format!("{kind} '{catalog}.{schema}.{table}' does not exist"),
                                    find_word(sql, &table),
                                ));
                            }
                        }
                        ObjectType::Schema => {
                            let (catalog, schema) = match parts.as_slice() {
                                [schema] => (self.catalog_or_session(None)?, schema.clone()),
                                [catalog, schema] => (
                                    self.catalog_or_session(Some(catalog.clone()))?,
                                    schema.clone(),
                                ),
                                _ => continue,
                            };
                            let provider = self
                                .engine
                                .catalogs
                                .get(&catalog)
                                .and_then(|c| c.provider.schema(&schema));
                            match provider {
                                None if !if_exists => {
                                    return Err(EngineError::new(
                                        ErrorCode::SCHEMA_NOT_FOUND,
                                        format!("Schema '{catalog}.{schema}' does not exist"),
                                    ));
                                }
                                Some(p) if !cascade && !p.table_names().is_empty() => {
                                    return Err(EngineError::new(
                                        ErrorCode::SCHEMA_NOT_EMPTY,
                                        format!(
                                            "Cannot drop non-empty schema '{catalog}.{schema}'"
                                        ),
                                    ));
                                }
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
                return Ok(());
            }
            SqlStatement::Insert(insert) => {
                if let TableObject::TableName(name) = &insert.table {
                    let parts = object_name_parts(name);
                    self.resolve_table(&parts, parsed.relations.location_of(&parts))?;
                }
            }
            _ => {}
        }
        let state = self.engine.contexts.base_state();
        for reference in state.resolve_table_references(statement)? {
            let mut parts: Vec<String> = Vec::with_capacity(3);
            if let Some(c) = reference.catalog() {
                parts.push(c.to_string());
            }
            if let Some(s) = reference.schema() {
                parts.push(s.to_string());
            }
            parts.push(reference.table().to_string());
            let qualified = self.qualify(&parts)?;
            if skip.as_ref() == Some(&qualified) {
                continue;
            }
            let location = parsed
                .relations
                .location_of(&parts)
                .or_else(|| parts.first().and_then(|p| find_word(sql, p)));
            self.resolve_table(&parts, location)?;
        }
        Ok(())
    }
}

pub(super) fn object_name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => {
                if ident.quote_style.is_some() {
                    ident.value.clone()
                } else {
                    ident.value.to_lowercase()
                }
            }
            other => other.to_string(),
        })
        .collect()
}
