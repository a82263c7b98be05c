//! SQL through DataFusion: parsing with the front end's rewrites, planning, running (or
//! writing) and streaming Arrow batches to the query's event channel.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::Transformed;
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::execution::TaskContext;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{DdlStatement, LogicalPlan, WriteOp};
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use futures::StreamExt;
use serde_json::Value;
use vivace_common::ErrorCode;
use vivace_protocol::TrinoType;

use crate::error::{EngineError, EngineResult, SqlLocation};
use crate::hooks::ScanPolicy;
use crate::planning;
use crate::query::{QueryEvent, QueryHandle, QueryState};
use crate::session::SessionUpdate;
use vivace_functions::types::trino_type_of_field;

use super::distributed::leaf_partitions;
use super::{Completion, Execution, Parsed, computed};

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

    /// Parses one statement with the SQL front end and hands its typed output to the planner.
    pub(super) fn parse_sql(&self, sql: &str) -> EngineResult<Parsed> {
        let limit = self.engine.config.sql_limits.parser_recursion_limit();
        let parsed = vivace_sql::parse_sql(sql, limit)?;
        Ok(Parsed {
            statement: DfStatement::Statement(Box::new(parsed.statement)),
            relations: parsed.relations,
            aliased: parsed.aliased,
        })
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
        self.send_columns(&schema).await?;
        if let Some(distribution) = self.distribution_for(&logical)
            && self
                .run_distributed(distribution.as_ref(), &state, &logical)
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
        self.stream(physical, state.task_ctx(), &mut output).await?;
        Ok(Completion::default())
    }

    pub(super) fn start_plan(&self, physical: &Arc<dyn ExecutionPlan>) {
        self.handle
            .counters()
            .total_splits
            .store(leaf_partitions(physical.as_ref()) as i64, Ordering::Relaxed);
        self.handle.set_plan(Arc::clone(physical));
    }

    /// Announces the result columns with their Trino types.
    pub(super) async fn send_columns(&self, schema: &SchemaRef) -> EngineResult<()> {
        let fields: Vec<(String, TrinoType)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), trino_type_of_field(f)))
            .collect();
        self.send(QueryEvent::Columns {
            columns: Self::columns(&fields),
            update_type: None,
        })
        .await
    }

    /// Runs `physical` and passes its rows to `output`.
    pub(super) async fn stream(
        &self,
        physical: Arc<dyn ExecutionPlan>,
        task_ctx: Arc<TaskContext>,
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
            output.push(batch, self).await?;
        }
        output.finish(self).await
    }

    pub(super) async fn deliver(&self, batch: RecordBatch) -> EngineResult<()> {
        self.handle
            .counters()
            .output_rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        self.send(QueryEvent::Batch(batch)).await
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
                let fields = [("rows".to_string(), TrinoType::Bigint)];
                let batch = computed::batch(&fields, &[vec![Value::from(count)]])?;
                self.send(QueryEvent::Columns {
                    columns: Self::columns(&fields),
                    update_type: Some(update_type.to_string()),
                })
                .await?;
                self.send(QueryEvent::Batch(batch)).await?;
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
    held: Vec<RecordBatch>,
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
        batch: RecordBatch,
        execution: &Execution,
    ) -> EngineResult<()> {
        let bytes = batch.get_array_memory_size() as u64;
        if !self.delivered && self.held_bytes.saturating_add(bytes) <= self.limit {
            self.held_bytes += bytes;
            self.held.push(batch);
            return Ok(());
        }
        self.finish(execution).await?;
        self.delivered = true;
        execution.deliver(batch).await
    }

    /// Delivers whatever is held.
    pub(super) async fn finish(&mut self, execution: &Execution) -> EngineResult<()> {
        for batch in std::mem::take(&mut self.held) {
            self.delivered = true;
            execution.deliver(batch).await?;
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

pub(super) fn first_count(batches: &[RecordBatch]) -> i64 {
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
