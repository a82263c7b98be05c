//! `information_schema` inside every catalog, with Trino's tables and columns.
//!
//! Tables are built when scanned, from the catalog's live metadata. Filters on the schema and
//! table name ([`crate::metadata_filter`]) are used to read only the tables asked for, so
//! `SHOW COLUMNS` on one table does not open every table of a large catalog.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, Session, TableProvider};
use datafusion::common::{Result as DfResult, not_impl_err};
use datafusion::datasource::TableType;
use vivace_spi::{column_comment, table_comment};

use crate::metadata_filter::{NameFilter, NamePart};
use crate::metadata_table::{MetadataRows, MetadataTable, load_table, table_names};
use vivace_functions::types::trino_type_of_field;

/// The schema's name.
pub(crate) const INFORMATION_SCHEMA: &str = "information_schema";

use vivace_sql::hidden_columns;

/// The tables of `information_schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InfoTable {
    Schemata,
    Tables,
    Columns,
    Views,
    TablePrivileges,
    Roles,
    ApplicableRoles,
    EnabledRoles,
}

impl InfoTable {
    const ALL: [InfoTable; 8] = [
        InfoTable::ApplicableRoles,
        InfoTable::Columns,
        InfoTable::EnabledRoles,
        InfoTable::Roles,
        InfoTable::Schemata,
        InfoTable::TablePrivileges,
        InfoTable::Tables,
        InfoTable::Views,
    ];

    fn name(self) -> &'static str {
        match self {
            InfoTable::Schemata => "schemata",
            InfoTable::Tables => "tables",
            InfoTable::Columns => "columns",
            InfoTable::Views => "views",
            InfoTable::TablePrivileges => "table_privileges",
            InfoTable::Roles => "roles",
            InfoTable::ApplicableRoles => "applicable_roles",
            InfoTable::EnabledRoles => "enabled_roles",
        }
    }

    fn schema(self) -> SchemaRef {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        let fields = match self {
            InfoTable::Schemata => vec![text("catalog_name"), text("schema_name")],
            InfoTable::Tables => vec![
                text("table_catalog"),
                text("table_schema"),
                text("table_name"),
                text("table_type"),
                text("trino_relation_type"),
                text("table_comment"),
            ],
            InfoTable::Columns => vec![
                text("table_catalog"),
                text("table_schema"),
                text("table_name"),
                text("column_name"),
                Field::new("ordinal_position", DataType::Int64, true),
                text("column_default"),
                text("is_nullable"),
                text("data_type"),
                text("comment"),
                text("extra_info"),
                text("column_comment"),
            ],
            InfoTable::Views => vec![
                text("table_catalog"),
                text("table_schema"),
                text("table_name"),
                text("view_definition"),
            ],
            InfoTable::TablePrivileges => vec![
                text("grantor"),
                text("grantor_type"),
                text("grantee"),
                text("grantee_type"),
                text("table_catalog"),
                text("table_schema"),
                text("table_name"),
                text("privilege_type"),
                text("is_grantable"),
                text("with_hierarchy"),
            ],
            InfoTable::Roles | InfoTable::EnabledRoles => vec![text("role_name")],
            InfoTable::ApplicableRoles => vec![
                text("grantee"),
                text("grantee_type"),
                text("role_name"),
                text("is_grantable"),
            ],
        };
        Arc::new(Schema::new(fields))
    }
}

/// `information_schema` of one catalog.
#[derive(Debug)]
pub(crate) struct InformationSchema {
    catalog_name: String,
    catalog: Arc<dyn CatalogProvider>,
}

impl InformationSchema {
    /// The information schema of `catalog`, named `catalog_name`.
    pub(crate) fn new(catalog_name: &str, catalog: Arc<dyn CatalogProvider>) -> Self {
        InformationSchema {
            catalog_name: catalog_name.to_string(),
            catalog,
        }
    }
}

#[async_trait]
impl SchemaProvider for InformationSchema {
    fn table_names(&self) -> Vec<String> {
        InfoTable::ALL
            .iter()
            .map(|t| t.name().to_string())
            .collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        Ok(InfoTable::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .map(|kind| {
                MetadataTable::provider(InfoSchemaTable {
                    kind,
                    catalog_name: self.catalog_name.clone(),
                    catalog: Arc::clone(&self.catalog),
                })
            }))
    }

    fn table_exist(&self, name: &str) -> bool {
        InfoTable::ALL.iter().any(|t| t.name() == name)
    }

    fn register_table(
        &self,
        name: String,
        _table: Arc<dyn TableProvider>,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        not_impl_err!("Cannot create table '{name}' in {INFORMATION_SCHEMA}")
    }
}

#[derive(Debug)]
struct InfoSchemaTable {
    kind: InfoTable,
    catalog_name: String,
    catalog: Arc<dyn CatalogProvider>,
}

/// Which part of a name the `information_schema` columns hold.
fn name_part(column: &str) -> Option<NamePart> {
    match column {
        "table_catalog" | "catalog_name" => Some(NamePart::Catalog),
        "table_schema" | "schema_name" => Some(NamePart::Schema),
        "table_name" => Some(NamePart::Table),
        _ => None,
    }
}

#[async_trait]
impl MetadataRows for InfoSchemaTable {
    fn schema(&self) -> SchemaRef {
        self.kind.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn name_part(column: &str) -> Option<NamePart> {
        name_part(column)
    }

    async fn rows(&self, _state: &dyn Session, names: &NameFilter) -> DfResult<RecordBatch> {
        self.build(names).await
    }
}

/// A table seen while listing: its schema, name and provider.
struct Listed {
    schema: String,
    name: String,
    provider: Option<Arc<dyn TableProvider>>,
}

impl InfoSchemaTable {
    fn schema_names(&self, names: &NameFilter) -> Vec<String> {
        if !names.catalog_matches(&self.catalog_name) {
            return vec![];
        }
        let mut schemas = self.catalog.schema_names();
        if !schemas.iter().any(|n| n == INFORMATION_SCHEMA) {
            schemas.push(INFORMATION_SCHEMA.to_string());
        }
        schemas.sort();
        schemas.retain(|s| names.schema_matches(s));
        schemas
    }

    fn schema_provider(&self, schema: &str) -> Option<Arc<dyn SchemaProvider>> {
        if schema == INFORMATION_SCHEMA {
            Some(Arc::new(InformationSchema::new(
                &self.catalog_name,
                Arc::clone(&self.catalog),
            )))
        } else {
            self.catalog.schema(schema)
        }
    }

    async fn list_tables(&self, names: &NameFilter, load: bool) -> Vec<Listed> {
        let mut listed = Vec::new();
        for schema in self.schema_names(names) {
            let Some(provider) = self.schema_provider(&schema) else {
                continue;
            };
            for name in table_names(provider.as_ref(), names) {
                let table = if load {
                    let loaded =
                        load_table(&self.catalog_name, &schema, provider.as_ref(), &name).await;
                    match loaded {
                        Some(table) => Some(table),
                        None => continue,
                    }
                } else {
                    None
                };
                listed.push(Listed {
                    schema: schema.clone(),
                    name,
                    provider: table,
                });
            }
        }
        listed
    }

    async fn build(&self, names: &NameFilter) -> DfResult<RecordBatch> {
        let schema = self.kind.schema();
        let columns_for = |n: usize| (0..n).map(|_| StringBuilder::new()).collect::<Vec<_>>();
        let arrays: Vec<ArrayRef> = match self.kind {
            InfoTable::Schemata => {
                let mut columns = columns_for(2);
                for name in self.schema_names(names) {
                    columns[0].append_value(&self.catalog_name);
                    columns[1].append_value(name);
                }
                finish(columns)
            }
            InfoTable::Tables => {
                let mut columns = columns_for(6);
                for table in self.list_tables(names, true).await {
                    let is_view = table.schema != INFORMATION_SCHEMA
                        && table.provider.as_ref().map(|p| p.table_type()) == Some(TableType::View);
                    let (table_type, relation_type) = if is_view {
                        ("VIEW", "VIEW")
                    } else {
                        ("BASE TABLE", "TABLE")
                    };
                    columns[0].append_value(&self.catalog_name);
                    columns[1].append_value(&table.schema);
                    columns[2].append_value(&table.name);
                    columns[3].append_value(table_type);
                    columns[4].append_value(relation_type);
                    let schema = table.provider.as_ref().map(|p| p.schema());
                    columns[5].append_option(schema.as_deref().and_then(table_comment));
                }
                finish(columns)
            }
            InfoTable::Views => {
                let mut columns = columns_for(4);
                for table in self.list_tables(names, true).await {
                    let Some(provider) = &table.provider else {
                        continue;
                    };
                    if provider.table_type() != TableType::View
                        || table.schema == INFORMATION_SCHEMA
                    {
                        continue;
                    }
                    columns[0].append_value(&self.catalog_name);
                    columns[1].append_value(&table.schema);
                    columns[2].append_value(&table.name);
                    columns[3].append_option(provider.get_table_definition());
                }
                finish(columns)
            }
            InfoTable::Columns => {
                let mut text = columns_for(10);
                let mut ordinal = Int64Builder::new();
                for table in self.list_tables(names, true).await {
                    let Some(provider) = &table.provider else {
                        continue;
                    };
                    let hidden = hidden_columns(&table.schema, &table.name);
                    let schema = provider.schema();
                    let visible = schema
                        .fields()
                        .iter()
                        .filter(|f| !hidden.contains(&f.name().as_str()));
                    for (i, field) in visible.enumerate() {
                        text[0].append_value(&self.catalog_name);
                        text[1].append_value(&table.schema);
                        text[2].append_value(&table.name);
                        text[3].append_value(field.name());
                        ordinal.append_value(i as i64 + 1);
                        text[4].append_null();
                        text[5].append_value(if field.is_nullable() { "YES" } else { "NO" });
                        text[6].append_value(trino_type_of_field(field).to_string());
                        let comment = column_comment(field);
                        text[7].append_option(comment);
                        text[8].append_null();
                        text[9].append_option(comment);
                    }
                }
                let mut arrays = finish(text);
                arrays.insert(4, Arc::new(ordinal.finish()));
                arrays
            }
            // No privileges are granted and no roles exist (`SET ROLE` takes only ALL or
            // NONE), so these tables have their columns and no rows.
            InfoTable::TablePrivileges
            | InfoTable::Roles
            | InfoTable::ApplicableRoles
            | InfoTable::EnabledRoles => finish(columns_for(schema.fields().len())),
        };
        Ok(RecordBatch::try_new(schema, arrays)?)
    }
}

fn finish(columns: Vec<StringBuilder>) -> Vec<ArrayRef> {
    columns
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect()
}
