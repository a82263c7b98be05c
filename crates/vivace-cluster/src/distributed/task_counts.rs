//! How many tasks a stage gets: tpch scans spread over a stage's tasks (each task generates its
//! own slice of the table's parts), and nodes that need one partition keep their stage to one
//! task.

use std::sync::Arc;

use datafusion::common::Result as DfResult;
use datafusion::physical_expr::Distribution;
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

/// Keeps a node that needs all its input in one partition (a global `LIMIT`, a single-mode
/// aggregate, a sort into one partition) in a one-task stage. Without it, the node would run
/// once per task over that task's slice of a split scan below it: `LIMIT 1` would return one
/// row per task. Joins are left to the planner, which broadcasts their build sides.
pub(crate) fn single_partition_guard(
    event: DesiredTaskCountEvent<'_>,
) -> Option<DfResult<DesiredTaskCountEventResponse>> {
    let plan = event.plan;
    if plan.children().len() != 1 {
        return None;
    }
    let needs_one_partition = matches!(
        plan.input_distribution_requirements().child_distribution(0),
        Some(Distribution::SinglePartition)
    );
    needs_one_partition.then(|| Ok(DesiredTaskCountEventResponse::maximum(1)))
}
