//! [`TpchScanExec`]: the leaf that generates TPC-H rows, one output partition per part.
//!
//! A scan is fully described by its [`TpchScanSpec`], which is plain data: a cluster ships the
//! spec to a worker and the worker rebuilds the same scan, then generates only its own parts.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result as DfResult, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::coop::cooperative;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType, SchedulingType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning,
    PlanProperties, ReplaceChildrenOptions,
};
use serde::{Deserialize, Serialize};

use super::{ColumnNaming, ROWS_PER_SPLIT, TpchTableKind, to_trino_batch};
use vivace_spi::ScanCounters;

/// Everything needed to rebuild a TPC-H scan on any node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TpchScanSpec {
    /// The table (`lineitem`, ...).
    pub table: String,
    /// The scale factor.
    pub scale: f64,
    /// `l_orderkey` instead of `orderkey`.
    pub standard_naming: bool,
    /// The table is generated as this many independent parts.
    pub total_parts: u32,
    /// The first part this scan generates (1-based); output partition `i` generates part
    /// `first_part + i`.
    pub first_part: u32,
    /// How many consecutive parts this scan generates (its output partition count).
    pub part_count: u32,
    /// The columns produced, as indexes into the table's columns; `None` for all.
    pub projection: Option<Vec<usize>>,
    /// At most this many rows per partition are needed (a hint; a limit above still applies).
    pub limit: Option<usize>,
    /// Spread over every worker whatever the table's size, as Trino makes
    /// `tpch.splits-per-node` splits on each node when the catalog sets it.
    pub spread: bool,
}

impl TpchScanSpec {
    fn kind(&self) -> DfResult<TpchTableKind> {
        TpchTableKind::from_name(&self.table).ok_or_else(|| {
            DataFusionError::Plan(format!("tpch scan of unknown table '{}'", self.table))
        })
    }

    fn naming(&self) -> ColumnNaming {
        if self.standard_naming {
            ColumnNaming::Standard
        } else {
            ColumnNaming::Simplified
        }
    }

    /// Rows of the whole table at this scale factor (approximate for lineitem).
    pub fn estimated_table_rows(&self) -> DfResult<f64> {
        Ok(self.kind()?.base_rows() * self.scale)
    }

    /// How many parts of about [`ROWS_PER_SPLIT`] rows the whole table is worth; at least 1.
    /// Tables of fixed size (nation, region) are always one part.
    pub fn parts_worth(&self) -> DfResult<u32> {
        let kind = self.kind()?;
        if kind.is_fixed_size() {
            return Ok(1);
        }
        let parts = (self.estimated_table_rows()? / ROWS_PER_SPLIT as f64).ceil();
        Ok(parts.clamp(1.0, i32::MAX as f64) as u32)
    }

    /// Whether the table can be generated in parts; nation and region cannot (every part
    /// would be the whole table).
    pub fn splittable(&self) -> bool {
        self.kind().is_ok_and(|kind| !kind.is_fixed_size())
    }

    /// The same scan cut into `tasks` slices of `self.part_count` parts each: slice `i` is
    /// what task `i` of a distributed stage generates. Only for [`Self::splittable`] tables.
    pub fn split(&self, tasks: u32) -> Vec<TpchScanSpec> {
        let per_task = self.part_count.max(1);
        let total = per_task.saturating_mul(tasks.max(1));
        (0..tasks.max(1))
            .map(|task| TpchScanSpec {
                total_parts: total,
                first_part: task * per_task + 1,
                part_count: per_task,
                ..self.clone()
            })
            .collect()
    }
}

/// Generates TPC-H rows for a [`TpchScanSpec`].
#[derive(Debug)]
pub struct TpchScanExec {
    spec: TpchScanSpec,
    kind: TpchTableKind,
    /// The table's full schema (generated batches are converted to it, then projected).
    table_schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl TpchScanExec {
    /// Builds the scan a spec describes; fails on an unknown table, an out-of-range projection
    /// or parts outside `1..=total_parts`.
    pub fn try_new(spec: TpchScanSpec) -> DfResult<Self> {
        let kind = spec.kind()?;
        if !spec.scale.is_finite() || spec.scale <= 0.0 {
            return internal_err!("tpch scan with invalid scale factor {}", spec.scale);
        }
        let last = u64::from(spec.first_part) + u64::from(spec.part_count);
        if spec.first_part == 0 || spec.part_count == 0 || last > u64::from(spec.total_parts) + 1 {
            return internal_err!(
                "tpch scan of parts {}..{} out of {}",
                spec.first_part,
                last,
                spec.total_parts
            );
        }
        let table_schema = kind.trino_schema(spec.naming());
        let schema = match &spec.projection {
            Some(columns) => Arc::new(table_schema.project(columns)?),
            None => Arc::clone(&table_schema),
        };
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(spec.part_count as usize),
            EmissionType::Incremental,
            Boundedness::Bounded,
        )
        .with_scheduling_type(SchedulingType::Cooperative);
        Ok(TpchScanExec {
            spec,
            kind,
            table_schema,
            properties: Arc::new(properties),
        })
    }

    /// The scan's description.
    pub fn spec(&self) -> &TpchScanSpec {
        &self.spec
    }
}

impl DisplayAs for TpchScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spec = &self.spec;
        write!(
            f,
            "TpchScanExec: table={}, scale={}, parts={}..={} of {}",
            spec.table,
            spec.scale,
            spec.first_part,
            spec.first_part + spec.part_count - 1,
            spec.total_parts
        )?;
        if let Some(limit) = spec.limit {
            write!(f, ", limit={limit}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for TpchScanExec {
    fn name(&self) -> &str {
        "TpchScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        if partition >= self.spec.part_count as usize {
            return internal_err!(
                "TpchScanExec has {} partitions, asked for {partition}",
                self.spec.part_count
            );
        }
        let part = self.spec.first_part + partition as u32;
        let generator = self.kind.generator(
            self.spec.scale,
            part as i32,
            self.spec.total_parts.min(i32::MAX as u32) as i32,
        );
        let table_schema = Arc::clone(&self.table_schema);
        let projection = self.spec.projection.clone();
        let schema = self.schema();
        let output_schema = Arc::clone(&schema);
        let counters = context.session_config().get_extension::<ScanCounters>();
        let batches = generator.map(move |batch| -> DfResult<RecordBatch> {
            let full = to_trino_batch(&table_schema, &batch)?;
            // What the scan processed is the generated rows, whatever is projected.
            let processed_bytes = full.get_array_memory_size() as u64;
            let projected = match &projection {
                Some(columns) => full.project(columns)?,
                None => full,
            };
            // The output schema carries the Trino type metadata; a projection of no
            // columns (count(*)) keeps only the row count.
            let projected = RecordBatch::try_new_with_options(
                Arc::clone(&output_schema),
                projected.columns().to_vec(),
                &RecordBatchOptions::new().with_row_count(Some(projected.num_rows())),
            )?;
            if let Some(counters) = &counters {
                counters
                    .rows
                    .fetch_add(projected.num_rows() as u64, Ordering::Relaxed);
                counters.bytes.fetch_add(processed_bytes, Ordering::Relaxed);
            }
            Ok(projected)
        });
        let limit = self.spec.limit;
        let batches = LimitRows::new(batches, limit);
        // Generation never waits, so the stream must give the runtime back its turn itself:
        // otherwise a cancelled query would hold its thread until the scan ends.
        Ok(Box::pin(cooperative(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::iter(batches),
        ))))
    }
}

/// Stops a batch iterator once `limit` rows were produced, slicing the last batch.
struct LimitRows<I> {
    inner: I,
    remaining: Option<usize>,
}

impl<I> LimitRows<I> {
    fn new(inner: I, limit: Option<usize>) -> Self {
        LimitRows {
            inner,
            remaining: limit,
        }
    }
}

impl<I: Iterator<Item = DfResult<RecordBatch>>> Iterator for LimitRows<I> {
    type Item = DfResult<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == Some(0) {
            return None;
        }
        let batch = self.inner.next()?;
        let Some(remaining) = self.remaining.as_mut() else {
            return Some(batch);
        };
        Some(batch.map(|batch| {
            let rows = batch.num_rows().min(*remaining);
            *remaining -= rows;
            batch.slice(0, rows)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(table: &str, parts: u32) -> TpchScanSpec {
        TpchScanSpec {
            table: table.to_string(),
            scale: 0.01,
            standard_naming: false,
            total_parts: parts,
            first_part: 1,
            part_count: parts,
            projection: None,
            limit: None,
            spread: false,
        }
    }

    #[test]
    fn splits_cover_every_part_once() {
        let slices = spec("orders", 2).split(3);
        let parts: Vec<u32> = slices
            .iter()
            .flat_map(|s| s.first_part..s.first_part + s.part_count)
            .collect();
        assert_eq!(parts, (1..=6).collect::<Vec<_>>());
        assert!(slices.iter().all(|s| s.total_parts == 6));
        assert!(
            slices
                .iter()
                .all(|s| TpchScanExec::try_new(s.clone()).is_ok())
        );
    }

    #[test]
    fn fixed_size_tables_are_not_splittable() {
        assert!(!spec("nation", 1).splittable());
        assert!(!spec("region", 1).splittable());
        assert!(spec("lineitem", 1).splittable());
    }

    #[test]
    fn bad_specs_are_errors() {
        assert!(TpchScanExec::try_new(spec("no_such_table", 1)).is_err());
        let mut outside = spec("orders", 2);
        outside.first_part = 2;
        assert!(TpchScanExec::try_new(outside).is_err());
        let mut projection = spec("orders", 1);
        projection.projection = Some(vec![99]);
        assert!(TpchScanExec::try_new(projection).is_err());
    }
}
