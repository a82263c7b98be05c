//! Runs one statement: session control and metadata statements directly, SQL through
//! DataFusion, streaming encoded rows to the query's event channel. DDL that DataFusion cannot
//! plan runs in [`ddl`].

mod ddl;
mod stats;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::datatypes::{Field, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::source_as_provider;
use datafusion::execution::TaskContext;
use datafusion::execution::context::SessionState;
use datafusion::execution::memory_pool::MemoryPool;
use datafusion::logical_expr::{DdlStatement, LogicalPlan, WriteOp};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, execute_stream};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParserBuilder, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{
    ObjectName, ObjectNamePart, ObjectType, SchemaName, Statement as SqlStatement, TableObject,
};
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::warn;
use vivace_common::ErrorCode;
use vivace_protocol::{Column, TrinoType};

use crate::config::RetryPolicy;
use crate::context::QueryContext;
use crate::dialect::TrinoDialect;
use crate::distribution::{DistributedQueryFacts, Distribution};
use crate::encode::{EncodeOptions, encode_batch};
use crate::engine::EngineInner;
use crate::error::{EngineError, EngineResult, SqlLocation, find_word};
use crate::memory::QueryMemoryPool;
use crate::planning;
use crate::procedures::Procedure;
use crate::query::{QueryEvent, QueryHandle, QueryState};
use crate::rewrite;
use crate::session::{Session, SessionUpdate};
use crate::session_properties::{self, QueryLimits};
use crate::show_functions;
use crate::sql_limits::SqlLimits;
use crate::statement::{self, Like, RoleSelection, Statement};
use crate::types::trino_type_of_field;

/// A parsed statement with what was learnt while checking it.
struct Parsed {
    statement: DfStatement,
    relations: rewrite::Relations,
    aliased: Option<Vec<bool>>,
}

/// How deep `EXECUTE` may nest (a prepared statement that executes another).
const MAX_EXECUTE_DEPTH: usize = 4;

/// The result of a statement that finished.
#[derive(Debug, Default)]
pub(crate) struct Completion {
    pub(crate) update_count: Option<i64>,
    pub(crate) session_update: SessionUpdate,
}

/// One statement's execution.
pub(crate) struct Execution {
    engine: Arc<EngineInner>,
    handle: Arc<QueryHandle>,
    sender: mpsc::Sender<QueryEvent>,
    limits: QueryLimits,
    encode: EncodeOptions,
    pool: parking_lot::Mutex<Option<Arc<QueryMemoryPool>>>,
}

impl Execution {
    pub(crate) fn new(
        engine: Arc<EngineInner>,
        handle: Arc<QueryHandle>,
        sender: mpsc::Sender<QueryEvent>,
        limits: QueryLimits,
    ) -> Self {
        let encode = EncodeOptions {
            legacy_datetime: !handle.session().supports_parametric_datetime(),
        };
        Execution {
            engine,
            handle,
            sender,
            limits,
            encode,
            pool: parking_lot::Mutex::new(None),
        }
    }

    fn session(&self) -> &Session {
        self.handle.session()
    }

    /// Runs the query's SQL to completion.
    pub(crate) async fn run(&self) -> EngineResult<Completion> {
        let sql = self.handle.sql().to_string();
        self.statement(&sql, 0).await
    }

    async fn statement(&self, sql: &str, depth: usize) -> EngineResult<Completion> {
        self.engine.config.sql_limits.check(sql)?;
        match statement::parse(sql)? {
            Statement::ShowCatalogs { like } => {
                let sql = format!(
                    "SELECT catalog_name AS \"Catalog\" FROM system.metadata.catalogs{} ORDER BY 1",
                    like_clause("WHERE", "catalog_name", like.as_ref())
                );
                self.sql(&sql, false).await
            }
            Statement::ShowSchemas { catalog, like } => {
                let catalog = self.catalog_or_session(catalog)?;
                let sql = format!(
                    "SELECT schema_name AS \"Schema\" FROM {}.information_schema.schemata{} ORDER BY 1",
                    quote_ident(&catalog),
                    like_clause("WHERE", "schema_name", like.as_ref())
                );
                self.sql(&sql, false).await
            }
            Statement::ShowTables { qualifier, like } => {
                let (catalog, schema) = self.resolve_schema(&qualifier)?;
                let sql = format!(
                    "SELECT table_name AS \"Table\" FROM {}.information_schema.tables WHERE table_schema = {}{} ORDER BY 1",
                    quote_ident(&catalog),
                    quote_literal(&schema),
                    like_clause("AND", "table_name", like.as_ref())
                );
                self.sql(&sql, false).await
            }
            Statement::ShowColumns { table } => {
                let location = table.first().and_then(|p| find_word(sql, p));
                let (catalog, schema, name) = self.resolve_table(&table, location)?;
                let sql = format!(
                    "SELECT column_name AS \"Column\", data_type AS \"Type\", \
                     coalesce(extra_info, '') AS \"Extra\", coalesce(comment, '') AS \"Comment\" \
                     FROM {}.information_schema.columns WHERE table_schema = {} AND table_name = {} \
                     ORDER BY ordinal_position",
                    quote_ident(&catalog),
                    quote_literal(&schema),
                    quote_literal(&name)
                );
                self.sql(&sql, false).await
            }
            Statement::ShowSession { like } => self.show_session(like.as_ref()).await,
            Statement::ShowStats { source } => self.show_stats(&source, sql).await,
            Statement::ShowFunctions { like } => {
                let rows =
                    show_functions::function_rows(self.engine.contexts.base_state(), like.as_ref())
                        .iter()
                        .map(show_functions::FunctionRow::values)
                        .collect();
                let varchar = || TrinoType::VARCHAR;
                self.values(
                    &[
                        ("Function", varchar()),
                        ("Return Type", varchar()),
                        ("Argument Types", varchar()),
                        ("Function Type", varchar()),
                        ("Deterministic", TrinoType::Boolean),
                        ("Description", varchar()),
                    ],
                    rows,
                )
                .await
            }
            Statement::Call {
                procedure,
                arguments,
            } => {
                Procedure::resolve(&procedure, self.session())?.run(
                    &arguments,
                    self.session(),
                    &self.engine.tracker,
                )?;
                self.update("CALL", SessionUpdate::default()).await
            }
            Statement::SetRole { role, catalog } => match role {
                RoleSelection::All | RoleSelection::None => {
                    if let Some(catalog) = catalog {
                        self.catalog_or_session(Some(catalog))?;
                    }
                    self.update("SET ROLE", SessionUpdate::default()).await
                }
                RoleSelection::Role(name) => Err(EngineError::new(
                    ErrorCode::ROLE_NOT_FOUND,
                    format!("Role '{name}' does not exist"),
                )),
            },
            Statement::SetPath { path } => {
                self.update(
                    "SET PATH",
                    SessionUpdate {
                        set_path: Some(path),
                        ..SessionUpdate::default()
                    },
                )
                .await
            }
            Statement::Use { catalog, schema } => {
                let catalog = self.catalog_or_session(catalog)?;
                self.require_schema(&catalog, &schema)?;
                self.update(
                    "USE",
                    SessionUpdate {
                        set_catalog: Some(catalog),
                        set_schema: Some(schema),
                        ..SessionUpdate::default()
                    },
                )
                .await
            }
            Statement::SetSession { name, value } => {
                if name.contains('.') {
                    return Err(EngineError::new(
                        ErrorCode::INVALID_SESSION_PROPERTY,
                        format!("Session property '{name}' does not exist"),
                    ));
                }
                let value = session_properties::validate(&self.engine.config, &name, &value)?;
                self.update(
                    "SET SESSION",
                    SessionUpdate {
                        set_properties: vec![(name, value)],
                        ..SessionUpdate::default()
                    },
                )
                .await
            }
            Statement::SetTimeZone { zone } => {
                let property = session_properties::TIME_ZONE_ID.to_string();
                // `LOCAL` goes back to the zone the client sends (`X-Trino-Time-Zone`).
                let update = match zone {
                    Some(zone) => SessionUpdate {
                        set_properties: vec![(
                            property,
                            crate::context::validate_time_zone(&zone)?,
                        )],
                        ..SessionUpdate::default()
                    },
                    None => SessionUpdate {
                        reset_properties: vec![property],
                        ..SessionUpdate::default()
                    },
                };
                self.update("SET TIME ZONE", update).await
            }
            Statement::ResetSession { name } => {
                let known = name == session_properties::TIME_ZONE_ID
                    || session_properties::system_properties(&self.engine.config)
                        .iter()
                        .any(|p| p.name == name);
                if !known {
                    return Err(EngineError::new(
                        ErrorCode::INVALID_SESSION_PROPERTY,
                        format!("Session property '{name}' does not exist"),
                    ));
                }
                self.update(
                    "RESET SESSION",
                    SessionUpdate {
                        reset_properties: vec![name],
                        ..SessionUpdate::default()
                    },
                )
                .await
            }
            Statement::Prepare { name, sql: body } => {
                check_syntax(&body, &self.engine.config.sql_limits)?;
                self.update(
                    "PREPARE",
                    SessionUpdate {
                        added_prepared: vec![(name, body)],
                        ..SessionUpdate::default()
                    },
                )
                .await
            }
            Statement::Execute { name, parameters } => {
                let body = self.prepared(&name)?;
                let bound = statement::bind_parameters(&body, &parameters)?;
                self.nested(&bound, depth).await
            }
            Statement::ExecuteImmediate {
                sql: body,
                parameters,
            } => {
                let bound = statement::bind_parameters(&body, &parameters)?;
                self.nested(&bound, depth).await
            }
            Statement::Deallocate { name } => {
                self.prepared(&name)?;
                self.update(
                    "DEALLOCATE",
                    SessionUpdate {
                        deallocated_prepared: vec![name],
                        ..SessionUpdate::default()
                    },
                )
                .await
            }
            Statement::DescribeOutput { name } => self.describe_output(&name).await,
            Statement::DescribeInput { name } => {
                let body = self.prepared(&name)?;
                let count = statement::parameter_count(&body)?;
                let rows = (0..count)
                    .map(|i| vec![Value::from(i as i64), Value::from("unknown")])
                    .collect();
                self.values(
                    &[
                        ("Position", TrinoType::Bigint),
                        ("Type", TrinoType::VARCHAR),
                    ],
                    rows,
                )
                .await
            }
            Statement::StartTransaction => {
                let session = self.session();
                if session.transaction_id.is_none() {
                    return Err(EngineError::new(
                        ErrorCode::INCOMPATIBLE_CLIENT,
                        "Client does not support transactions",
                    ));
                }
                if session.in_transaction() {
                    return Err(EngineError::new(
                        ErrorCode::NOT_SUPPORTED,
                        "Nested transactions not supported",
                    ));
                }
                self.update(
                    "START TRANSACTION",
                    SessionUpdate {
                        started_transaction_id: Some(uuid::Uuid::new_v4().to_string()),
                        ..SessionUpdate::default()
                    },
                )
                .await
            }
            Statement::Commit => self.end_transaction("COMMIT").await,
            Statement::Rollback => self.end_transaction("ROLLBACK").await,
            Statement::Explain {
                analyze,
                explain_type,
                format,
                sql: inner,
            } => {
                self.explain(analyze, explain_type.as_deref(), format.as_deref(), &inner)
                    .await
            }
            Statement::CreateTable(create) => self.create_table(create).await,
            Statement::CreateTableAs(create) => self.create_table_as(create).await,
            Statement::CreateView(view) => self.create_view(view).await,
            Statement::Comment(comment) => self.comment(comment).await,
            Statement::Alter(alter) => self.alter(alter).await,
            Statement::ShowCreate { kind, name } => self.show_create(kind, &name).await,
            Statement::Sql(text) => self.sql(&text, true).await,
        }
    }

    /// `COMMIT` or `ROLLBACK`: only reads run inside a transaction, so both just end it.
    async fn end_transaction(&self, update_type: &str) -> EngineResult<Completion> {
        if !self.session().in_transaction() {
            return Err(EngineError::new(
                ErrorCode::NOT_IN_TRANSACTION,
                "No transaction in progress",
            ));
        }
        self.update(
            update_type,
            SessionUpdate {
                clear_transaction_id: true,
                ..SessionUpdate::default()
            },
        )
        .await
    }

    async fn nested(&self, sql: &str, depth: usize) -> EngineResult<Completion> {
        if depth >= MAX_EXECUTE_DEPTH {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                "EXECUTE is nested too deeply",
            ));
        }
        Box::pin(self.statement(sql, depth + 1)).await
    }

    fn prepared(&self, name: &str) -> EngineResult<String> {
        self.session()
            .prepared_statements
            .get(name)
            .cloned()
            .ok_or_else(|| {
                EngineError::new(
                    ErrorCode::NOT_FOUND,
                    format!("Prepared statement not found: {name}"),
                )
            })
    }

    // ----- names and existence checks -------------------------------------------------------

    fn catalog_or_session(&self, catalog: Option<String>) -> EngineResult<String> {
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

    fn require_schema(&self, catalog: &str, schema: &str) -> EngineResult<()> {
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
    fn resolve_schema(&self, parts: &[String]) -> EngineResult<(String, String)> {
        let (catalog, schema) = match parts {
            [] => {
                let schema = self.session().schema.clone().ok_or_else(|| {
                    EngineError::new(
                        ErrorCode::MISSING_SCHEMA_NAME,
                        "Schema must be specified when session schema is not set",
                    )
                })?;
                (self.catalog_or_session(None)?, schema)
            }
            [schema] => (self.catalog_or_session(None)?, schema.clone()),
            [catalog, schema] => (
                self.catalog_or_session(Some(catalog.clone()))?,
                schema.clone(),
            ),
            _ => {
                return Err(EngineError::new(
                    ErrorCode::SYNTAX_ERROR,
                    format!("Too many dots in schema name: {}", parts.join(".")),
                ));
            }
        };
        self.require_schema(&catalog, &schema)?;
        Ok((catalog, schema))
    }

    /// A table name completed from the session, without checking that it exists.
    fn qualify(&self, parts: &[String]) -> EngineResult<(String, String, String)> {
        match parts {
            [table] => {
                let schema = self.session().schema.clone().ok_or_else(|| {
                    EngineError::new(
                        ErrorCode::MISSING_SCHEMA_NAME,
                        "Schema must be specified when session schema is not set",
                    )
                })?;
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

    fn table_exists(&self, catalog: &str, schema: &str, table: &str) -> bool {
        self.engine
            .catalogs
            .get(catalog)
            .and_then(|c| c.provider.schema(schema))
            .is_some_and(|s| s.table_exist(table))
    }

    /// A table name completed and checked to exist.
    fn resolve_table(
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

    // ----- results --------------------------------------------------------------------------

    async fn send(&self, event: QueryEvent) -> EngineResult<()> {
        self.sender
            .send(event)
            .await
            .map_err(|_| EngineError::new(ErrorCode::USER_CANCELED, "Query was canceled"))
    }

    fn columns(&self, fields: &[(String, TrinoType)]) -> Vec<Column> {
        let legacy = self.encode.legacy_datetime;
        fields
            .iter()
            .map(|(name, t)| Column {
                name: name.clone(),
                type_name: t.display_name(legacy),
                type_signature: t.signature(legacy),
            })
            .collect()
    }

    /// A statement with no output: empty columns and an update type.
    async fn update(
        &self,
        update_type: &str,
        session_update: SessionUpdate,
    ) -> EngineResult<Completion> {
        self.handle
            .update_status(|s| s.update_type = Some(update_type.to_string()));
        self.send(QueryEvent::Columns {
            columns: vec![],
            update_type: Some(update_type.to_string()),
        })
        .await?;
        Ok(Completion {
            update_count: None,
            session_update,
        })
    }

    /// A result computed here rather than by DataFusion.
    async fn values(
        &self,
        fields: &[(&str, TrinoType)],
        rows: Vec<Vec<Value>>,
    ) -> EngineResult<Completion> {
        let fields: Vec<(String, TrinoType)> = fields
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect();
        self.send(QueryEvent::Columns {
            columns: self.columns(&fields),
            update_type: None,
        })
        .await?;
        if !rows.is_empty() {
            self.handle
                .counters()
                .output_rows
                .fetch_add(rows.len() as u64, Ordering::Relaxed);
            self.send(QueryEvent::Rows(rows)).await?;
        }
        Ok(Completion::default())
    }

    async fn show_session(&self, like: Option<&Like>) -> EngineResult<Completion> {
        let matcher = like.map(|l| LikeMatcher::new(&l.pattern, l.escape.as_deref()));
        let rows = session_properties::system_properties(&self.engine.config)
            .into_iter()
            .filter(|p| matcher.as_ref().is_none_or(|m| m.matches(p.name)))
            .map(|p| {
                let value = self
                    .session()
                    .properties
                    .get(p.name)
                    .cloned()
                    .unwrap_or_else(|| p.default.clone());
                vec![
                    Value::from(p.name),
                    Value::from(value),
                    Value::from(p.default),
                    Value::from(p.type_name),
                    Value::from(p.description),
                ]
            })
            .collect();
        let varchar = || TrinoType::VARCHAR;
        self.values(
            &[
                ("Name", varchar()),
                ("Value", varchar()),
                ("Default", varchar()),
                ("Type", varchar()),
                ("Description", varchar()),
            ],
            rows,
        )
        .await
    }

    // ----- SQL through DataFusion -----------------------------------------------------------

    fn context(&self) -> EngineResult<SessionContext> {
        let pool = self.engine.node_memory.query_pool(
            &self.handle.id().to_string(),
            self.limits.max_memory_per_node,
        );
        let ctx = self.engine.contexts.create(
            self.session(),
            &self.limits,
            QueryContext {
                user: self.session().identity.user.clone(),
                query_id: self.handle.id().to_string(),
            },
            self.handle.scan_counters(),
            Arc::clone(&pool) as Arc<dyn MemoryPool>,
        )?;
        *self.pool.lock() = Some(pool);
        Ok(ctx)
    }

    /// Parses one statement, checks it for syntax Trino rejects, and applies the rewrites that
    /// make DataFusion answer as Trino does.
    fn parse_sql(&self, sql: &str) -> EngineResult<Parsed> {
        let rewritten = crate::trino_sql::rewrite(sql);
        let parsed = DFParserBuilder::new(rewritten.as_str())
            .with_dialect(&TrinoDialect)
            .with_recursion_limit(self.engine.config.sql_limits.parser_recursion_limit())
            .build()
            .and_then(|mut parser| parser.parse_statements());
        let mut statements = match parsed {
            Ok(statements) => statements,
            Err(error) => {
                return Err(match crate::trino_sql::unsupported_syntax(sql) {
                    Some(what) => EngineError::new(ErrorCode::NOT_SUPPORTED, what),
                    None => error.into(),
                });
            }
        };
        let statement = match (statements.pop_front(), statements.is_empty()) {
            (Some(statement), true) => statement,
            (None, _) => {
                return Err(EngineError::new(
                    ErrorCode::SYNTAX_ERROR,
                    "SQL statement is empty",
                ));
            }
            (Some(_), false) => {
                return Err(EngineError::new(
                    ErrorCode::SYNTAX_ERROR,
                    "Only one statement can be run at a time",
                ));
            }
        };
        match statement {
            DfStatement::Statement(mut inner) => {
                let relations = rewrite::inspect_statement(&inner)?;
                let aliased = rewrite::aliased_columns(&inner);
                rewrite::rewrite_statement(&mut inner)?;
                Ok(Parsed {
                    statement: DfStatement::Statement(inner),
                    relations,
                    aliased,
                })
            }
            DfStatement::CreateExternalTable(_) | DfStatement::CopyTo(_) => Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                "CREATE EXTERNAL TABLE and COPY are not supported; use a filesystem catalog",
            )),
            other => Ok(Parsed {
                statement: other,
                relations: rewrite::Relations::default(),
                aliased: None,
            }),
        }
    }

    /// Checks the names a statement uses, so errors carry Trino's codes and messages.
    fn check_names(&self, parsed: &Parsed, sql: &str) -> EngineResult<()> {
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
                let (catalog, schema) = match name.as_slice() {
                    [schema] => (self.catalog_or_session(None)?, schema.clone()),
                    [catalog, schema] => (
                        self.catalog_or_session(Some(catalog.clone()))?,
                        schema.clone(),
                    ),
                    _ => {
                        return Err(EngineError::new(
                            ErrorCode::SYNTAX_ERROR,
                            "CREATE SCHEMA takes [catalog.]schema",
                        ));
                    }
                };
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

    /// Plans and runs SQL through DataFusion. `user_statement` is false for the SQL that
    /// `SHOW` statements are rewritten into.
    async fn sql(&self, sql: &str, user_statement: bool) -> EngineResult<Completion> {
        let (ctx, plan) = planning::plan(self.handle.cancel_token(), async {
            let parsed = self.parse_sql(sql)?;
            if user_statement {
                self.check_names(&parsed, sql)?;
            }
            let ctx = self.context()?;
            let plan = ctx.state().statement_to_plan(parsed.statement).await?;
            Ok::<_, EngineError>((ctx, plan))
        })
        .await?;
        let update_type = update_type_of(&plan)?;
        if update_type.is_some() && self.session().in_transaction() {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                "Catalog only supports writes using autocommit",
            ));
        }
        match update_type {
            None => self.query(&ctx, plan).await,
            Some(update_type) => self.write(&ctx, plan, update_type).await,
        }
    }

    async fn query(&self, ctx: &SessionContext, plan: LogicalPlan) -> EngineResult<Completion> {
        let frame =
            planning::plan(self.handle.cancel_token(), ctx.execute_logical_plan(plan)).await?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let (state, logical) = frame.into_parts();
        let types = self.send_columns(&schema).await?;
        if let Some(distribution) = self.distribution_for(&logical)
            && self
                .run_distributed(distribution.as_ref(), &state, &logical, &types)
                .await?
        {
            return Ok(Completion::default());
        }
        let physical = planning::plan(
            self.handle.cancel_token(),
            state.create_physical_plan(&logical),
        )
        .await?;
        self.start_plan(&physical);
        let mut output = ResultOutput::direct();
        self.stream(physical, state.task_ctx(), &types, &mut output)
            .await?;
        Ok(Completion::default())
    }

    /// The cluster's distribution, when `plan` reads only tables whose scans can run on any
    /// node. Other queries (memory tables, metadata, no table at all) run on this node.
    fn distribution_for(&self, plan: &LogicalPlan) -> Option<Arc<dyn Distribution>> {
        let distribution = self.engine.distribution.read().clone()?;
        let mut scans = 0usize;
        let mut anywhere = true;
        let walked = plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                scans += 1;
                let runs_anywhere = source_as_provider(&scan.source)
                    .map(|p| vivace_connectors::scans_run_anywhere(p.as_ref()))
                    .unwrap_or(false);
                if !runs_anywhere {
                    anywhere = false;
                    return Ok(TreeNodeRecursion::Stop);
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
        (walked.is_ok() && anywhere && scans > 0).then_some(distribution)
    }

    /// Runs a query on the cluster, again after a lost worker or a broken connection between
    /// nodes while nothing was delivered.
    /// `Ok(false)` when the cluster says to run it on this node instead.
    async fn run_distributed(
        &self,
        distribution: &dyn Distribution,
        state: &SessionState,
        logical: &LogicalPlan,
        types: &[TrinoType],
    ) -> EngineResult<bool> {
        let config = &self.engine.config;
        let mut query = distribution.start(self.distributed_facts(state));
        let mut retries_left = match config.retry_policy {
            RetryPolicy::Query => config.query_retry_attempts,
            RetryPolicy::None => 0,
        };
        loop {
            let Some(cluster_state) = query.attempt_state(state).await? else {
                return Ok(false);
            };
            let physical = planning::plan(
                self.handle.cancel_token(),
                cluster_state.create_physical_plan(logical),
            )
            .await?;
            self.start_plan(&physical);
            let mut output = if retries_left > 0 {
                ResultOutput::buffered(config.retry_buffer_size)
            } else {
                ResultOutput::direct()
            };
            let result = self
                .stream(physical, cluster_state.task_ctx(), types, &mut output)
                .await;
            match result {
                Ok(()) => return Ok(true),
                Err(error)
                    if retries_left > 0
                        && !output.delivered()
                        && !self.handle.cancel_token().is_cancelled()
                        && query.may_retry(&error).await =>
                {
                    retries_left -= 1;
                    warn!(
                        query_id = %self.handle.id(),
                        %error,
                        retries_left,
                        "a worker was lost or a connection between nodes broke; running the query again"
                    );
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn distributed_facts(&self, state: &SessionState) -> DistributedQueryFacts {
        DistributedQueryFacts {
            query_id: self.handle.id().to_string(),
            user: self.session().identity.user.clone(),
            time_zone: state.config().options().execution.time_zone.clone(),
            max_memory_per_node: self.limits.max_memory_per_node,
            max_memory: self.limits.max_memory,
        }
    }

    /// The stages and tasks a query would run as on the cluster, for
    /// `EXPLAIN (TYPE DISTRIBUTED)`; `None` when it runs on this node only.
    async fn distributed_stages(&self, statement: &DfStatement) -> EngineResult<Option<String>> {
        let ctx = self.context()?;
        let plan = ctx.state().statement_to_plan(statement.clone()).await?;
        if update_type_of(&plan)?.is_some() {
            return Ok(None);
        }
        let (state, logical) = ctx.execute_logical_plan(plan).await?.into_parts();
        let Some(distribution) = self.distribution_for(&logical) else {
            return Ok(None);
        };
        let mut query = distribution.start(self.distributed_facts(&state));
        let Some(cluster_state) = query.attempt_state(&state).await? else {
            return Ok(None);
        };
        let physical = cluster_state.create_physical_plan(&logical).await?;
        Ok(distribution.display_stages(&physical))
    }

    fn start_plan(&self, physical: &Arc<dyn ExecutionPlan>) {
        self.handle
            .counters()
            .total_splits
            .store(leaf_partitions(physical.as_ref()) as i64, Ordering::Relaxed);
        self.handle.set_plan(Arc::clone(physical));
    }

    /// Announces the result columns; returns their Trino types.
    async fn send_columns(&self, schema: &SchemaRef) -> EngineResult<Vec<TrinoType>> {
        let types: Vec<TrinoType> = schema
            .fields()
            .iter()
            .map(|f| trino_type_of_field(f))
            .collect();
        let fields: Vec<(String, TrinoType)> = schema
            .fields()
            .iter()
            .zip(&types)
            .map(|(f, t)| (f.name().clone(), t.clone()))
            .collect();
        self.send(QueryEvent::Columns {
            columns: self.columns(&fields),
            update_type: None,
        })
        .await?;
        Ok(types)
    }

    /// Runs `physical` and passes its rows to `output`.
    async fn stream(
        &self,
        physical: Arc<dyn ExecutionPlan>,
        task_ctx: Arc<TaskContext>,
        types: &[TrinoType],
        output: &mut ResultOutput,
    ) -> EngineResult<()> {
        self.handle.transition(QueryState::Running);
        let mut stream = execute_stream(physical, task_ctx)?;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            self.record_memory();
            if batch.num_rows() == 0 {
                continue;
            }
            let rows = encode_batch(&batch, types, self.encode)
                .map_err(|m| EngineError::new(ErrorCode::GENERIC_INTERNAL_ERROR, m))?;
            output
                .push(rows, batch.get_array_memory_size() as u64, self)
                .await?;
        }
        output.finish(self).await
    }

    async fn deliver(&self, rows: Vec<Vec<Value>>) -> EngineResult<()> {
        self.handle
            .counters()
            .output_rows
            .fetch_add(rows.len() as u64, Ordering::Relaxed);
        self.send(QueryEvent::Rows(rows)).await
    }

    fn record_memory(&self) {
        if let Some(pool) = self.pool.lock().as_ref() {
            self.handle.counters().peak_memory_bytes.fetch_max(
                i64::try_from(pool.peak()).unwrap_or(i64::MAX),
                Ordering::Relaxed,
            );
        }
    }

    /// DDL and DML: run, then report `rows` for writes.
    async fn write(
        &self,
        ctx: &SessionContext,
        plan: LogicalPlan,
        update_type: &'static str,
    ) -> EngineResult<Completion> {
        let ctas_target = match &plan {
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(create))
                if !matches!(create.input.as_ref(), LogicalPlan::EmptyRelation(_)) =>
            {
                Some(create.name.clone())
            }
            _ => None,
        };
        // DataFusion drops the table `CREATE OR REPLACE TABLE ... AS` replaces before it builds
        // the new one; if that fails (the query, or the connector's data limit), the old table
        // is put back.
        let replaced = match &plan {
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(create)) if create.or_replace => ctx
                .table_provider(create.name.clone())
                .await
                .ok()
                .map(|table| (create.name.clone(), table)),
            _ => None,
        };
        let is_insert = matches!(&plan, LogicalPlan::Dml(d) if matches!(d.op, WriteOp::Insert(_)));
        self.handle
            .update_status(|s| s.update_type = Some(update_type.to_string()));
        self.handle.transition(QueryState::Running);
        let frame = match ctx.execute_logical_plan(plan).await {
            Ok(frame) => frame,
            Err(error) => {
                if let Some((name, table)) = replaced
                    && !ctx.table_exist(name.clone())?
                {
                    ctx.register_table(name, table)?;
                }
                return Err(error.into());
            }
        };
        let batches = frame.collect().await?;
        let count = if is_insert {
            Some(first_count(&batches))
        } else if let Some(target) = ctas_target {
            let counted = ctx.table(target).await?.count().await?;
            Some(counted as i64)
        } else {
            None
        };
        match count {
            Some(count) => {
                self.send(QueryEvent::Columns {
                    columns: self.columns(&[("rows".to_string(), TrinoType::Bigint)]),
                    update_type: Some(update_type.to_string()),
                })
                .await?;
                self.send(QueryEvent::Rows(vec![vec![Value::from(count)]]))
                    .await?;
                Ok(Completion {
                    update_count: Some(count),
                    session_update: SessionUpdate::default(),
                })
            }
            None => self.update(update_type, SessionUpdate::default()).await,
        }
    }

    async fn describe_output(&self, name: &str) -> EngineResult<Completion> {
        let body = self.prepared(name)?;
        let count = statement::parameter_count(&body)?;
        let bound = statement::bind_parameters(&body, &vec!["NULL".to_string(); count])?;
        let fields = [
            ("Column Name", TrinoType::VARCHAR),
            ("Catalog", TrinoType::VARCHAR),
            ("Schema", TrinoType::VARCHAR),
            ("Table", TrinoType::VARCHAR),
            ("Type", TrinoType::VARCHAR),
            ("Type Size", TrinoType::Bigint),
            ("Aliased", TrinoType::Boolean),
        ];
        let mut aliased: Vec<bool> = vec![];
        let output: Vec<Field> = match statement::parse(&bound)? {
            Statement::Sql(text) => {
                let parsed = self.parse_sql(&text)?;
                self.check_names(&parsed, &text)?;
                aliased = parsed.aliased.clone().unwrap_or_default();
                let ctx = self.context()?;
                let plan = ctx.state().statement_to_plan(parsed.statement).await?;
                if update_type_of(&plan)?.is_some() {
                    vec![]
                } else {
                    plan.schema()
                        .fields()
                        .iter()
                        .map(|f| f.as_ref().clone())
                        .collect()
                }
            }
            _ => vec![],
        };
        let rows = output
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let t = trino_type_of_field(field);
                vec![
                    Value::from(field.name().as_str()),
                    Value::from(""),
                    Value::from(""),
                    Value::from(""),
                    Value::from(t.display_name(self.encode.legacy_datetime)),
                    Value::from(fixed_size(&t)),
                    Value::from(aliased.get(index).copied().unwrap_or(false)),
                ]
            })
            .collect();
        self.values(&fields, rows).await
    }

    async fn explain(
        &self,
        analyze: bool,
        explain_type: Option<&str>,
        format: Option<&str>,
        sql: &str,
    ) -> EngineResult<Completion> {
        let format = format.unwrap_or(if explain_type == Some("IO") {
            "JSON"
        } else {
            "TEXT"
        });
        let supported = matches!(
            (explain_type, format),
            (None | Some("DISTRIBUTED" | "LOGICAL" | "VALIDATE"), "TEXT") | (Some("IO"), "JSON")
        );
        if !supported || (analyze && explain_type.is_some_and(|t| t == "IO" || t == "VALIDATE")) {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                format!(
                    "EXPLAIN{} (TYPE {}, FORMAT {format}) is not supported yet",
                    if analyze { " ANALYZE" } else { "" },
                    explain_type.unwrap_or("DISTRIBUTED")
                ),
            ));
        }
        let want = match explain_type {
            Some("LOGICAL") => "logical_plan",
            _ => "physical_plan",
        };
        let Statement::Sql(inner) = statement::parse(sql)? else {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                "EXPLAIN supports only queries and DML",
            ));
        };
        let parsed = self.parse_sql(&inner)?;
        self.check_names(&parsed, &inner)?;
        match explain_type {
            Some("VALIDATE") => {
                let ctx = self.context()?;
                ctx.state().statement_to_plan(parsed.statement).await?;
                return self
                    .values(
                        &[("Valid", TrinoType::Boolean)],
                        vec![vec![Value::from(true)]],
                    )
                    .await;
            }
            Some("IO") => {
                let ctx = self.context()?;
                let state = ctx.state();
                let logical = state.statement_to_plan(parsed.statement).await?;
                let logical = state.optimize(&logical)?;
                let physical = state.create_physical_plan(&logical).await?;
                let text = crate::explain_io::io_plan_json(&logical, physical.as_ref(), &state)?;
                let text = self.engine.catalogs.hide_private_locations(&text);
                return self
                    .values(
                        &[("Query Plan", TrinoType::VARCHAR)],
                        vec![vec![Value::from(text)]],
                    )
                    .await;
            }
            _ => {}
        }
        if explain_type == Some("DISTRIBUTED")
            && !analyze
            && let Some(stages) = self.distributed_stages(&parsed.statement).await?
        {
            let stages = self.engine.catalogs.hide_private_locations(&stages);
            return self
                .values(
                    &[("Query Plan", TrinoType::VARCHAR)],
                    vec![vec![Value::from(stages)]],
                )
                .await;
        }
        let explain_sql = format!(
            "EXPLAIN {}{}",
            if analyze { "ANALYZE " } else { "" },
            parsed.statement
        );
        let ctx = self.context()?;
        let frame = ctx.sql(&explain_sql).await?;
        let batches = frame.collect().await?;
        let mut text = String::new();
        for batch in &batches {
            let kinds = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
            let plans = arrow::compute::cast(batch.column(1), &arrow::datatypes::DataType::Utf8)?;
            let kinds = arrow::array::AsArray::as_string::<i32>(&kinds);
            let plans = arrow::array::AsArray::as_string::<i32>(&plans);
            for i in 0..batch.num_rows() {
                if analyze || kinds.value(i) == want {
                    text.push_str(plans.value(i));
                    text.push('\n');
                }
            }
        }
        let text = self.engine.catalogs.hide_private_locations(text.trim_end());
        self.values(
            &[("Query Plan", TrinoType::VARCHAR)],
            vec![vec![Value::from(text)]],
        )
        .await
    }
}

/// Where result rows go: straight to the client, or held back (up to a size) while a retry
/// could still be invisible to it.
struct ResultOutput {
    held: Vec<Vec<Vec<Value>>>,
    held_bytes: u64,
    limit: u64,
    delivered: bool,
}

impl ResultOutput {
    fn direct() -> Self {
        Self::buffered(0)
    }

    fn buffered(limit: u64) -> Self {
        ResultOutput {
            held: Vec::new(),
            held_bytes: 0,
            limit,
            delivered: false,
        }
    }

    /// Whether any row reached the client.
    fn delivered(&self) -> bool {
        self.delivered
    }

    async fn push(
        &mut self,
        rows: Vec<Vec<Value>>,
        bytes: u64,
        execution: &Execution,
    ) -> EngineResult<()> {
        if !self.delivered && self.held_bytes.saturating_add(bytes) <= self.limit {
            self.held_bytes += bytes;
            self.held.push(rows);
            return Ok(());
        }
        self.finish(execution).await?;
        self.delivered = true;
        execution.deliver(rows).await
    }

    /// Delivers whatever is held.
    async fn finish(&mut self, execution: &Execution) -> EngineResult<()> {
        for rows in std::mem::take(&mut self.held) {
            self.delivered = true;
            execution.deliver(rows).await?;
        }
        self.held_bytes = 0;
        Ok(())
    }
}

fn with_location(error: EngineError, location: Option<SqlLocation>) -> EngineError {
    match error {
        EngineError::Query {
            code,
            message,
            location: None,
        } => EngineError::Query {
            code,
            message,
            location,
        },
        other => other,
    }
}

/// The update type of a plan that is not a query, or an error for plans we do not allow.
fn update_type_of(plan: &LogicalPlan) -> EngineResult<Option<&'static str>> {
    let not_supported = |what: &str| {
        Err(EngineError::new(
            ErrorCode::NOT_SUPPORTED,
            format!("{what} is not supported"),
        ))
    };
    Ok(Some(match plan {
        LogicalPlan::Dml(dml) => match dml.op {
            WriteOp::Insert(_) => "INSERT",
            WriteOp::Delete => "DELETE",
            WriteOp::Update => "UPDATE",
            WriteOp::Ctas => "CREATE TABLE",
            WriteOp::Truncate => "TRUNCATE TABLE",
            WriteOp::MergeInto(_) => "MERGE",
            _ => return not_supported("This write operation"),
        },
        LogicalPlan::Ddl(ddl) => match ddl {
            DdlStatement::CreateMemoryTable(_) => "CREATE TABLE",
            DdlStatement::CreateView(_) => "CREATE VIEW",
            DdlStatement::CreateCatalogSchema(_) => "CREATE SCHEMA",
            DdlStatement::DropTable(_) => "DROP TABLE",
            DdlStatement::DropView(_) => "DROP VIEW",
            DdlStatement::DropCatalogSchema(_) => "DROP SCHEMA",
            DdlStatement::CreateExternalTable(_) => return not_supported("CREATE EXTERNAL TABLE"),
            DdlStatement::CreateCatalog(_) => return not_supported("CREATE CATALOG"),
            DdlStatement::CreateIndex(_) => return not_supported("CREATE INDEX"),
            DdlStatement::CreateFunction(_) | DdlStatement::DropFunction(_) => {
                return not_supported("CREATE FUNCTION");
            }
        },
        LogicalPlan::Copy(_) => return not_supported("COPY"),
        LogicalPlan::Statement(statement) => {
            return not_supported(&format!("Statement {}", statement.name()));
        }
        _ => return Ok(None),
    }))
}

fn object_name_parts(name: &ObjectName) -> Vec<String> {
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

fn check_syntax(sql: &str, limits: &SqlLimits) -> EngineResult<()> {
    if let Statement::Sql(text) = statement::parse(sql)? {
        DFParserBuilder::new(text.as_str())
            .with_dialect(&TrinoDialect)
            .with_recursion_limit(limits.parser_recursion_limit())
            .build()?
            .parse_statements()?;
    }
    Ok(())
}

fn first_count(batches: &[arrow::array::RecordBatch]) -> i64 {
    batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            let column =
                arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Int64).ok()?;
            let values =
                arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(&column);
            Some(values.value(0))
        })
        .unwrap_or(0)
}

fn leaf_partitions(plan: &dyn ExecutionPlan) -> usize {
    if plan.children().is_empty() {
        plan.output_partitioning().partition_count()
    } else {
        plan.children()
            .iter()
            .map(|c| leaf_partitions(c.as_ref()))
            .sum()
    }
}

fn fixed_size(t: &TrinoType) -> i64 {
    match t {
        TrinoType::Boolean | TrinoType::Tinyint => 1,
        TrinoType::Smallint => 2,
        TrinoType::Integer | TrinoType::Real | TrinoType::Date => 4,
        TrinoType::Bigint | TrinoType::Double => 8,
        TrinoType::Decimal { precision, .. } => {
            if *precision <= 18 {
                8
            } else {
                16
            }
        }
        TrinoType::Uuid => 16,
        _ => 0,
    }
}

/// Quotes an identifier for SQL text.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for SQL text.
pub(crate) fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn like_clause(keyword: &str, column: &str, like: Option<&Like>) -> String {
    match like {
        None => String::new(),
        Some(like) => {
            let escape = like
                .escape
                .as_ref()
                .map(|e| format!(" ESCAPE {}", quote_literal(e)))
                .unwrap_or_default();
            format!(
                " {keyword} {column} LIKE {}{escape}",
                quote_literal(&like.pattern)
            )
        }
    }
}

/// SQL `LIKE` matching for names listed without DataFusion.
pub(crate) struct LikeMatcher {
    pattern: Vec<LikeToken>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LikeToken {
    Any,
    One,
    Char(char),
}

impl LikeMatcher {
    pub(crate) fn new(pattern: &str, escape: Option<&str>) -> Self {
        let escape = escape.and_then(|e| e.chars().next());
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if Some(c) == escape {
                if let Some(next) = chars.next() {
                    tokens.push(LikeToken::Char(next));
                }
            } else if c == '%' {
                tokens.push(LikeToken::Any);
            } else if c == '_' {
                tokens.push(LikeToken::One);
            } else {
                tokens.push(LikeToken::Char(c));
            }
        }
        LikeMatcher { pattern: tokens }
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        like_match(&self.pattern, &text)
    }
}

fn like_match(pattern: &[LikeToken], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((LikeToken::Any, rest)) => (0..=text.len()).any(|i| like_match(rest, &text[i..])),
        Some((LikeToken::One, rest)) => !text.is_empty() && like_match(rest, &text[1..]),
        Some((LikeToken::Char(c), rest)) => text.first() == Some(c) && like_match(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matching() {
        let m = LikeMatcher::new("query%", None);
        assert!(m.matches("query_max_run_time"));
        assert!(!m.matches("task_concurrency"));
        let m = LikeMatcher::new("a\\_b", Some("\\"));
        assert!(m.matches("a_b"));
        assert!(!m.matches("axb"));
    }
}
