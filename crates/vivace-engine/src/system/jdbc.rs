//! `system.jdbc`: the tables the JDBC driver's `DatabaseMetaData` reads (`getCatalogs`,
//! `getSchemas`, `getTables`, `getColumns`, `getTypeInfo`, ...), with Trino's columns and
//! values. Tables the driver only reads with `LIMIT 0` exist with their columns and no rows.
//!
//! Filters on the catalog, schema and table name narrow what is listed
//! ([`crate::metadata_filter`]), so `getColumns` on one table does not open every table of
//! every catalog.

use std::sync::{Arc, Weak};

use arrow::array::{ArrayRef, RecordBatch, new_empty_array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::datasource::TableType;
use vivace_protocol::TrinoType;
use vivace_spi::column_comment;

use crate::catalog::CatalogManager;
use crate::metadata_filter::{NameFilter, NamePart};
use crate::metadata_table::{MetadataRows, load_table, table_names};
use vivace_functions::types::trino_type_of_field;
use vivace_sql::hidden_columns;

/// `java.sql.Types` codes Trino reports.
mod sql_types {
    pub(super) const BOOLEAN: i64 = 16;
    pub(super) const TINYINT: i64 = -6;
    pub(super) const SMALLINT: i64 = 5;
    pub(super) const INTEGER: i64 = 4;
    pub(super) const BIGINT: i64 = -5;
    pub(super) const REAL: i64 = 7;
    pub(super) const DOUBLE: i64 = 8;
    pub(super) const DECIMAL: i64 = 3;
    pub(super) const CHAR: i64 = 1;
    pub(super) const VARCHAR: i64 = 12;
    pub(super) const VARBINARY: i64 = -3;
    pub(super) const DATE: i64 = 91;
    pub(super) const TIME: i64 = 92;
    pub(super) const TIMESTAMP: i64 = 93;
    pub(super) const TIME_WITH_TIMEZONE: i64 = 2013;
    pub(super) const TIMESTAMP_WITH_TIMEZONE: i64 = 2014;
    pub(super) const ARRAY: i64 = 2003;
    pub(super) const JAVA_OBJECT: i64 = 2000;
}

/// The length of the longest time zone id (`America/Argentina/ComodRivadavia`), which Trino
/// adds to the size of `timestamp with time zone`.
const LONGEST_ZONE_ID: i64 = 32;

/// What an unbounded `varchar` or a `varbinary` reports as its size.
const UNBOUNDED: i64 = i32::MAX as i64;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Bigint,
    Boolean,
}

/// The tables of `system.jdbc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JdbcTable {
    Catalogs,
    Schemas,
    TableTypes,
    Tables,
    Columns,
    Types,
    Procedures,
    ProcedureColumns,
    Udts,
    SuperTypes,
    SuperTables,
    Attributes,
    PseudoColumns,
}

impl JdbcTable {
    /// Every table of the schema.
    pub(crate) const ALL: [JdbcTable; 13] = [
        JdbcTable::Catalogs,
        JdbcTable::Schemas,
        JdbcTable::TableTypes,
        JdbcTable::Tables,
        JdbcTable::Columns,
        JdbcTable::Types,
        JdbcTable::Procedures,
        JdbcTable::ProcedureColumns,
        JdbcTable::Udts,
        JdbcTable::SuperTypes,
        JdbcTable::SuperTables,
        JdbcTable::Attributes,
        JdbcTable::PseudoColumns,
    ];

    /// The table's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            JdbcTable::Catalogs => "catalogs",
            JdbcTable::Schemas => "schemas",
            JdbcTable::TableTypes => "table_types",
            JdbcTable::Tables => "tables",
            JdbcTable::Columns => "columns",
            JdbcTable::Types => "types",
            JdbcTable::Procedures => "procedures",
            JdbcTable::ProcedureColumns => "procedure_columns",
            JdbcTable::Udts => "udts",
            JdbcTable::SuperTypes => "super_types",
            JdbcTable::SuperTables => "super_tables",
            JdbcTable::Attributes => "attributes",
            JdbcTable::PseudoColumns => "pseudo_columns",
        }
    }

    fn columns(self) -> &'static [(&'static str, Kind)] {
        use Kind::{Bigint as B, Boolean as Z, Text as T};
        match self {
            JdbcTable::Catalogs => &[("table_cat", T)],
            JdbcTable::Schemas => &[("table_schem", T), ("table_catalog", T)],
            JdbcTable::TableTypes => &[("table_type", T)],
            JdbcTable::Tables => &[
                ("table_cat", T),
                ("table_schem", T),
                ("table_name", T),
                ("table_type", T),
                ("remarks", T),
                ("type_cat", T),
                ("type_schem", T),
                ("type_name", T),
                ("self_referencing_col_name", T),
                ("ref_generation", T),
            ],
            JdbcTable::Columns => &[
                ("table_cat", T),
                ("table_schem", T),
                ("table_name", T),
                ("column_name", T),
                ("data_type", B),
                ("type_name", T),
                ("column_size", B),
                ("buffer_length", B),
                ("decimal_digits", B),
                ("num_prec_radix", B),
                ("nullable", B),
                ("remarks", T),
                ("column_def", T),
                ("sql_data_type", B),
                ("sql_datetime_sub", B),
                ("char_octet_length", B),
                ("ordinal_position", B),
                ("is_nullable", T),
                ("scope_catalog", T),
                ("scope_schema", T),
                ("scope_table", T),
                ("source_data_type", B),
                ("is_autoincrement", T),
                ("is_generatedcolumn", T),
            ],
            JdbcTable::Types => &[
                ("type_name", T),
                ("data_type", B),
                ("precision", B),
                ("literal_prefix", T),
                ("literal_suffix", T),
                ("create_params", T),
                ("nullable", B),
                ("case_sensitive", Z),
                ("searchable", B),
                ("unsigned_attribute", Z),
                ("fixed_prec_scale", Z),
                ("auto_increment", Z),
                ("local_type_name", T),
                ("minimum_scale", B),
                ("maximum_scale", B),
                ("sql_data_type", B),
                ("sql_datetime_sub", B),
                ("num_prec_radix", B),
            ],
            JdbcTable::Procedures => &[
                ("procedure_cat", T),
                ("procedure_schem", T),
                ("procedure_name", T),
                ("remarks", T),
                ("procedure_type", B),
                ("specific_name", T),
            ],
            JdbcTable::ProcedureColumns => &[
                ("procedure_cat", T),
                ("procedure_schem", T),
                ("procedure_name", T),
                ("column_name", T),
                ("column_type", B),
                ("data_type", B),
                ("type_name", T),
                ("precision", B),
                ("length", B),
                ("scale", B),
                ("radix", B),
                ("nullable", B),
                ("remarks", T),
                ("column_def", T),
                ("sql_data_type", B),
                ("sql_datetime_sub", B),
                ("char_octet_length", B),
                ("ordinal_position", B),
                ("is_nullable", T),
                ("specific_name", T),
            ],
            JdbcTable::Udts => &[
                ("type_cat", T),
                ("type_schem", T),
                ("type_name", T),
                ("class_name", T),
                ("data_type", T),
                ("remarks", T),
                ("base_type", T),
            ],
            JdbcTable::SuperTypes => &[
                ("type_cat", T),
                ("type_schem", T),
                ("type_name", T),
                ("supertype_cat", T),
                ("supertype_schem", T),
                ("supertype_name", T),
            ],
            JdbcTable::SuperTables => &[
                ("table_cat", T),
                ("table_schem", T),
                ("table_name", T),
                ("supertable_name", T),
            ],
            JdbcTable::Attributes => &[
                ("type_cat", T),
                ("type_schem", T),
                ("type_name", T),
                ("attr_name", T),
                ("data_type", B),
                ("attr_type_name", T),
                ("attr_size", B),
                ("decimal_digits", B),
                ("num_prec_radix", B),
                ("nullable", B),
                ("remarks", T),
                ("attr_def", T),
                ("sql_data_type", B),
                ("sql_datetime_sub", B),
                ("char_octet_length", B),
                ("ordinal_position", B),
                ("is_nullable", T),
                ("scope_catalog", T),
                ("scope_schema", T),
                ("scope_table", T),
                ("source_data_type", B),
            ],
            JdbcTable::PseudoColumns => &[
                ("table_cat", T),
                ("table_schem", T),
                ("table_name", T),
                ("column_name", T),
                ("data_type", B),
                ("column_size", B),
                ("decimal_digits", B),
                ("num_prec_radix", B),
                ("column_usage", T),
                ("remarks", T),
                ("char_octet_length", B),
                ("is_nullable", B),
            ],
        }
    }

    fn schema(self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns()
            .iter()
            .map(|(name, kind)| {
                let data_type = match kind {
                    Kind::Text => DataType::Utf8,
                    Kind::Bigint => DataType::Int64,
                    Kind::Boolean => DataType::Boolean,
                };
                Field::new(*name, data_type, true)
            })
            .collect();
        Arc::new(Schema::new(fields))
    }
}

/// One `system.jdbc` table over the engine's catalogs.
#[derive(Debug)]
pub(crate) struct JdbcSystemTable {
    kind: JdbcTable,
    catalogs: Weak<CatalogManager>,
}

impl JdbcSystemTable {
    /// The table `kind`, listing the catalogs of `catalogs`.
    pub(crate) fn new(kind: JdbcTable, catalogs: Weak<CatalogManager>) -> Self {
        JdbcSystemTable { kind, catalogs }
    }
}

#[async_trait]
impl MetadataRows for JdbcSystemTable {
    fn schema(&self) -> SchemaRef {
        self.kind.schema()
    }

    fn name_part(column: &str) -> Option<NamePart> {
        name_part(column)
    }

    async fn rows(&self, _state: &dyn Session, names: &NameFilter) -> DfResult<RecordBatch> {
        let rows = match self.catalogs.upgrade() {
            Some(manager) => self.list_rows(&manager, names).await,
            None => Vec::new(),
        };
        to_batch(self.kind.schema(), rows)
    }
}

type Row = Vec<ScalarValue>;

/// Which part of a name the `system.jdbc` columns hold.
fn name_part(column: &str) -> Option<NamePart> {
    match column {
        "table_cat" | "table_catalog" => Some(NamePart::Catalog),
        "table_schem" => Some(NamePart::Schema),
        "table_name" => Some(NamePart::Table),
        _ => None,
    }
}

impl JdbcSystemTable {
    async fn list_rows(&self, manager: &CatalogManager, names: &NameFilter) -> Vec<Row> {
        match self.kind {
            JdbcTable::Catalogs => manager
                .list()
                .into_iter()
                .filter(|c| names.catalog_matches(&c.name))
                .map(|c| vec![text(&c.name)])
                .collect(),
            JdbcTable::Schemas => {
                let mut rows = Vec::new();
                for catalog in manager.list() {
                    if !names.catalog_matches(&catalog.name) {
                        continue;
                    }
                    for schema in catalog.provider.schema_names() {
                        if names.schema_matches(&schema) {
                            rows.push(vec![text(&schema), text(&catalog.name)]);
                        }
                    }
                }
                rows
            }
            JdbcTable::TableTypes => vec![vec![text("TABLE")], vec![text("VIEW")]],
            JdbcTable::Tables => list_tables(manager, names)
                .await
                .into_iter()
                .map(|t| {
                    let table_type = match t.provider.table_type() {
                        TableType::View => "VIEW",
                        _ => "TABLE",
                    };
                    let mut row = vec![
                        text(&t.catalog),
                        text(&t.schema),
                        text(&t.name),
                        text(table_type),
                    ];
                    row.extend(std::iter::repeat_n(ScalarValue::Utf8(None), 6));
                    row
                })
                .collect(),
            JdbcTable::Columns => {
                let mut rows = Vec::new();
                for t in list_tables(manager, names).await {
                    let hidden = hidden_columns(&t.schema, &t.name);
                    let schema = t.provider.schema();
                    let visible = schema
                        .fields()
                        .iter()
                        .filter(|f| !hidden.contains(&f.name().as_str()));
                    for (i, field) in visible.enumerate() {
                        let trino_type = trino_type_of_field(field);
                        rows.push(column_row(&t, field, &trino_type, i as i64 + 1));
                    }
                }
                rows
            }
            JdbcTable::Types => type_rows(),
            JdbcTable::Procedures
            | JdbcTable::ProcedureColumns
            | JdbcTable::Udts
            | JdbcTable::SuperTypes
            | JdbcTable::SuperTables
            | JdbcTable::Attributes
            | JdbcTable::PseudoColumns => Vec::new(),
        }
    }
}

/// A table found while listing, with its provider loaded.
pub(super) struct Listed {
    pub(super) catalog: String,
    pub(super) schema: String,
    pub(super) name: String,
    pub(super) provider: Arc<dyn TableProvider>,
}

/// The tables of `manager` that `names` lets through, by catalog, schema and name.
pub(super) async fn list_tables(manager: &CatalogManager, names: &NameFilter) -> Vec<Listed> {
    let mut listed = Vec::new();
    for catalog in manager.list() {
        if !names.catalog_matches(&catalog.name) {
            continue;
        }
        for schema in catalog.provider.schema_names() {
            if !names.schema_matches(&schema) {
                continue;
            }
            let Some(provider) = catalog.provider.schema(&schema) else {
                continue;
            };
            for name in table_names(provider.as_ref(), names) {
                let loaded = load_table(&catalog.name, &schema, provider.as_ref(), &name).await;
                if let Some(table) = loaded {
                    listed.push(Listed {
                        catalog: catalog.name.clone(),
                        schema: schema.clone(),
                        name,
                        provider: table,
                    });
                }
            }
        }
    }
    listed
}

/// JDBC's description of a Trino type.
#[derive(Debug, PartialEq, Eq)]
struct JdbcType {
    data_type: i64,
    column_size: Option<i64>,
    decimal_digits: Option<i64>,
    num_prec_radix: Option<i64>,
    char_octet_length: Option<i64>,
}

fn jdbc_type(trino_type: &TrinoType) -> JdbcType {
    let plain = |data_type| JdbcType {
        data_type,
        column_size: None,
        decimal_digits: None,
        num_prec_radix: None,
        char_octet_length: None,
    };
    let number = |data_type, size, radix| JdbcType {
        column_size: Some(size),
        num_prec_radix: Some(radix),
        ..plain(data_type)
    };
    let characters = |data_type, size: i64| JdbcType {
        column_size: Some(size),
        char_octet_length: Some(size),
        ..plain(data_type)
    };
    let datetime = |data_type, base: i64, precision: u32| {
        let p = i64::from(precision);
        JdbcType {
            column_size: Some(base + p.min(1) + p),
            decimal_digits: Some(p),
            ..plain(data_type)
        }
    };
    match trino_type {
        TrinoType::Boolean => plain(sql_types::BOOLEAN),
        TrinoType::Tinyint => number(sql_types::TINYINT, 3, 10),
        TrinoType::Smallint => number(sql_types::SMALLINT, 5, 10),
        TrinoType::Integer => number(sql_types::INTEGER, 10, 10),
        TrinoType::Bigint => number(sql_types::BIGINT, 19, 10),
        TrinoType::Real => number(sql_types::REAL, 24, 2),
        TrinoType::Double => number(sql_types::DOUBLE, 53, 2),
        TrinoType::Decimal { precision, scale } => JdbcType {
            decimal_digits: Some(i64::from(*scale)),
            ..number(sql_types::DECIMAL, i64::from(*precision), 10)
        },
        TrinoType::Varchar(length) => characters(
            sql_types::VARCHAR,
            length.map(i64::from).unwrap_or(UNBOUNDED),
        ),
        TrinoType::Char(length) => characters(sql_types::CHAR, i64::from(*length)),
        TrinoType::Varbinary => characters(sql_types::VARBINARY, UNBOUNDED),
        TrinoType::Date => JdbcType {
            column_size: Some(14),
            ..plain(sql_types::DATE)
        },
        TrinoType::Time {
            precision,
            with_time_zone: false,
        } => datetime(sql_types::TIME, 8, *precision),
        TrinoType::Time {
            precision,
            with_time_zone: true,
        } => datetime(sql_types::TIME_WITH_TIMEZONE, 14, *precision),
        TrinoType::Timestamp {
            precision,
            with_time_zone: false,
        } => datetime(sql_types::TIMESTAMP, 21, *precision),
        TrinoType::Timestamp {
            precision,
            with_time_zone: true,
        } => datetime(
            sql_types::TIMESTAMP_WITH_TIMEZONE,
            23 + LONGEST_ZONE_ID,
            *precision,
        ),
        TrinoType::Array(_) => plain(sql_types::ARRAY),
        _ => plain(sql_types::JAVA_OBJECT),
    }
}

fn column_row(table: &Listed, field: &Field, trino_type: &TrinoType, ordinal: i64) -> Row {
    let jdbc = jdbc_type(trino_type);
    let nullable = field.is_nullable();
    let null_text = || ScalarValue::Utf8(None);
    let null_int = || ScalarValue::Int64(None);
    vec![
        text(&table.catalog),
        text(&table.schema),
        text(&table.name),
        text(field.name()),
        bigint(jdbc.data_type),
        text(&trino_type.to_string()),
        ScalarValue::Int64(jdbc.column_size),
        bigint(0),
        ScalarValue::Int64(jdbc.decimal_digits),
        ScalarValue::Int64(jdbc.num_prec_radix),
        bigint(i64::from(nullable)),
        ScalarValue::Utf8(column_comment(field).map(str::to_string)),
        null_text(),
        null_int(),
        null_int(),
        ScalarValue::Int64(jdbc.char_octet_length),
        bigint(ordinal),
        text(if nullable { "YES" } else { "NO" }),
        null_text(),
        null_text(),
        null_text(),
        null_int(),
        null_text(),
        null_text(),
    ]
}

/// The types `getTypeInfo` lists: every type Vivace has, then the parametric ones by their
/// base names (JAVA_OBJECT, or ARRAY for `array`), as Trino lists its type registry.
fn type_rows() -> Vec<Row> {
    let concrete = [
        TrinoType::Boolean,
        TrinoType::Tinyint,
        TrinoType::Smallint,
        TrinoType::Integer,
        TrinoType::Bigint,
        TrinoType::Real,
        TrinoType::Double,
        TrinoType::Varbinary,
        TrinoType::Date,
        TrinoType::IntervalYearToMonth,
        TrinoType::IntervalDayToSecond,
        TrinoType::Json,
        TrinoType::Uuid,
        TrinoType::IpAddress,
    ];
    let parametric = [
        "varchar",
        "char",
        "decimal",
        "time",
        "time with time zone",
        "timestamp",
        "timestamp with time zone",
        "array",
        "map",
        "row",
    ];
    let row = |name: &str, data_type: i64, precision: Option<i64>, searchable, radix| {
        let null_text = || ScalarValue::Utf8(None);
        vec![
            text(name),
            bigint(data_type),
            ScalarValue::Int64(precision),
            null_text(),
            null_text(),
            null_text(),
            bigint(1),
            ScalarValue::Boolean(Some(false)),
            bigint(searchable),
            ScalarValue::Boolean(None),
            ScalarValue::Boolean(Some(false)),
            ScalarValue::Boolean(None),
            null_text(),
            bigint(0),
            bigint(0),
            ScalarValue::Int64(None),
            ScalarValue::Int64(None),
            ScalarValue::Int64(radix),
        ]
    };
    let mut rows: Vec<Row> = concrete
        .iter()
        .map(|t| {
            let jdbc = jdbc_type(t);
            row(
                &t.to_string(),
                jdbc.data_type,
                jdbc.column_size,
                3,
                jdbc.num_prec_radix,
            )
        })
        .collect();
    rows.extend(parametric.iter().map(|name| {
        let data_type = if *name == "array" {
            sql_types::ARRAY
        } else {
            sql_types::JAVA_OBJECT
        };
        row(name, data_type, None, 0, None)
    }));
    rows
}

pub(super) fn text(value: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(value.to_string()))
}

fn bigint(value: i64) -> ScalarValue {
    ScalarValue::Int64(Some(value))
}

pub(super) fn to_batch(schema: SchemaRef, rows: Vec<Row>) -> DfResult<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            if rows.is_empty() {
                Ok(new_empty_array(field.data_type()))
            } else {
                ScalarValue::iter_to_array(rows.iter().map(|row| row[i].clone()))
            }
        })
        .collect::<DfResult<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(schema, columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_trino() {
        let ts = |precision, with_time_zone| {
            jdbc_type(&TrinoType::Timestamp {
                precision,
                with_time_zone,
            })
        };
        assert_eq!(ts(3, false).column_size, Some(25));
        assert_eq!(ts(6, false).column_size, Some(28));
        assert_eq!(ts(0, false).column_size, Some(21));
        assert_eq!(ts(3, true).column_size, Some(59));
        assert_eq!(ts(3, true).data_type, 2014);
        let time = jdbc_type(&TrinoType::Time {
            precision: 3,
            with_time_zone: false,
        });
        assert_eq!((time.column_size, time.decimal_digits), (Some(12), Some(3)));
        let decimal = jdbc_type(&TrinoType::Decimal {
            precision: 12,
            scale: 2,
        });
        assert_eq!(
            decimal,
            JdbcType {
                data_type: 3,
                column_size: Some(12),
                decimal_digits: Some(2),
                num_prec_radix: Some(10),
                char_octet_length: None,
            }
        );
        let varchar = jdbc_type(&TrinoType::Varchar(None));
        assert_eq!(varchar.column_size, Some(2147483647));
        assert_eq!(varchar.char_octet_length, Some(2147483647));
        assert_eq!(
            jdbc_type(&TrinoType::Map(
                Box::new(TrinoType::Bigint),
                Box::new(TrinoType::Bigint)
            ))
            .data_type,
            2000
        );
    }
}
