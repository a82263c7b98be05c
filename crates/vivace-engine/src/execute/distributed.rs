//! Running a query over the workers: whether it may, the attempts, and retries after a
//! worker is lost.

use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::source_as_provider;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use datafusion::sql::parser::Statement as DfStatement;
use tracing::warn;

use crate::config::RetryPolicy;
use crate::distribution::{DistributedQueryFacts, Distribution};
use crate::error::EngineResult;
use crate::planning;

use super::Execution;
use super::query::{ResultOutput, update_type_of};

impl Execution {
    /// The cluster's distribution, when `plan` reads only tables whose scans can run on any
    /// node. Other queries (memory tables, metadata, no table at all) run on this node.
    pub(super) fn distribution_for(&self, plan: &LogicalPlan) -> Option<Arc<dyn Distribution>> {
        let distribution = self.engine.distribution.read().clone()?;
        let mut scans = 0usize;
        let mut anywhere = true;
        let walked = plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                scans += 1;
                let runs_anywhere = source_as_provider(&scan.source)
                    .map(|p| distribution.scans_run_anywhere(p.as_ref()))
                    .unwrap_or(false);
                if !runs_anywhere {
                    anywhere = false;
                    return Ok(TreeNodeRecursion::Stop);
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
        (walked.is_ok() && anywhere && scans > 0).then_some(distribution)
    }

    /// Runs a query on the cluster, again after a lost worker or a broken connection between
    /// nodes while nothing was delivered.
    /// `Ok(false)` when the cluster says to run it on this node instead.
    pub(super) async fn run_distributed(
        &self,
        distribution: &dyn Distribution,
        state: &SessionState,
        logical: &LogicalPlan,
    ) -> EngineResult<bool> {
        let config = &self.engine.config;
        let mut query = distribution.start(self.distributed_facts(state));
        let mut retries_left = match config.retry_policy {
            RetryPolicy::Query => config.query_retry_attempts,
            RetryPolicy::None => 0,
        };
        loop {
            let Some(cluster_state) = query.attempt_state(state).await? else {
                return Ok(false);
            };
            let physical = planning::plan(
                self.handle.cancel_token(),
                cluster_state.create_physical_plan(logical),
            )
            .await?;
            self.start_plan(&physical);
            let mut output = if retries_left > 0 {
                ResultOutput::buffered(config.retry_buffer_size)
            } else {
                ResultOutput::direct()
            };
            let result = self
                .stream(physical, cluster_state.task_ctx(), &mut output)
                .await;
            match result {
                Ok(()) => return Ok(true),
                Err(error)
                    if retries_left > 0
                        && !output.delivered()
                        && !self.handle.cancel_token().is_cancelled()
                        && query.may_retry(&error).await =>
                {
                    retries_left -= 1;
                    warn!(
                        query_id = %self.handle.id(),
                        %error,
                        retries_left,
                        "a worker was lost or a connection between nodes broke; running the query again"
                    );
                }
                Err(error) => return Err(error),
            }
        }
    }

    pub(super) fn distributed_facts(&self, state: &SessionState) -> DistributedQueryFacts {
        DistributedQueryFacts {
            query_id: self.handle.id().to_string(),
            user: self.session().identity.user.clone(),
            time_zone: state.config().options().execution.time_zone.clone(),
            max_memory_per_node: self.limits.max_memory_per_node,
            max_memory: self.limits.max_memory,
        }
    }

    /// The stages and tasks a query would run as on the cluster, for
    /// `EXPLAIN (TYPE DISTRIBUTED)`; `None` when it runs on this node only.
    pub(super) async fn distributed_stages(
        &self,
        statement: &DfStatement,
    ) -> EngineResult<Option<String>> {
        let ctx = self.context()?;
        let plan = self.plan_statement(&ctx.state(), statement.clone()).await?;
        if update_type_of(&plan)?.is_some() {
            return Ok(None);
        }
        let (state, logical) = ctx.execute_logical_plan(plan).await?.into_parts();
        let Some(distribution) = self.distribution_for(&logical) else {
            return Ok(None);
        };
        let mut query = distribution.start(self.distributed_facts(&state));
        let Some(cluster_state) = query.attempt_state(&state).await? else {
            return Ok(None);
        };
        let physical = cluster_state.create_physical_plan(&logical).await?;
        Ok(distribution.display_stages(&physical))
    }
}

#[recursive::recursive]
pub(super) fn leaf_partitions(plan: &dyn ExecutionPlan) -> usize {
    if plan.children().is_empty() {
        plan.output_partitioning().partition_count()
    } else {
        plan.children()
            .iter()
            .map(|c| leaf_partitions(c.as_ref()))
            .sum()
    }
}
