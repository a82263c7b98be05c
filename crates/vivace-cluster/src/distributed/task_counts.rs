//! How many tasks a stage gets: a connector's scan asks through its distribution (tpch
//! spreads its parts over a stage's tasks), and nodes that need one partition keep their stage
//! to one task.

use std::sync::Arc;

use datafusion::common::Result as DfResult;
use datafusion::physical_expr::Distribution;
use datafusion_distributed::{
    DesiredTaskCountEvent, DesiredTaskCountEventResponse, DistributedLeafExec,
    ScaleUpLeafNodeEvent, ScaleUpLeafNodeEventResponse,
};
use vivace_spi::TaskCount;

use super::connectors::ConnectorPlans;

/// The task count the first connector that knows `event`'s node asks for. The planner caps it
/// at the number of workers.
pub(crate) fn desired_task_count(
    connectors: &ConnectorPlans,
    event: DesiredTaskCountEvent<'_>,
) -> Option<DfResult<DesiredTaskCountEventResponse>> {
    let count = connectors.iter().find_map(|c| c.task_count(event.plan))?;
    Some(count.map(|count| match count {
        TaskCount::Desired(tasks) => DesiredTaskCountEventResponse::desired(tasks),
        TaskCount::Maximum(tasks) => DesiredTaskCountEventResponse::maximum(tasks),
    }))
}

/// Gives each of the stage's tasks its own share of a connector's scan.
pub(crate) fn scale_up(
    connectors: &ConnectorPlans,
    event: ScaleUpLeafNodeEvent<'_>,
) -> Option<DfResult<ScaleUpLeafNodeEventResponse>> {
    let variants = connectors
        .iter()
        .find_map(|c| c.split(event.plan, event.task_count))?;
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
