//! Planning that a time limit or a cancel can stop.
//!
//! Parsing and planning are CPU work with no `await` in them, so a future that plans cannot
//! be interrupted from outside and would hold one of the query runtime's few worker threads
//! for as long as it takes. [`plan`] therefore moves the work off the runtime's workers
//! (`block_in_place`: the runtime starts another worker in its place, so other queries and the
//! time-limit watchdog keep running) and makes the query's cancellation token visible to the
//! planner's steps on that thread. Every analyzer, optimizer and physical optimizer rule is
//! wrapped ([`with_cancellable_rules`]) to stop the planning before it runs once the query
//! was cancelled, failed or timed out.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::analyzer::AnalyzerRule;
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use datafusion::physical_optimizer::{PhysicalOptimizerContext, PhysicalOptimizerRule};
use datafusion::physical_plan::ExecutionPlan;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio_util::sync::CancellationToken;

thread_local! {
    /// The token of the query planning on this thread.
    static PLANNING: RefCell<Option<CancellationToken>> = const { RefCell::new(None) };
}

/// Sets the thread's planning token for as long as it lives.
struct Scope {
    previous: Option<CancellationToken>,
}

impl Scope {
    fn enter(token: &CancellationToken) -> Self {
        let previous = PLANNING.with(|p| p.borrow_mut().replace(token.clone()));
        Scope { previous }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        PLANNING.with(|p| *p.borrow_mut() = previous);
    }
}

fn planning_on_this_thread() -> bool {
    PLANNING.with(|p| p.borrow().is_some())
}

/// Runs `work` (parsing, planning, optimising) where it cannot hold up other queries, with
/// `cancel` stopping it between planner steps.
pub(crate) async fn plan<T>(cancel: &CancellationToken, work: impl Future<Output = T>) -> T {
    let off_the_workers = !planning_on_this_thread()
        && Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
    if off_the_workers {
        tokio::task::block_in_place(|| {
            let _scope = Scope::enter(cancel);
            Handle::current().block_on(work)
        })
    } else {
        // Already planning on this thread (a nested statement), or on a single-threaded
        // runtime where there is no other worker to hand over to.
        let _scope = Scope::enter(cancel);
        work.await
    }
}

/// Fails when the query planning on this thread has been stopped.
pub(crate) fn check_cancelled() -> Result<()> {
    let cancelled = PLANNING.with(|p| p.borrow().as_ref().is_some_and(|t| t.is_cancelled()));
    if cancelled {
        Err(DataFusionError::Execution(
            "Query planning was stopped".to_string(),
        ))
    } else {
        Ok(())
    }
}

/// `state` with every planner rule wrapped so that it stops a cancelled query's planning.
pub(crate) fn with_cancellable_rules(state: SessionState) -> SessionState {
    let analyzers = state
        .analyzer()
        .rules
        .iter()
        .map(|rule| Arc::new(Cancellable(Arc::clone(rule))) as Arc<dyn AnalyzerRule + Send + Sync>)
        .collect();
    let optimizers = state
        .optimizers()
        .iter()
        .map(|rule| Arc::new(Cancellable(Arc::clone(rule))) as Arc<dyn OptimizerRule + Send + Sync>)
        .collect();
    let physical = state
        .physical_optimizers()
        .iter()
        .map(|rule| {
            Arc::new(Cancellable(Arc::clone(rule))) as Arc<dyn PhysicalOptimizerRule + Send + Sync>
        })
        .collect();
    SessionStateBuilder::new_from_existing(state)
        .with_analyzer_rules(analyzers)
        .with_optimizer_rules(optimizers)
        .with_physical_optimizer_rules(physical)
        .build()
}

/// A planner rule that first checks whether the query was stopped.
#[derive(Debug)]
struct Cancellable<R: ?Sized>(Arc<R>);

impl AnalyzerRule for Cancellable<dyn AnalyzerRule + Send + Sync> {
    fn analyze(&self, plan: LogicalPlan, config: &ConfigOptions) -> Result<LogicalPlan> {
        check_cancelled()?;
        self.0.analyze(plan, config)
    }

    fn name(&self) -> &str {
        self.0.name()
    }
}

impl OptimizerRule for Cancellable<dyn OptimizerRule + Send + Sync> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        self.0.apply_order()
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        check_cancelled()?;
        self.0.rewrite(plan, config)
    }
}

impl PhysicalOptimizerRule for Cancellable<dyn PhysicalOptimizerRule + Send + Sync> {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        check_cancelled()?;
        self.0.optimize(plan, config)
    }

    fn optimize_with_context(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        context: &dyn PhysicalOptimizerContext,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        check_cancelled()?;
        self.0.optimize_with_context(plan, context)
    }

    fn name(&self) -> &str {
        self.0.name()
    }

    fn schema_check(&self) -> bool {
        self.0.schema_check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_query_stops_between_steps() {
        let token = CancellationToken::new();
        assert!(check_cancelled().is_ok());
        let outcome = plan(&token, async {
            let before = check_cancelled().is_ok();
            token.cancel();
            (before, check_cancelled().is_err())
        })
        .await;
        assert_eq!(outcome, (true, true));
        // The scope ends with the planning.
        assert!(check_cancelled().is_ok());
    }
}
