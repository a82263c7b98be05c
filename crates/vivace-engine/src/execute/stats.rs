//! `SHOW STATS FOR t` and `SHOW STATS FOR (query)`: Trino's statistics table, computed by one
//! aggregate over the relation (connectors keep no statistics, so nothing is estimated).
//!
//! The answer has one row per column (`column_name`, `data_size` for text and binary columns,
//! `distinct_values_count`, `nulls_fraction`, `low_value`/`high_value` for numbers, dates and
//! times) and a last row with only `row_count`, as Trino shows it.

use std::fmt::Write as _;

use arrow::datatypes::Field;
use vivace_protocol::TrinoType;

use vivace_sql::quote::{quote_ident, quote_literal};

use super::{Completion, Execution};
use crate::error::{EngineResult, find_word};
use vivace_functions::types::trino_type_of_field;
use vivace_sql::statement::StatsSource;

impl Execution {
    pub(super) async fn show_stats(
        &self,
        source: &StatsSource,
        sql: &str,
    ) -> EngineResult<Completion> {
        let relation = match source {
            StatsSource::Table(parts) => {
                let location = parts.first().and_then(|p| find_word(sql, p));
                let (catalog, schema, table) = self.resolve_table(parts, location)?;
                format!(
                    "{}.{}.{}",
                    quote_ident(&catalog),
                    quote_ident(&schema),
                    quote_ident(&table)
                )
            }
            StatsSource::Query(query) => format!("({query})"),
        };
        let select = format!("SELECT * FROM {relation} AS source");
        let parsed = self.parse_sql(&select)?;
        self.check_names(&parsed, &select)?;
        let ctx = self.context()?;
        let plan = self.plan_statement(&ctx.state(), parsed.statement).await?;
        let fields: Vec<Field> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        self.sql(&stats_sql(&relation, &fields), false).await
    }
}

/// Which statistics a column of type `t` has.
fn measures(t: &TrinoType) -> (bool, bool, bool) {
    let sized = matches!(
        t,
        TrinoType::Varchar(_) | TrinoType::Char(_) | TrinoType::Varbinary | TrinoType::Json
    );
    let ranged = matches!(
        t,
        TrinoType::Tinyint
            | TrinoType::Smallint
            | TrinoType::Integer
            | TrinoType::Bigint
            | TrinoType::Real
            | TrinoType::Double
            | TrinoType::Decimal { .. }
            | TrinoType::Date
            | TrinoType::Time { .. }
            | TrinoType::Timestamp { .. }
    );
    let counted = !matches!(
        t,
        TrinoType::Array(_) | TrinoType::Map(..) | TrinoType::Row(_)
    );
    (sized, counted, ranged)
}

/// One aggregate over `relation` computes every column's statistics; a `VALUES` list of the
/// column names turns that one row into one row per column.
fn stats_sql(relation: &str, fields: &[Field]) -> String {
    let null_double = "CAST(NULL AS double)";
    let null_text = "CAST(NULL AS varchar)";
    let mut aggregates = String::from("count(*) AS row_count");
    for (i, field) in fields.iter().enumerate() {
        let column = format!("source.{}", quote_ident(field.name()));
        let (sized, counted, ranged) = measures(&trino_type_of_field(field));
        let size = if sized {
            format!("CAST(sum(octet_length({column})) AS double)")
        } else {
            null_double.to_string()
        };
        let distinct = if counted {
            format!("CAST(approx_distinct({column}) AS double)")
        } else {
            null_double.to_string()
        };
        let (low, high) = if ranged {
            (
                format!("CAST(min({column}) AS varchar)"),
                format!("CAST(max({column}) AS varchar)"),
            )
        } else {
            (null_text.to_string(), null_text.to_string())
        };
        let _ = write!(
            aggregates,
            ", {size} AS size_{i}, {distinct} AS distinct_{i}, \
             CAST(count(*) - count({column}) AS double) AS nulls_{i}, {low} AS low_{i}, {high} AS high_{i}"
        );
    }
    let pick = |prefix: &str, otherwise: &str| {
        let mut case = String::from("CASE c.i");
        for i in 0..fields.len() {
            let _ = write!(case, " WHEN {i} THEN a.{prefix}_{i}");
        }
        let _ = write!(case, " ELSE {otherwise} END");
        case
    };
    let names: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("({i}, {})", quote_literal(f.name())))
        .chain(std::iter::once(format!("({}, NULL)", fields.len())))
        .collect();
    let summary = fields.len();
    format!(
        "SELECT c.column_name, {size} AS data_size, {distinct} AS distinct_values_count, \
         CASE WHEN c.i = {summary} THEN {null_double} \
         ELSE ({nulls}) / nullif(CAST(a.row_count AS double), 0e0) END AS nulls_fraction, \
         CASE WHEN c.i = {summary} THEN CAST(a.row_count AS double) ELSE {null_double} END AS row_count, \
         {low} AS low_value, {high} AS high_value \
         FROM (SELECT {aggregates} FROM {relation} AS source) a \
         CROSS JOIN (VALUES {names}) c(i, column_name) ORDER BY c.i",
        size = pick("size", null_double),
        distinct = pick("distinct", null_double),
        nulls = pick("nulls", null_double),
        low = pick("low", null_text),
        high = pick("high", null_text),
        names = names.join(", "),
    )
}
