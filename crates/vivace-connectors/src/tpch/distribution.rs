//! How tpch plans run on workers: a scan carries its [`TpchScanSpec`], so any node can
//! generate it, and a stage's tasks each generate their own slice of the table's parts.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result as DfResult, not_impl_err};
use datafusion::physical_plan::ExecutionPlan;
use vivace_spi::{ConnectorDistribution, TaskCount};

use super::{TpchScanExec, TpchScanSpec, TpchTable};

/// tpch's part in distributed execution.
#[derive(Debug, Default, Clone, Copy)]
pub struct TpchDistribution;

impl ConnectorDistribution for TpchDistribution {
    fn name(&self) -> &'static str {
        "tpch"
    }

    fn scans_run_anywhere(&self, table: &dyn TableProvider) -> bool {
        table.is::<TpchTable>()
    }

    fn encode(&self, node: &Arc<dyn ExecutionPlan>) -> Option<DfResult<Vec<u8>>> {
        let scan = node.downcast_ref::<TpchScanExec>()?;
        Some(
            serde_json::to_vec(scan.spec())
                .map_err(|e| DataFusionError::Internal(format!("cannot encode a tpch scan: {e}"))),
        )
    }

    fn decode(
        &self,
        bytes: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if !inputs.is_empty() {
            return not_impl_err!("a tpch scan has no inputs");
        }
        let spec: TpchScanSpec = serde_json::from_slice(bytes)
            .map_err(|e| DataFusionError::Internal(format!("undecodable tpch scan: {e}")))?;
        Ok(Arc::new(TpchScanExec::try_new(spec)?))
    }

    /// As many tasks as the table has parts worth generating, over the parts one task runs in
    /// parallel, or every worker when the catalog spreads scans; one for tables that do not
    /// split (every task would generate the whole table).
    fn task_count(&self, node: &Arc<dyn ExecutionPlan>) -> Option<DfResult<TaskCount>> {
        let spec = node.downcast_ref::<TpchScanExec>()?.spec();
        if !spec.splittable() {
            return Some(Ok(TaskCount::Maximum(1)));
        }
        if spec.spread {
            return Some(Ok(TaskCount::Desired(usize::MAX)));
        }
        Some(spec.parts_worth().map(|parts| {
            TaskCount::Desired(parts.div_ceil(spec.part_count.max(1)).max(1) as usize)
        }))
    }

    /// Each task gets its own slice of parts.
    fn split(
        &self,
        node: &Arc<dyn ExecutionPlan>,
        tasks: usize,
    ) -> Option<DfResult<Vec<Arc<dyn ExecutionPlan>>>> {
        let spec = node.downcast_ref::<TpchScanExec>()?.spec();
        if tasks <= 1 || !spec.splittable() {
            return None;
        }
        let tasks = u32::try_from(tasks).unwrap_or(u32::MAX);
        Some(
            spec.split(tasks)
                .into_iter()
                .map(|spec| {
                    TpchScanExec::try_new(spec).map(|s| Arc::new(s) as Arc<dyn ExecutionPlan>)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TpchScanSpec {
        TpchScanSpec {
            table: "lineitem".to_string(),
            scale: 0.01,
            standard_naming: false,
            total_parts: 4,
            first_part: 3,
            part_count: 2,
            projection: Some(vec![0, 4]),
            limit: Some(10),
            spread: false,
        }
    }

    #[test]
    fn tpch_scan_round_trips() {
        let plan: Arc<dyn ExecutionPlan> = Arc::new(TpchScanExec::try_new(spec()).unwrap());
        let bytes = TpchDistribution.encode(&plan).unwrap().unwrap();
        let decoded = TpchDistribution.decode(&bytes, &[]).unwrap();
        let scan = decoded.downcast_ref::<TpchScanExec>().unwrap();
        assert_eq!(scan.spec(), &spec());
        assert_eq!(decoded.schema().fields().len(), 2);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = TpchDistribution.decode(b"{not json", &[]).unwrap_err();
        assert!(err.to_string().contains("undecodable"), "{err}");
    }

    #[test]
    fn scans_split_into_slices() {
        let plan: Arc<dyn ExecutionPlan> = Arc::new(TpchScanExec::try_new(spec()).unwrap());
        let slices = TpchDistribution.split(&plan, 3).unwrap().unwrap();
        assert_eq!(slices.len(), 3);
        assert!(TpchDistribution.split(&plan, 1).is_none());
        assert!(matches!(
            TpchDistribution.task_count(&plan),
            Some(Ok(TaskCount::Desired(_)))
        ));
    }
}
