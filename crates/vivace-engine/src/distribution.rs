//! The port through which a cluster runs query plans on other nodes.
//!
//! The engine knows nothing of workers or transports. When a [`Distribution`] is installed
//! (by `vivace-cluster`, on a coordinator), each read-only query over connectors whose scans
//! can run anywhere asks it for a session state whose physical planner splits the plan into
//! stages on the cluster's workers. When such a run fails before any row reached the client,
//! the engine asks whether the failure was the cluster's (a lost worker, a broken connection
//! between nodes) and, if so, plans and runs the query again.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::TableProvider;
use datafusion::execution::context::SessionState;
use datafusion::physical_plan::ExecutionPlan;

use crate::error::{EngineError, EngineResult};

/// Facts about one query that travel with its plan to the workers.
#[derive(Debug, Clone)]
pub struct DistributedQueryFacts {
    /// The query id.
    pub query_id: String,
    /// The session user.
    pub user: String,
    /// The session time zone, when set.
    pub time_zone: Option<String>,
    /// Memory the query may use on one node, in bytes.
    pub max_memory_per_node: u64,
    /// Memory the query may use on all nodes together, in bytes.
    pub max_memory: u64,
}

/// Runs plans across the cluster. One per coordinator.
pub trait Distribution: Send + Sync + Debug {
    /// Starts distributing one query.
    fn start(&self, facts: DistributedQueryFacts) -> Box<dyn DistributedQuery>;

    /// The stages and tasks of a distributed plan, for `EXPLAIN (TYPE DISTRIBUTED)`; `None`
    /// when `plan` runs on this node only.
    fn display_stages(&self, plan: &Arc<dyn ExecutionPlan>) -> Option<String>;

    /// Whether scans of `table` may run on any node (the connector that made it says so). A
    /// query runs on the cluster only when every scan may.
    fn scans_run_anywhere(&self, table: &dyn TableProvider) -> bool;
}

/// One query's attempts on the cluster.
#[async_trait]
pub trait DistributedQuery: Send + Sync {
    /// A state planning this attempt across the cluster, built from the query's own `local`
    /// state; `None` when the query should run on this node (no worker is needed or none is
    /// available and this node may run work). Waits for a worker when only workers may run it,
    /// up to the cluster's queueing limit, then fails with `NO_NODES_AVAILABLE`.
    async fn attempt_state(&mut self, local: &SessionState) -> EngineResult<Option<SessionState>>;

    /// After an attempt failed with `error`: checks the workers it used and keeps the lost ones
    /// out of later attempts. True when the failure was the cluster's rather than the query's
    /// (a worker was lost, or a connection between nodes broke), so running again may succeed.
    async fn may_retry(&mut self, error: &EngineError) -> bool;
}
