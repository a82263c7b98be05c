//! `EXPLAIN (TYPE IO, FORMAT JSON)`: the tables a query reads and the estimated size of its
//! output, in Trino's JSON layout. Superset reads `estimate` for its cost preview.
//!
//! Estimates come from the physical plan's statistics; what is unknown is `NaN`, as Trino
//! writes it (Python's `json` reads it).

use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, StatisticsArgs, StatisticsContext};

use crate::error::EngineResult;

/// A cost estimate; `None` is unknown.
#[derive(Debug, Clone, Copy, Default)]
struct Estimate {
    output_row_count: Option<f64>,
    output_size_in_bytes: Option<f64>,
}

impl Estimate {
    fn json(&self) -> String {
        format!(
            "{{\"outputRowCount\":{},\"outputSizeInBytes\":{},\"cpuCost\":NaN,\"maxMemory\":NaN,\"networkCost\":NaN}}",
            number(self.output_row_count),
            number(self.output_size_in_bytes)
        )
    }
}

fn number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:?}"),
        _ => "NaN".to_string(),
    }
}

fn known(precision: &Precision<usize>) -> Option<f64> {
    precision.get_value().map(|v| *v as f64)
}

fn string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The IO plan of `logical` (optimized) and `physical`, as Trino's JSON text.
pub(crate) fn io_plan_json(
    logical: &LogicalPlan,
    physical: &dyn ExecutionPlan,
    state: &SessionState,
) -> EngineResult<String> {
    let options = state.config().options();
    let default_catalog = options.catalog.default_catalog.clone();
    let default_schema = options.catalog.default_schema.clone();
    let mut tables: Vec<(String, String, String)> = Vec::new();
    logical.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let resolved = scan
                .table_name
                .clone()
                .resolve(&default_catalog, &default_schema);
            let table = (
                resolved.catalog.to_string(),
                resolved.schema.to_string(),
                resolved.table.to_string(),
            );
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let statistics = StatisticsContext::new().compute(physical, &StatisticsArgs::new())?;
    let total = Estimate {
        output_row_count: known(&statistics.num_rows),
        output_size_in_bytes: known(&statistics.total_byte_size),
    };
    let inputs: Vec<String> = tables
        .iter()
        .map(|(catalog, schema, table)| {
            format!(
                "{{\"table\":{{\"catalog\":{},\"schemaTable\":{{\"schema\":{},\"table\":{}}}}},\
                 \"constraint\":{{\"none\":false,\"columnConstraints\":[]}},\"estimate\":{}}}",
                string(catalog),
                string(schema),
                string(table),
                Estimate::default().json()
            )
        })
        .collect();
    Ok(format!(
        "{{\"inputTableColumnInfos\":[{}],\"estimate\":{}}}",
        inputs.join(","),
        total.json()
    ))
}
