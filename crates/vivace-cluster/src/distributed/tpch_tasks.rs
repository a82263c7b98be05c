//! How tpch scans spread over a stage's tasks: each task generates its own slice of the
//! table's parts, so no worker generates rows another one also generates.

use std::sync::Arc;

use datafusion::common::Result as DfResult;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_distributed::{
    DesiredTaskCountEvent, DesiredTaskCountEventResponse, DistributedLeafExec,
    ScaleUpLeafNodeEvent, ScaleUpLeafNodeEventResponse,
};
use vivace_connectors::tpch::TpchScanExec;

/// Asks for as many tasks as the table has parts worth generating, over the parts one task
/// runs in parallel, or for every worker when the catalog spreads scans. The planner caps this
/// at the number of workers.
pub(crate) fn desired_task_count(
    event: DesiredTaskCountEvent<'_>,
) -> Option<DfResult<DesiredTaskCountEventResponse>> {
    let scan = event.plan.downcast_ref::<TpchScanExec>()?;
    let spec = scan.spec();
    if !spec.splittable() {
        // Every task would generate the whole table.
        return Some(Ok(DesiredTaskCountEventResponse::maximum(1)));
    }
    if spec.spread {
        return Some(Ok(DesiredTaskCountEventResponse::desired(usize::MAX)));
    }
    let parts = match spec.parts_worth() {
        Ok(parts) => parts,
        Err(e) => return Some(Err(e)),
    };
    let tasks = parts.div_ceil(spec.part_count.max(1)).max(1);
    Some(Ok(DesiredTaskCountEventResponse::desired(tasks as usize)))
}

/// Gives each of the stage's tasks its own slice of parts.
pub(crate) fn scale_up(
    event: ScaleUpLeafNodeEvent<'_>,
) -> Option<DfResult<ScaleUpLeafNodeEventResponse>> {
    let scan = event.plan.downcast_ref::<TpchScanExec>()?;
    if event.task_count <= 1 || !scan.spec().splittable() {
        return None;
    }
    let tasks = u32::try_from(event.task_count).unwrap_or(u32::MAX);
    let variants = scan
        .spec()
        .split(tasks)
        .into_iter()
        .map(|spec| TpchScanExec::try_new(spec).map(|s| Arc::new(s) as Arc<dyn ExecutionPlan>))
        .collect::<DfResult<Vec<_>>>();
    let leaf = variants.and_then(|v| DistributedLeafExec::try_new(Arc::clone(event.plan), v));
    Some(leaf.map(|leaf| ScaleUpLeafNodeEventResponse::new(Arc::new(leaf))))
}
