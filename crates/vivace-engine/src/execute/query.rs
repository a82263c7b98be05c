//! SQL through DataFusion: parsing with the front end's rewrites, planning, running (or
//! writing) and streaming encoded rows to the query's event channel.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::Transformed;
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::execution::TaskContext;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{DdlStatement, LogicalPlan, WriteOp};
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParserBuilder, Statement as DfStatement};
use futures::StreamExt;
use serde_json::Value;
use vivace_common::ErrorCode;
use vivace_protocol::TrinoType;

use crate::encode::encode_batch;
use crate::error::{EngineError, EngineResult, SqlLocation};
use crate::hooks::ScanPolicy;
use crate::planning;
use crate::query::{QueryEvent, QueryHandle, QueryState};
use crate::session::SessionUpdate;
use crate::types::trino_type_of_field;
use vivace_sql::dialect::TrinoDialect;
use vivace_sql::rewrite;

use super::distributed::leaf_partitions;
use super::{Completion, Execution, Parsed};

impl Execution {
    /// Plans a parsed statement. This is the one place where each table a query scans is
    /// resolved: every scan goes through the engine's [`ScanPolicy`] before optimisation.
    pub(super) async fn plan_statement(
        &self,
        state: &SessionState,
        statement: DfStatement,
    ) -> EngineResult<LogicalPlan> {
        let plan = state.statement_to_plan(statement).await?;
        let policy = Arc::clone(&*self.engine.scan_policy.read());
        resolve_scans(plan, policy.as_ref(), &self.handle)
    }

    /// Parses one statement, checks it for syntax Trino rejects, and applies the rewrites that
    /// make DataFusion answer as Trino does.
    pub(super) fn parse_sql(&self, sql: &str) -> EngineResult<Parsed> {
        let rewritten = vivace_sql::trino_sql::rewrite(sql);
        let parsed = DFParserBuilder::new(rewritten.as_str())
            .with_dialect(&TrinoDialect)
            .with_recursion_limit(self.engine.config.sql_limits.parser_recursion_limit())
            .build()
            .and_then(|mut parser| parser.parse_statements());
        let mut statements = match parsed {
            Ok(statements) => statements,
            Err(error) => {
                return Err(match vivace_sql::trino_sql::unsupported_syntax(sql) {
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

    /// Plans and runs SQL through DataFusion. `user_statement` is false for the SQL that
    /// `SHOW` statements are rewritten into.
    pub(super) async fn sql(&self, sql: &str, user_statement: bool) -> EngineResult<Completion> {
        let (ctx, plan) = planning::plan(self.handle.cancel_token(), async {
            let parsed = self.parse_sql(sql)?;
            if user_statement {
                self.check_names(&parsed, sql)?;
            }
            let ctx = self.context()?;
            let plan = self.plan_statement(&ctx.state(), parsed.statement).await?;
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

    pub(super) async fn query(
        &self,
        ctx: &SessionContext,
        plan: LogicalPlan,
    ) -> EngineResult<Completion> {
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

    pub(super) fn start_plan(&self, physical: &Arc<dyn ExecutionPlan>) {
        self.handle
            .counters()
            .total_splits
            .store(leaf_partitions(physical.as_ref()) as i64, Ordering::Relaxed);
        self.handle.set_plan(Arc::clone(physical));
    }

    /// Announces the result columns; returns their Trino types.
    pub(super) async fn send_columns(&self, schema: &SchemaRef) -> EngineResult<Vec<TrinoType>> {
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
    pub(super) async fn stream(
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

    pub(super) async fn deliver(&self, rows: Vec<Vec<Value>>) -> EngineResult<()> {
        self.handle
            .counters()
            .output_rows
            .fetch_add(rows.len() as u64, Ordering::Relaxed);
        self.send(QueryEvent::Rows(rows)).await
    }

    pub(super) fn record_memory(&self) {
        if let Some(pool) = self.pool.lock().as_ref() {
            self.handle.counters().peak_memory_bytes.fetch_max(
                i64::try_from(pool.peak()).unwrap_or(i64::MAX),
                Ordering::Relaxed,
            );
        }
    }

    /// DDL and DML: run, then report `rows` for writes.
    pub(super) async fn write(
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
}

/// Where result rows go: straight to the client, or held back (up to a size) while a retry
/// could still be invisible to it.
pub(super) struct ResultOutput {
    held: Vec<Vec<Vec<Value>>>,
    held_bytes: u64,
    limit: u64,
    delivered: bool,
}

impl ResultOutput {
    pub(super) fn direct() -> Self {
        Self::buffered(0)
    }

    pub(super) fn buffered(limit: u64) -> Self {
        ResultOutput {
            held: Vec::new(),
            held_bytes: 0,
            limit,
            delivered: false,
        }
    }

    /// Whether any row reached the client.
    pub(super) fn delivered(&self) -> bool {
        self.delivered
    }

    pub(super) async fn push(
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
    pub(super) async fn finish(&mut self, execution: &Execution) -> EngineResult<()> {
        for rows in std::mem::take(&mut self.held) {
            self.delivered = true;
            execution.deliver(rows).await?;
        }
        self.held_bytes = 0;
        Ok(())
    }
}

pub(super) fn with_location(error: EngineError, location: Option<SqlLocation>) -> EngineError {
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
pub(super) fn update_type_of(plan: &LogicalPlan) -> EngineResult<Option<&'static str>> {
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

pub(super) fn first_count(batches: &[arrow::array::RecordBatch]) -> i64 {
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

/// Puts what `policy` says in the place of each table `plan` scans, subqueries included.
fn resolve_scans(
    plan: LogicalPlan,
    policy: &dyn ScanPolicy,
    query: &QueryHandle,
) -> EngineResult<LogicalPlan> {
    let resolved = plan.transform_up_with_subqueries(|node| {
        let LogicalPlan::TableScan(mut scan) = node else {
            return Ok(Transformed::no(node));
        };
        let table = source_as_provider(&scan.source)?;
        let resolved = policy
            .resolve_scan(query, &scan.table_name, Arc::clone(&table))
            .map_err(EngineError::into_datafusion)?;
        if Arc::ptr_eq(&resolved, &table) {
            return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
        }
        scan.source = provider_as_source(resolved);
        Ok(Transformed::yes(LogicalPlan::TableScan(scan)))
    })?;
    Ok(resolved.data)
}
