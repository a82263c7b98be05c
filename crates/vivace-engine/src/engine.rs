//! The single-node engine: catalogs, per-query DataFusion contexts, query tracking and the
//! [`QueryService`] implementation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use datafusion::execution::context::SessionState;
use tokio::runtime::Handle;
use tracing::{debug, error};
use vivace_common::{ErrorCode, QueryId, QueryIdGenerator};
use vivace_spi::MountedConnector;

use crate::api::QueryService;
use crate::catalog::CatalogManager;
use crate::config::EngineConfig;
use crate::context::ContextFactory;
use crate::distribution::Distribution;
use crate::error::QueryFailure;
use crate::execute::Execution;
use crate::hooks::{Admission, AdmitAll, ScanAsIs, ScanPolicy};
use crate::memory::{CLUSTER_OUT_OF_MEMORY_MESSAGE, NodeMemory, QueryMemoryPool};
use crate::query::{QueryEvent, QueryHandle, QueryState};
use crate::session::Session;
use crate::session_properties::QueryLimits;
use crate::shared::EngineInner;
use crate::system::{DirectorySlot, NodeDirectory, NodeInfo, RemoteNode, SystemCatalog};
use crate::tracker::QueryTracker;

impl ContextFactory {
    /// The shared state, for name resolution without a query context.
    pub(crate) fn base_state(&self) -> &SessionState {
        self.base_ref()
    }
}

/// The engine of one node.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl Engine {
    /// An engine serving `catalogs` (name and connector), running queries on `runtime`.
    /// The `system` catalog is added here.
    pub fn new(config: EngineConfig, catalogs: Vec<MountedConnector>, runtime: Handle) -> Self {
        let manager = Arc::new(CatalogManager::new());
        for (name, connector) in &catalogs {
            manager.mount(name, connector.as_ref());
        }
        let tracker = Arc::new(QueryTracker::new(config.query_max_history));
        let node = NodeInfo {
            node_id: config.node_id.clone(),
            http_uri: config.http_uri.clone(),
            version: vivace_common::TRINO_COMPATIBLE_VERSION.to_string(),
            coordinator: config.coordinator,
            environment: config.environment.clone(),
        };
        let directory: DirectorySlot = Arc::default();
        let system = SystemCatalog::new(
            Arc::downgrade(&manager),
            Arc::clone(&tracker),
            node.clone(),
            Arc::clone(&directory),
        );
        manager.mount_provider("system", "system", Arc::new(system));
        let contexts = ContextFactory::new(Arc::clone(&manager));
        let node_memory = NodeMemory::new(config.node_pool_size, config.low_memory_killer_policy);
        Engine {
            inner: Arc::new(EngineInner {
                config,
                catalogs: manager,
                contexts,
                tracker,
                ids: QueryIdGenerator::new(),
                node,
                directory,
                distribution: parking_lot::RwLock::new(None),
                runtime,
                shutting_down: AtomicBool::new(false),
                node_memory,
                admission: parking_lot::RwLock::new(Arc::new(AdmitAll)),
                scan_policy: parking_lot::RwLock::new(Arc::new(ScanAsIs)),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The memory all queries of this node reserve from; tasks a worker runs here share it.
    pub fn node_memory(&self) -> Arc<NodeMemory> {
        Arc::clone(&self.inner.node_memory)
    }

    /// Runs eligible queries across the cluster's workers from now on.
    pub fn set_distribution(&self, distribution: Arc<dyn Distribution>) {
        *self.inner.distribution.write() = Some(distribution);
    }

    /// Decides from now on when submitted queries may start planning.
    pub fn set_admission(&self, admission: Arc<dyn Admission>) {
        *self.inner.admission.write() = admission;
    }

    /// Resolves from now on what each table a query scans becomes.
    pub fn set_scan_policy(&self, policy: Arc<dyn ScanPolicy>) {
        *self.inner.scan_policy.write() = policy;
    }

    /// Shows the cluster's other nodes in `system.runtime.nodes` and `/v1/node`.
    pub fn set_node_directory(&self, directory: Arc<dyn NodeDirectory>) {
        *self.inner.directory.write() = Some(directory);
    }
}

impl QueryService for Engine {
    fn submit(&self, session: Session, sql: String) -> Arc<QueryHandle> {
        let id = self.inner.ids.next_id();
        let (handle, sender) = QueryHandle::new(id, session, sql);
        self.inner.tracker.add(Arc::clone(&handle));
        let inner = Arc::clone(&self.inner);
        let running = Arc::clone(&handle);
        let task = self
            .inner
            .runtime
            .spawn(async move { run_query(inner, running, sender).await });
        let supervised = Arc::clone(&handle);
        self.inner.runtime.spawn(async move {
            if let Err(e) = task.await
                && e.is_panic()
            {
                error!(query_id = %supervised.id(), "query task panicked");
                supervised.fail(QueryFailure::new(
                    ErrorCode::GENERIC_INTERNAL_ERROR,
                    format!("Internal error while running query {}", supervised.id()),
                    None,
                ));
            }
        });
        handle
    }

    fn query(&self, id: &QueryId) -> Option<Arc<QueryHandle>> {
        self.inner.tracker.get(id)
    }

    fn queries(&self) -> Vec<Arc<QueryHandle>> {
        self.inner.tracker.list()
    }

    fn node(&self) -> &NodeInfo {
        &self.inner.node
    }

    fn remote_nodes(&self) -> Vec<RemoteNode> {
        self.inner
            .directory
            .read()
            .as_ref()
            .map(|d| d.remote_nodes())
            .unwrap_or_default()
    }

    fn begin_shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
    }

    fn running_queries(&self) -> usize {
        self.inner.tracker.running()
    }

    fn output_runtime(&self) -> Option<Handle> {
        Some(self.inner.runtime.clone())
    }
}

async fn run_query(
    inner: Arc<EngineInner>,
    handle: Arc<QueryHandle>,
    sender: tokio::sync::mpsc::Sender<QueryEvent>,
) {
    if inner.shutting_down.load(Ordering::SeqCst) {
        handle.fail(QueryFailure::new(
            ErrorCode::SERVER_SHUTTING_DOWN,
            "Server is shutting down".to_string(),
            None,
        ));
        return;
    }
    let limits = match QueryLimits::resolve(&inner.config, handle.session()) {
        Ok(limits) => limits,
        Err(e) => {
            handle.fail(e.to_failure(handle.sql()));
            return;
        }
    };
    let admission = Arc::clone(&*inner.admission.read());
    let cancel = handle.cancel_token().clone();
    let permit = tokio::select! {
        _ = cancel.cancelled() => return,
        admitted = admission.admit(&handle) => admitted,
    };
    let permit = match permit {
        Ok(permit) => permit,
        Err(e) => {
            handle.fail(e.to_failure(handle.sql()));
            return;
        }
    };
    handle.transition(QueryState::Planning);
    // The query's pool on this node lives as long as the query runs here.
    let memory = inner
        .node_memory
        .query_pool(&handle.id().to_string(), limits.max_memory_per_node);
    memory.watch();
    let watchdog = inner.runtime.spawn(enforce_limits(
        Arc::clone(&handle),
        limits.clone(),
        Instant::now(),
        Arc::clone(&memory),
    ));
    let execution = Execution::new(Arc::clone(&inner), Arc::clone(&handle), sender, limits);
    let outcome = tokio::select! {
        _ = cancel.cancelled() => None,
        outcome = execution.run() => Some(outcome),
    };
    watchdog.abort();
    drop(memory);
    drop(permit);
    let Some(outcome) = outcome else {
        debug!(query_id = %handle.id(), "query stopped");
        return;
    };
    match outcome {
        Err(e) => {
            let failure = e.to_failure(handle.sql());
            if failure.code.kind == vivace_common::ErrorKind::Internal {
                error!(query_id = %handle.id(), error = %e, "query failed");
            }
            handle.fail(failure);
        }
        Ok(completion) => {
            handle.update_status(|status| {
                status.update_count = completion.update_count;
                status.session_update = completion.session_update;
            });
            handle.transition(QueryState::Finished);
        }
    }
    // Dropping the execution closes the event channel after the final status is set.
    drop(execution);
}

/// The time limits a query runs under, each failing it with Trino's message.
#[derive(Debug, Clone, Copy)]
enum TimeLimit {
    /// `query.max-planning-time`, from the start of planning until execution starts.
    Planning,
    /// `query.max-execution-time`, from the start of planning.
    Execution,
    /// `query.max-run-time`, from creation (queued time included).
    Run,
}

impl TimeLimit {
    fn failure(self, limit: Duration) -> QueryFailure {
        let limit = vivace_common::properties::format_duration(limit);
        let message = match self {
            TimeLimit::Planning => {
                format!("Query exceeded the maximum planning time limit of {limit}")
            }
            TimeLimit::Execution => {
                format!("Query exceeded the maximum execution time limit of {limit}")
            }
            TimeLimit::Run => format!("Query exceeded maximum time limit of {limit}"),
        };
        QueryFailure::new(ErrorCode::EXCEEDED_TIME_LIMIT, message, None)
    }
}

/// Fails the query when it outlives one of its time limits. It runs as a task of its own, so
/// it fires even while the query's own task is busy planning on a blocked thread; the
/// failure cancels the query, which the planner notices at its next step.
/// Ends the query when a time limit passes or the low-memory killer picks it.
async fn enforce_limits(
    handle: Arc<QueryHandle>,
    limits: QueryLimits,
    started: Instant,
    memory: Arc<QueryMemoryPool>,
) {
    tokio::select! {
        _ = enforce_time_limits(Arc::clone(&handle), limits, started) => {}
        _ = memory.killed() => {
            handle.fail(QueryFailure::new(
                ErrorCode::CLUSTER_OUT_OF_MEMORY,
                CLUSTER_OUT_OF_MEMORY_MESSAGE.to_string(),
                None,
            ));
        }
    }
}

async fn enforce_time_limits(handle: Arc<QueryHandle>, limits: QueryLimits, started: Instant) {
    let mut deadlines = [
        (
            started.checked_add(limits.max_planning_time),
            TimeLimit::Planning,
            limits.max_planning_time,
        ),
        (
            started.checked_add(limits.max_execution_time),
            TimeLimit::Execution,
            limits.max_execution_time,
        ),
        (
            handle.created().checked_add(limits.max_run_time),
            TimeLimit::Run,
            limits.max_run_time,
        ),
    ];
    deadlines.sort_by_key(|(at, _, _)| (at.is_none(), *at));
    for (at, kind, limit) in deadlines {
        // `None` is a deadline too far away to represent.
        let Some(at) = at else { return };
        tokio::time::sleep_until(at.into()).await;
        let state = handle.status().state;
        if state.is_done() {
            return;
        }
        let planning = matches!(state, QueryState::Queued | QueryState::Planning);
        if matches!(kind, TimeLimit::Planning) && !planning {
            continue;
        }
        handle.fail(kind.failure(limit));
        return;
    }
}
