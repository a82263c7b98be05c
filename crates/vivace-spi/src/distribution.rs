//! What a connector tells the cluster layer about its plans: which of its scans may run on any
//! node, how its own plan nodes are encoded for the trip to a worker, and how a scan spreads
//! over a stage's tasks. The cluster layer asks every connector's distribution in turn and
//! knows none of them by name.

use std::fmt::Debug;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::Result as DfResult;
use datafusion::physical_plan::ExecutionPlan;

/// How many tasks a stage whose leaf is a connector's scan should get; the planner caps it at
/// the number of workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskCount {
    /// As many as this, where there are workers for them.
    Desired(usize),
    /// At most this many (1: every task would read the whole table).
    Maximum(usize),
}

/// One kind of connector's part in distributed execution. Every method answers only for the
/// connector's own tables and plan nodes (`None` or `false` for anything else), so the
/// cluster layer can ask each connector in turn.
pub trait ConnectorDistribution: Send + Sync + Debug {
    /// A name unique among connectors (the connector's `connector.name`); it tags this
    /// connector's encoded plan nodes.
    fn name(&self) -> &'static str;

    /// Whether scans of `table` may run on any node of a cluster: the plan carries all they
    /// need, or they read storage every node is configured to see. Tables held in one node's
    /// memory cannot.
    fn scans_run_anywhere(&self, table: &dyn TableProvider) -> bool;

    /// Encodes `node` if it is one of this connector's own plan nodes (DataFusion's built-in
    /// nodes need no connector codec).
    fn encode(&self, node: &Arc<dyn ExecutionPlan>) -> Option<DfResult<Vec<u8>>> {
        let _ = node;
        None
    }

    /// Rebuilds a node that [`encode`](Self::encode) wrote. `bytes` come from another node of
    /// the cluster, but still must never make this panic.
    fn decode(
        &self,
        bytes: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let _ = (bytes, inputs);
        datafusion::common::not_impl_err!("connector {} has no plan nodes to decode", self.name())
    }

    /// How many tasks a stage whose leaf is `node` should get, if `node` is this connector's.
    fn task_count(&self, node: &Arc<dyn ExecutionPlan>) -> Option<DfResult<TaskCount>> {
        let _ = node;
        None
    }

    /// `node` as `tasks` variants, one per task, each reading its own share; `None` when it is
    /// not this connector's or does not split.
    fn split(
        &self,
        node: &Arc<dyn ExecutionPlan>,
        tasks: usize,
    ) -> Option<DfResult<Vec<Arc<dyn ExecutionPlan>>>> {
        let _ = (node, tasks);
        None
    }
}
