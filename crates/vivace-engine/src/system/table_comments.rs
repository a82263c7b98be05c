//! `system.metadata.table_comments`: every table and view with its comment (NULL when it has
//! none), as SQLAlchemy's `get_table_comment` reads it. Filters on the names narrow what is
//! listed, as in `system.jdbc`.

use std::sync::{Arc, Weak};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::{Result as DfResult, ScalarValue};
use vivace_spi::table_comment;

use super::jdbc::{list_tables, text, to_batch};
use crate::catalog::CatalogManager;
use crate::metadata_filter::{NameFilter, NamePart};
use crate::metadata_table::MetadataRows;

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

#[async_trait]
impl MetadataRows for TableComments {
    fn schema(&self) -> SchemaRef {
        let fields = ["catalog_name", "schema_name", "table_name", "comment"]
            .map(|name| Field::new(name, DataType::Utf8, true));
        Arc::new(Schema::new(fields.to_vec()))
    }

    fn name_part(column: &str) -> Option<NamePart> {
        match column {
            "catalog_name" => Some(NamePart::Catalog),
            "schema_name" => Some(NamePart::Schema),
            "table_name" => Some(NamePart::Table),
            _ => None,
        }
    }

    async fn rows(&self, _state: &dyn Session, names: &NameFilter) -> DfResult<RecordBatch> {
        let listed = match self.catalogs.upgrade() {
            Some(manager) => list_tables(&manager, names).await,
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
        to_batch(self.schema(), rows)
    }
}
