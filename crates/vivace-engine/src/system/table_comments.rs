//! `system.metadata.table_comments`: every table and view with its comment (NULL when it has
//! none), as SQLAlchemy's `get_table_comment` reads it. Filters on the names narrow what is
//! listed, as in `system.jdbc`.

use std::sync::{Arc, Weak};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use vivace_spi::table_comment;

use super::jdbc::{list_tables, text, to_batch};
use crate::catalog::CatalogManager;
use crate::metadata_filter::{NameFilter, NamePart};

/// The `table_comments` table over the engine's catalogs.
#[derive(Debug)]
pub(super) struct TableComments {
    catalogs: Weak<CatalogManager>,
}

impl TableComments {
    pub(super) fn new(catalogs: Weak<CatalogManager>) -> Self {
        TableComments { catalogs }
    }
}

fn name_part(column: &str) -> Option<NamePart> {
    match column {
        "catalog_name" => Some(NamePart::Catalog),
        "schema_name" => Some(NamePart::Schema),
        "table_name" => Some(NamePart::Table),
        _ => None,
    }
}

#[async_trait]
impl TableProvider for TableComments {
    fn schema(&self) -> SchemaRef {
        let fields = ["catalog_name", "schema_name", "table_name", "comment"]
            .map(|name| Field::new(name, DataType::Utf8, true));
        Arc::new(Schema::new(fields.to_vec()))
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let names = NameFilter::from_filters(filters, name_part);
        let listed = match self.catalogs.upgrade() {
            Some(manager) => list_tables(&manager, &names).await,
            None => Vec::new(),
        };
        let rows = listed
            .into_iter()
            .filter(|t| t.schema != crate::information_schema::INFORMATION_SCHEMA)
            .map(|t| {
                let schema = t.provider.schema();
                vec![
                    text(&t.catalog),
                    text(&t.schema),
                    text(&t.name),
                    ScalarValue::Utf8(table_comment(&schema).map(str::to_string)),
                ]
            })
            .collect();
        let batch = to_batch(self.schema(), rows)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.schema(),
            projection.cloned(),
        )?)
    }
}
