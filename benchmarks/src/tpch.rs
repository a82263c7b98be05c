//! The TPC-H tables, their generators, and the 22 benchmark queries.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow,
    RecordBatchIterator, RegionArrow, SupplierArrow,
};

/// One TPC-H table: its name and the column prefix the specification uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// The table name (`lineitem`).
    pub name: &'static str,
    /// The specification's column prefix (`l_`).
    pub prefix: &'static str,
}

/// The eight tables, largest first.
pub const TABLES: [Table; 8] = [
    Table {
        name: "lineitem",
        prefix: "l_",
    },
    Table {
        name: "orders",
        prefix: "o_",
    },
    Table {
        name: "partsupp",
        prefix: "ps_",
    },
    Table {
        name: "part",
        prefix: "p_",
    },
    Table {
        name: "customer",
        prefix: "c_",
    },
    Table {
        name: "supplier",
        prefix: "s_",
    },
    Table {
        name: "nation",
        prefix: "n_",
    },
    Table {
        name: "region",
        prefix: "r_",
    },
];

impl Table {
    /// Whether the table has a fixed size that cannot be split into parts.
    pub fn is_fixed_size(self) -> bool {
        matches!(self.name, "nation" | "region")
    }

    /// A generator of part `part` (1-based) of `parts` at `scale`.
    pub fn generator(self, scale: f64, part: i32, parts: i32) -> Box<dyn RecordBatchIterator> {
        match self.name {
            "lineitem" => Box::new(LineItemArrow::new(LineItemGenerator::new(
                scale, part, parts,
            ))),
            "orders" => Box::new(OrderArrow::new(OrderGenerator::new(scale, part, parts))),
            "partsupp" => Box::new(PartSuppArrow::new(PartSuppGenerator::new(
                scale, part, parts,
            ))),
            "part" => Box::new(PartArrow::new(PartGenerator::new(scale, part, parts))),
            "customer" => Box::new(CustomerArrow::new(CustomerGenerator::new(
                scale, part, parts,
            ))),
            "supplier" => Box::new(SupplierArrow::new(SupplierGenerator::new(
                scale, part, parts,
            ))),
            "nation" => Box::new(NationArrow::new(NationGenerator::new(scale, part, parts))),
            _ => Box::new(RegionArrow::new(RegionGenerator::new(scale, part, parts))),
        }
    }

    /// `schema` with the prefix stripped from every column name (Trino's simplified naming);
    /// types, nullability and metadata are kept.
    pub fn simplified_schema(self, schema: &Schema) -> SchemaRef {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|field| {
                let name = field
                    .name()
                    .strip_prefix(self.prefix)
                    .unwrap_or(field.name());
                field.as_ref().clone().with_name(name)
            })
            .collect();
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
    }

    /// The table's Parquet file under a data directory.
    pub fn parquet_path(self, data: &Path, scale: f64) -> PathBuf {
        data.join(schema_name(scale))
            .join(format!("{}.parquet", self.name))
    }
}

/// The schema (directory) name for a scale factor: `sf1`, `sf10`, `sf0.1`.
pub fn schema_name(scale: f64) -> String {
    if scale.fract() == 0.0 && scale >= 1.0 {
        format!("sf{}", scale as u64)
    } else {
        format!("sf{scale}")
    }
}

/// One benchmark query.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    /// 1 to 22.
    pub number: usize,
    /// The SQL text, without a trailing semicolon.
    pub sql: &'static str,
    /// The number of rows the query returns at scale factor 1 (from the specification's
    /// validation answers).
    pub sf1_rows: usize,
}

macro_rules! query {
    ($number:literal, $file:literal, $rows:literal) => {
        Query {
            number: $number,
            sql: include_str!(concat!("../queries/", $file)),
            sf1_rows: $rows,
        }
    };
}

/// The 22 queries with the specification's validation parameters, in simplified column naming.
pub const QUERIES: [Query; 22] = [
    query!(1, "q01.sql", 4),
    query!(2, "q02.sql", 100),
    query!(3, "q03.sql", 10),
    query!(4, "q04.sql", 5),
    query!(5, "q05.sql", 5),
    query!(6, "q06.sql", 1),
    query!(7, "q07.sql", 4),
    query!(8, "q08.sql", 2),
    query!(9, "q09.sql", 175),
    query!(10, "q10.sql", 20),
    query!(11, "q11.sql", 1048),
    query!(12, "q12.sql", 2),
    query!(13, "q13.sql", 42),
    query!(14, "q14.sql", 1),
    query!(15, "q15.sql", 1),
    query!(16, "q16.sql", 18314),
    query!(17, "q17.sql", 1),
    query!(18, "q18.sql", 57),
    query!(19, "q19.sql", 1),
    query!(20, "q20.sql", 186),
    query!(21, "q21.sql", 100),
    query!(22, "q22.sql", 7),
];

impl Query {
    /// The SQL without surrounding whitespace or a trailing semicolon.
    pub fn text(&self) -> &'static str {
        self.sql.trim().trim_end_matches(';').trim_end()
    }
}
