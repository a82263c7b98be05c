//! The `memory` connector: tables held in memory for the life of the server, created with
//! `CREATE SCHEMA`, `CREATE TABLE [AS]` and filled with `INSERT`, as in Trino's memory connector.
//!
//! Tables are DataFusion [`MemTable`]s, each registered as a [`MemoryTable`] that counts its
//! data against the catalog's `memory.max-data-per-node` (Trino's property, default 128MB): an
//! `INSERT` or `CREATE TABLE AS` that would take the catalog over it fails with Trino's
//! `Memory limit [N] for memory connector exceeded` before anything is stored. A change of
//! definition (`ALTER TABLE`, `COMMENT ON`) builds a new table from the old one's rows with
//! [`rebuild`]; the engine then registers it in the old one's place.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{
    CatalogProvider, MemTable, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider,
    Session, TableProvider,
};
use datafusion::common::{Constraints, DataFusionError, Result as DfResult, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::sink::{DataSink, DataSinkExec};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan};
use futures::StreamExt;
use parking_lot::Mutex;
use vivace_common::{ErrorCode, ErrorKind, PropertyMap};

use vivace_spi::{Connector, ConnectorError, ConnectorFactory, ConnectorResult};

/// `memory.max-data-per-node` when the catalog does not set it (Trino's default).
pub const DEFAULT_MAX_DATA_PER_NODE: u64 = 128 << 20;

/// Trino's memory connector error `MEMORY_LIMIT_EXCEEDED` (`0x0502_0001`, EXTERNAL).
pub const MEMORY_LIMIT_EXCEEDED: ErrorCode = ErrorCode {
    code: 0x0502_0001,
    name: "MEMORY_LIMIT_EXCEEDED",
    kind: ErrorKind::External,
};

/// Creates `memory` connectors.
#[derive(Debug)]
pub struct MemoryConnectorFactory;

impl ConnectorFactory for MemoryConnectorFactory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn create(
        &self,
        _catalog: &str,
        properties: &mut PropertyMap,
    ) -> ConnectorResult<Arc<dyn Connector>> {
        let limit = properties
            .take_data_size("memory.max-data-per-node")?
            .unwrap_or(DEFAULT_MAX_DATA_PER_NODE);
        Ok(Arc::new(MemoryConnector::with_limit(limit)))
    }
}

/// The `memory` connector: one catalog with a `default` schema.
#[derive(Debug)]
pub struct MemoryConnector {
    catalog: Arc<MemoryCatalog>,
}

impl MemoryConnector {
    /// An empty catalog holding only the `default` schema, with Trino's default limit.
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_MAX_DATA_PER_NODE)
    }

    /// An empty catalog holding only the `default` schema and at most `limit` bytes of data.
    pub fn with_limit(limit: u64) -> Self {
        let budget = Arc::new(DataBudget {
            limit,
            tables: Mutex::new(Vec::new()),
            in_flight: AtomicU64::new(0),
        });
        let catalog = Arc::new(MemoryCatalog {
            inner: MemoryCatalogProvider::new(),
            budget,
        });
        // Registering into a fresh in-memory catalog cannot fail; the result only reports a
        // previous schema of the same name.
        let _previous = catalog.register_schema("default", Arc::new(MemorySchemaProvider::new()));
        MemoryConnector { catalog }
    }

    /// Bytes of data the catalog's tables hold now.
    pub fn data_size(&self) -> u64 {
        self.catalog.budget.stored()
    }
}

impl Default for MemoryConnector {
    fn default() -> Self {
        Self::new()
    }
}

impl Connector for MemoryConnector {
    fn connector_name(&self) -> &str {
        "memory"
    }

    fn catalog(&self) -> Arc<dyn CatalogProvider> {
        Arc::clone(&self.catalog) as Arc<dyn CatalogProvider>
    }
}

/// The data a memory catalog may hold, and what its tables hold now.
#[derive(Debug)]
struct DataBudget {
    limit: u64,
    /// The tables registered in the catalog's schemas (a schema dropped with its tables
    /// stops counting once nothing uses them).
    /// Each with the number of names it is registered under (a rename registers the new
    /// name before it removes the old one).
    tables: Mutex<Vec<(Weak<MemTable>, usize)>>,
    /// Bytes of inserts under way, not yet in a table.
    in_flight: AtomicU64,
}

impl DataBudget {
    /// Bytes held by the catalog's live tables.
    fn stored(&self) -> u64 {
        let mut tables = self.tables.lock();
        tables.retain(|(t, _)| t.strong_count() > 0);
        tables
            .iter()
            .filter_map(|(t, _)| t.upgrade())
            .map(|t| table_size(&t))
            .sum()
    }

    /// Counts a table registered under one more name.
    fn track(&self, table: &Arc<MemTable>) {
        let added = Arc::downgrade(table);
        let mut tables = self.tables.lock();
        match tables.iter_mut().find(|(t, _)| t.ptr_eq(&added)) {
            Some((_, names)) => *names += 1,
            None => tables.push((added, 1)),
        }
    }

    /// A table taken out from under one of its names (dropped, replaced or moved); it stops
    /// counting when no name is left.
    fn untrack(&self, table: &Arc<MemTable>) {
        let gone = Arc::downgrade(table);
        let mut tables = self.tables.lock();
        if let Some((_, names)) = tables.iter_mut().find(|(t, _)| t.ptr_eq(&gone)) {
            *names = names.saturating_sub(1);
        }
        tables.retain(|(t, names)| *names > 0 && t.strong_count() > 0);
    }

    /// Counts `bytes` more as being inserted, or fails with Trino's error if the catalog would
    /// then hold more than its limit.
    fn reserve(&self, bytes: u64) -> DfResult<()> {
        let stored = self.stored();
        let reserved =
            self.in_flight
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |in_flight| {
                    let after = in_flight.checked_add(bytes)?;
                    (stored.saturating_add(after) <= self.limit).then_some(after)
                });
        reserved.map(|_| ()).map_err(|_| self.exceeded())
    }

    fn release(&self, bytes: u64) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |in_flight| {
                Some(in_flight.saturating_sub(bytes))
            });
    }

    /// Admits a whole new table of `bytes` (`CREATE TABLE AS`, a rebuilt table).
    fn admit(&self, bytes: u64) -> DfResult<()> {
        self.reserve(bytes)?;
        self.release(bytes);
        Ok(())
    }

    fn exceeded(&self) -> DataFusionError {
        DataFusionError::External(Box::new(ConnectorError::Coded {
            code: MEMORY_LIMIT_EXCEEDED,
            message: format!(
                "Memory limit [{}] for memory connector exceeded",
                self.limit
            ),
        }))
    }
}

/// Bytes held by a memory table's batches (batches still being written are skipped).
fn table_size(table: &MemTable) -> u64 {
    table
        .batches
        .iter()
        .filter_map(|partition| partition.try_read().ok())
        .flat_map(|batches| {
            batches
                .iter()
                .map(|b| b.get_array_memory_size() as u64)
                .collect::<Vec<_>>()
        })
        .sum()
}

/// The memory catalog: DataFusion's, with every schema counting its tables' data.
#[derive(Debug)]
struct MemoryCatalog {
    inner: MemoryCatalogProvider,
    budget: Arc<DataBudget>,
}

impl CatalogProvider for MemoryCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.inner.schema_names()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.inner.schema(name)
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        let schema: Arc<dyn SchemaProvider> = if schema.is::<MemorySchema>() {
            schema
        } else {
            Arc::new(MemorySchema {
                inner: schema,
                budget: Arc::clone(&self.budget),
            })
        };
        self.inner.register_schema(name, schema)
    }

    fn deregister_schema(
        &self,
        name: &str,
        cascade: bool,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        self.inner.deregister_schema(name, cascade)
    }
}

/// A memory schema whose tables count their data against the catalog's limit.
#[derive(Debug)]
struct MemorySchema {
    inner: Arc<dyn SchemaProvider>,
    budget: Arc<DataBudget>,
}

#[async_trait]
impl SchemaProvider for MemorySchema {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        self.inner.table(name).await
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let any: Arc<dyn std::any::Any + Send + Sync> = Arc::clone(&table) as _;
        let table = match any.downcast::<MemTable>() {
            Ok(memory) => {
                self.budget.admit(table_size(&memory))?;
                self.budget.track(&memory);
                Arc::new(MemoryTable {
                    table: memory,
                    budget: Arc::clone(&self.budget),
                }) as Arc<dyn TableProvider>
            }
            Err(_) => {
                // A table moved by a rename, or put back, counts again; views hold no data.
                if let Some(moved) = table.downcast_ref::<MemoryTable>() {
                    self.budget.track(&moved.table);
                }
                table
            }
        };
        self.inner.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let removed = self.inner.deregister_table(name)?;
        if let Some(table) = removed
            .as_ref()
            .and_then(|t| t.downcast_ref::<MemoryTable>())
        {
            self.budget.untrack(&table.table);
        }
        Ok(removed)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }
}

/// A memory connector table: a [`MemTable`] whose inserts count against the catalog's limit.
#[derive(Debug)]
pub struct MemoryTable {
    table: Arc<MemTable>,
    budget: Arc<DataBudget>,
}

impl MemoryTable {
    /// The table's rows and schema.
    pub fn table(&self) -> &MemTable {
        &self.table
    }
}

#[async_trait]
impl TableProvider for MemoryTable {
    fn schema(&self) -> SchemaRef {
        self.table.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.table.constraints()
    }

    fn table_type(&self) -> TableType {
        self.table.table_type()
    }

    fn get_table_definition(&self) -> Option<&str> {
        self.table.get_table_definition()
    }

    fn get_logical_plan(&'_ self) -> Option<Cow<'_, LogicalPlan>> {
        self.table.get_logical_plan()
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.table.get_column_default(column)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.table.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.table.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.table.statistics()
    }

    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        // The table's own checks (schema, append only) first; its plan is not used.
        let _checked = self
            .table
            .insert_into(state, Arc::clone(&input), insert_op)
            .await?;
        let sink = CountedSink {
            table: Arc::clone(&self.table),
            schema: self.table.schema(),
            budget: Arc::clone(&self.budget),
        };
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }

    async fn delete_from(
        &self,
        state: &dyn Session,
        filters: Vec<Expr>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.table.delete_from(state, filters).await
    }

    async fn update(
        &self,
        state: &dyn Session,
        assignments: Vec<(String, Expr)>,
        filters: Vec<Expr>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.table.update(state, assignments, filters).await
    }
}

/// Appends inserted rows to a memory table, counting each batch against the catalog's limit
/// as it arrives and storing nothing until all arrived, so a failed insert leaves the table
/// as it was.
#[derive(Debug)]
struct CountedSink {
    table: Arc<MemTable>,
    schema: SchemaRef,
    budget: Arc<DataBudget>,
}

impl DisplayAs for CountedSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemoryTable (partitions={})", self.table.batches.len())
    }
}

#[async_trait]
impl DataSink for CountedSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        mut data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        let partitions = self.table.batches.len().max(1);
        let mut arrived: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
        let mut reserved = 0u64;
        let mut rows = 0u64;
        let mut next = 0;
        let outcome: DfResult<()> = async {
            while let Some(batch) = data.next().await.transpose()? {
                let bytes = batch.get_array_memory_size() as u64;
                self.budget.reserve(bytes)?;
                reserved = reserved.saturating_add(bytes);
                rows = rows.saturating_add(batch.num_rows() as u64);
                arrived[next].push(batch);
                next = (next + 1) % partitions;
            }
            Ok(())
        }
        .await;
        if outcome.is_ok() {
            for (target, mut batches) in self.table.batches.iter().zip(arrived) {
                target.write().await.append(&mut batches);
            }
        }
        // Stored or dropped, the batches are no longer in flight.
        self.budget.release(reserved);
        outcome.map(|()| rows)
    }
}

/// A memory table with `schema` holding `table`'s rows, each batch's columns made by
/// `columns` from the old batch. Arrays are shared, not copied, where `columns` reuses them.
pub async fn rebuild(
    table: &MemTable,
    schema: SchemaRef,
    columns: impl Fn(&RecordBatch) -> Vec<ArrayRef>,
) -> DfResult<MemTable> {
    let mut partitions = Vec::with_capacity(table.batches.len());
    for partition in &table.batches {
        let batches = partition.read().await;
        let rebuilt = batches
            .iter()
            .map(|batch| RecordBatch::try_new(Arc::clone(&schema), columns(batch)))
            .collect::<Result<Vec<_>, _>>()?;
        partitions.push(rebuilt);
    }
    if partitions.is_empty() {
        partitions.push(vec![]);
    }
    MemTable::try_new(schema, partitions)
}

/// How many rows a memory table holds.
pub async fn row_count(table: &MemTable) -> usize {
    let mut rows = 0;
    for partition in &table.batches {
        rows += partition
            .read()
            .await
            .iter()
            .map(RecordBatch::num_rows)
            .sum::<usize>();
    }
    rows
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn run(ctx: &SessionContext, sql: &str) -> DfResult<Vec<RecordBatch>> {
        ctx.sql(sql).await?.collect().await
    }

    #[tokio::test]
    async fn data_beyond_the_limit_is_refused_and_dropped_tables_free_it() {
        let connector = MemoryConnector::with_limit(64 << 10);
        let ctx = SessionContext::new();
        let _previous = ctx.register_catalog("memory", connector.catalog());
        run(&ctx, "CREATE TABLE memory.default.t (x VARCHAR)")
            .await
            .expect("create");
        // Distinct values: a constant would be one string shared by every row.
        let big = "INSERT INTO memory.default.t \
                   SELECT repeat(CAST(value AS VARCHAR), 200) FROM generate_series(1, 2000)";
        let error = run(&ctx, big).await.expect_err("over the limit");
        assert!(
            error
                .to_string()
                .contains("Memory limit [65536] for memory connector exceeded"),
            "{error}"
        );
        assert_eq!(connector.data_size(), 0, "a refused insert stores nothing");
        run(&ctx, "INSERT INTO memory.default.t VALUES ('a'), ('b')")
            .await
            .expect("small insert");
        assert!(connector.data_size() > 0);
        let ctas = "CREATE TABLE memory.default.u AS \
                    SELECT repeat(CAST(value AS VARCHAR), 200) AS y \
                    FROM generate_series(1, 2000)";
        let error = run(&ctx, ctas).await.expect_err("CTAS over the limit");
        assert!(
            error.to_string().contains("for memory connector exceeded"),
            "{error}"
        );
        // A renamed table (registered under its new name, then removed from the old one, as
        // the engine's ALTER TABLE RENAME does) still counts.
        let held = connector.data_size();
        let schema = connector.catalog().schema("default").expect("schema");
        let table = schema.table("t").await.expect("lookup").expect("table");
        schema
            .register_table("t2".to_string(), table)
            .expect("new name");
        schema.deregister_table("t").expect("old name");
        assert_eq!(connector.data_size(), held);
        run(&ctx, "DROP TABLE memory.default.t2")
            .await
            .expect("drop");
        assert_eq!(connector.data_size(), 0);
    }

    #[tokio::test]
    async fn rebuild_keeps_rows_under_a_new_schema() {
        let old = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&old),
            vec![Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef],
        )
        .expect("batch");
        let table = MemTable::try_new(old, vec![vec![batch.clone()], vec![batch]]).expect("table");
        let new = Arc::new(Schema::new(vec![
            Field::new("b", DataType::Int64, true),
            Field::new("c", DataType::Utf8, true),
        ]));
        let rebuilt = rebuild(&table, Arc::clone(&new), |batch| {
            vec![
                Arc::clone(batch.column(0)),
                Arc::new(StringArray::new_null(batch.num_rows())) as ArrayRef,
            ]
        })
        .await
        .expect("rebuilt");
        assert_eq!(row_count(&rebuilt).await, 6);
        let first = rebuilt.batches[0].read().await;
        assert_eq!(first[0].schema(), new);
        assert_eq!(first[0].column(1).null_count(), 3);
    }
}
