//! The one `TableProvider` behind every metadata table (`information_schema`, `system.jdbc`,
//! `system.metadata.*`, `system.runtime.*`): a table says what its rows are ([`MetadataRows`])
//! and [`MetadataTable`] does the rest, the same way for all of them. Rows are listed when the
//! table is scanned, narrowed by the name filters a table understands ([`NameFilter`]).

use std::fmt::Debug;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, Session, TableProvider};
use datafusion::common::Result as DfResult;
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use tracing::warn;

use crate::metadata_filter::{NameFilter, NamePart};

/// What one metadata table lists.
#[async_trait]
pub(crate) trait MetadataRows: Debug + Send + Sync + 'static {
    /// The table's columns.
    fn schema(&self) -> SchemaRef;

    /// `View` for `information_schema`, as Trino lists it; `Base` otherwise.
    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Whether the scan is handed the query's filters (as inexact: they are applied again) to
    /// narrow its listing by [`name_part`](Self::name_part).
    const TAKES_FILTERS: bool = true;

    /// Which part of a name `column` holds, so filters on it narrow the listing; `None` for
    /// every column of a table that cannot be narrowed.
    fn name_part(column: &str) -> Option<NamePart>;

    /// The rows, in [`schema`](Self::schema): at least those `names` allows (every filter is
    /// applied again to what is listed).
    async fn rows(&self, state: &dyn Session, names: &NameFilter) -> DfResult<RecordBatch>;
}

/// A [`MetadataRows`] as a DataFusion table.
#[derive(Debug)]
pub(crate) struct MetadataTable<T>(pub(crate) T);

impl<T: MetadataRows> MetadataTable<T> {
    /// `rows` as a shared table provider.
    pub(crate) fn provider(rows: T) -> Arc<dyn TableProvider> {
        Arc::new(MetadataTable(rows))
    }
}

#[async_trait]
impl<T: MetadataRows> TableProvider for MetadataTable<T> {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        self.0.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        let pushdown = if T::TAKES_FILTERS {
            TableProviderFilterPushDown::Inexact
        } else {
            TableProviderFilterPushDown::Unsupported
        };
        Ok(vec![pushdown; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let names = NameFilter::from_filters(filters, T::name_part);
        let batch = self.0.rows(state, &names).await?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.0.schema(),
            projection.cloned(),
        )?)
    }
}

/// The tables of `schema` that `names` lets through, sorted, each once.
pub(crate) fn table_names(schema: &dyn SchemaProvider, names: &NameFilter) -> Vec<String> {
    let mut tables: Vec<String> = match names.tables() {
        Some(wanted) => wanted
            .iter()
            .filter(|t| schema.table_exist(t))
            .cloned()
            .collect(),
        None => schema.table_names(),
    };
    tables.sort();
    tables.dedup();
    tables
}

/// Table `name` of `schema` (in `catalog`, named `schema_name`), or `None` when it is gone or
/// its metadata cannot be read: a listing skips such a table and the server log says why.
pub(crate) async fn load_table(
    catalog: &str,
    schema_name: &str,
    schema: &dyn SchemaProvider,
    name: &str,
) -> Option<Arc<dyn TableProvider>> {
    match schema.table(name).await {
        Ok(table) => table,
        Err(e) => {
            warn!(%catalog, schema = %schema_name, table = %name, error = %e,
                "skipping table whose metadata cannot be read");
            None
        }
    }
}
