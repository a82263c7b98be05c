//! The `memory` connector: tables held in memory for the life of the server, created with
//! `CREATE SCHEMA`, `CREATE TABLE [AS]` and filled with `INSERT`, as in Trino's memory connector.
//!
//! Tables are DataFusion [`MemTable`]s. A change of definition (`ALTER TABLE`, `COMMENT ON`)
//! builds a new table from the old one's rows with [`rebuild`]; the engine then registers it in
//! the old one's place.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::SchemaRef;
use datafusion::catalog::{CatalogProvider, MemTable, MemoryCatalogProvider, MemorySchemaProvider};
use datafusion::common::Result as DfResult;
use vivace_common::PropertyMap;

use crate::{Connector, ConnectorFactory, ConnectorResult};

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
        _properties: &mut PropertyMap,
    ) -> ConnectorResult<Arc<dyn Connector>> {
        Ok(Arc::new(MemoryConnector::new()))
    }
}

/// The `memory` connector: one catalog with a `default` schema.
#[derive(Debug)]
pub struct MemoryConnector {
    catalog: Arc<MemoryCatalogProvider>,
}

impl MemoryConnector {
    /// An empty catalog holding only the `default` schema.
    pub fn new() -> Self {
        let catalog = MemoryCatalogProvider::new();
        // Registering into a fresh in-memory catalog cannot fail; the result only reports a
        // previous schema of the same name.
        let _previous = catalog.register_schema("default", Arc::new(MemorySchemaProvider::new()));
        MemoryConnector {
            catalog: Arc::new(catalog),
        }
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

    use super::*;

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
