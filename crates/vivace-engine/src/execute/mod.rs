//! Runs one statement. This module only dispatches a recognised statement to the module for
//! its concern: [`session`] (session control, prepared statements, transactions), [`show`]
//! (`SHOW ...` as SQL over the metadata tables), [`names`] (resolving and checking names so
//! errors carry Trino's codes), [`query`] (SQL through DataFusion, streaming Arrow batches to the
//! query's event channel), [`computed`] (results computed here, as Arrow too), [`distributed`] (attempts on the workers), [`explain`], [`ddl`]
//! (DDL that DataFusion cannot plan) and [`stats`] (`SHOW STATS`).

mod computed;
mod ddl;
mod distributed;
mod explain;
mod names;
mod query;
mod session;
mod show;
mod stats;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::execution::memory_pool::MemoryPool;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use serde_json::Value;
use tokio::sync::mpsc;
use vivace_common::ErrorCode;
use vivace_protocol::TrinoType;

use crate::context::QueryContext;
use crate::error::{EngineError, EngineResult};
use crate::memory::QueryMemoryPool;
use crate::query::{QueryEvent, QueryHandle, ResultColumn};
use crate::session::{Session, SessionUpdate};
use crate::session_properties::QueryLimits;
use crate::shared::EngineInner;
use vivace_sql::rewrite;
use vivace_sql::statement::{self, Statement};

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
    /// The client did not announce `PARAMETRIC_DATETIME`: type names are the old ones.
    legacy_datetime: bool,
    pool: parking_lot::Mutex<Option<Arc<QueryMemoryPool>>>,
}

impl Execution {
    pub(crate) fn new(
        engine: Arc<EngineInner>,
        handle: Arc<QueryHandle>,
        sender: mpsc::Sender<QueryEvent>,
        limits: QueryLimits,
    ) -> Self {
        let legacy_datetime = !handle.session().supports_parametric_datetime();
        Execution {
            engine,
            handle,
            sender,
            limits,
            legacy_datetime,
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
            Statement::ShowCatalogs { like } => self.show_catalogs(like.as_ref()).await,
            Statement::ShowSchemas { catalog, like } => {
                self.show_schemas(catalog, like.as_ref()).await
            }
            Statement::ShowTables { qualifier, like } => {
                self.show_tables(&qualifier, like.as_ref()).await
            }
            Statement::ShowColumns { table } => self.show_columns(&table, sql).await,
            Statement::ShowSession { like } => self.show_session(like.as_ref()).await,
            Statement::ShowStats { source } => self.show_stats(&source, sql).await,
            Statement::ShowFunctions { like } => self.show_functions(like.as_ref()).await,
            Statement::Call {
                procedure,
                arguments,
            } => self.call(&procedure, &arguments).await,
            Statement::SetRole { role, catalog } => self.set_role(role, catalog).await,
            Statement::SetPath { path } => self.set_path(path).await,
            Statement::Use { catalog, schema } => self.use_schema(catalog, schema).await,
            Statement::SetSession { name, value } => self.set_session(name, &value).await,
            Statement::SetTimeZone { zone } => self.set_time_zone(zone).await,
            Statement::ResetSession { name } => self.reset_session(name).await,
            Statement::Prepare { name, sql: body } => self.prepare(name, body).await,
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
            Statement::Deallocate { name } => self.deallocate(name).await,
            Statement::DescribeOutput { name } => self.describe_output(&name).await,
            Statement::DescribeInput { name } => self.describe_input(&name).await,
            Statement::StartTransaction => self.start_transaction().await,
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

    async fn nested(&self, sql: &str, depth: usize) -> EngineResult<Completion> {
        if depth >= MAX_EXECUTE_DEPTH {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                "EXECUTE is nested too deeply",
            ));
        }
        Box::pin(self.statement(sql, depth + 1)).await
    }

    async fn send(&self, event: QueryEvent) -> EngineResult<()> {
        self.sender
            .send(event)
            .await
            .map_err(|_| EngineError::new(ErrorCode::USER_CANCELED, "Query was canceled"))
    }

    fn columns(fields: &[(String, TrinoType)]) -> Vec<ResultColumn> {
        fields
            .iter()
            .map(|(name, trino_type)| ResultColumn {
                name: name.clone(),
                trino_type: trino_type.clone(),
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
        let batch = computed::batch(&fields, &rows)?;
        self.send(QueryEvent::Columns {
            columns: Self::columns(&fields),
            update_type: None,
        })
        .await?;
        if !rows.is_empty() {
            self.handle
                .counters()
                .output_rows
                .fetch_add(rows.len() as u64, Ordering::Relaxed);
            self.send(QueryEvent::Batch(batch)).await?;
        }
        Ok(Completion::default())
    }

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
            },
            self.handle.scan_counters(),
            Arc::clone(&pool) as Arc<dyn MemoryPool>,
        )?;
        *self.pool.lock() = Some(pool);
        Ok(ctx)
    }
}
