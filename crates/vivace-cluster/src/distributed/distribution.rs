//! The coordinator's side: which nodes run a query's stages, and what to do when one is lost.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::catalog::TableProvider;
use datafusion::common::Result as DfResult;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_distributed::{
    DesiredTaskCountEvent, DistributedExec, DistributedExt, ScaleUpLeafNodeEvent,
    SessionStateBuilderExt, WorkerResolver, display_plan_ascii,
};
use tracing::{debug, info};
use url::Url;
use vivace_common::ErrorCode;
use vivace_engine::{
    DistributedQuery, DistributedQueryFacts, Distribution, EngineError, EngineResult,
    NodeDirectory, RemoteNode,
};
use vivace_security::InternalAuth;

use super::channels::NodeChannels;
use super::codec::VivaceCodec;
use super::connectors::ConnectorPlans;
use super::options::QueryOptions;
use super::task_counts;
use super::transport::is_transport_failure;
use super::worker::NodeWorker;

/// How often a query waiting for a worker looks again.
const WAIT_FOR_WORKERS_POLL: Duration = Duration::from_millis(250);
/// How long checking a node after a failure may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Scheduling settings.
#[derive(Debug, Clone)]
pub struct DistributionConfig {
    /// `node-scheduler.include-coordinator`: the coordinator runs tasks too.
    pub include_coordinator: bool,
    /// `query.max-queued-time`: how long a query waits for a worker when only workers may run
    /// it.
    pub max_queued_time: Duration,
    /// This node's URI as other nodes reach it.
    pub self_uri: String,
}

/// Runs eligible queries over the cluster's ACTIVE workers.
#[derive(Debug)]
pub struct ClusterDistribution {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: DistributionConfig,
    self_url: Url,
    directory: Arc<dyn NodeDirectory>,
    channels: NodeChannels,
    local_worker: NodeWorker,
    connectors: ConnectorPlans,
    internal: Option<Arc<InternalAuth>>,
    probe: reqwest::Client,
}

impl ClusterDistribution {
    /// Schedules over the nodes `directory` lists as ACTIVE workers the queries whose every
    /// scan `connectors` say may run anywhere.
    pub fn new(
        config: DistributionConfig,
        directory: Arc<dyn NodeDirectory>,
        channels: NodeChannels,
        local_worker: NodeWorker,
        connectors: ConnectorPlans,
        internal: Option<Arc<InternalAuth>>,
    ) -> Result<Self, String> {
        let self_url = Url::parse(&config.self_uri)
            .map_err(|e| format!("invalid node URI {}: {e}", config.self_uri))?;
        let probe = reqwest::Client::builder()
            .timeout(PROBE_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot create HTTP client: {e}"))?;
        Ok(ClusterDistribution {
            shared: Arc::new(Shared {
                config,
                self_url,
                directory,
                channels,
                local_worker,
                connectors,
                internal,
                probe,
            }),
        })
    }
}

impl Distribution for ClusterDistribution {
    fn start(&self, facts: DistributedQueryFacts) -> Box<dyn DistributedQuery> {
        Box::new(ClusterQuery {
            shared: Arc::clone(&self.shared),
            facts,
            excluded: HashSet::new(),
            used: Vec::new(),
        })
    }

    fn display_stages(&self, plan: &Arc<dyn ExecutionPlan>) -> Option<String> {
        plan.is::<DistributedExec>()
            .then(|| display_plan_ascii(plan.as_ref(), false))
    }

    fn scans_run_anywhere(&self, table: &dyn TableProvider) -> bool {
        self.shared.connectors.scans_run_anywhere(table)
    }
}

impl Shared {
    /// ACTIVE workers (not coordinators), minus `excluded` node ids.
    fn workers(&self, excluded: &HashSet<String>) -> Vec<RemoteNode> {
        self.directory
            .remote_nodes()
            .into_iter()
            .filter(|n| !n.coordinator && n.state == "ACTIVE" && !excluded.contains(&n.node_id))
            .collect()
    }

    fn distributed_state(
        &self,
        local: &SessionState,
        urls: Vec<Url>,
        facts: &DistributedQueryFacts,
    ) -> SessionState {
        // `query.max-memory` holds for the whole cluster: each node running part of the query
        // (the coordinator always runs the last stage) gets at most its share.
        let nodes = urls.len() as u64 + u64::from(!self.config.include_coordinator);
        let options = QueryOptions {
            query_id: facts.query_id.clone(),
            user: facts.user.clone(),
            time_zone: facts.time_zone.clone().unwrap_or_default(),
            max_memory_per_node: facts
                .max_memory_per_node
                .min(facts.max_memory / nodes.max(1)),
        };
        let mut builder = SessionStateBuilder::new_from_existing(local.clone())
            .with_distributed_planner()
            .with_distributed_worker_resolver(Workers(urls))
            .with_distributed_channel_resolver(self.channels.clone())
            .with_distributed_user_codec(VivaceCodec::new(self.connectors.clone()))
            .with_distributed_option_extension(options)
            .with_distributed_desired_task_count_handler({
                let connectors = self.connectors.clone();
                move |event: DesiredTaskCountEvent<'_>| {
                    task_counts::desired_task_count(&connectors, event)
                }
            })
            .with_distributed_desired_task_count_handler(task_counts::single_partition_guard)
            .with_distributed_scale_up_leaf_node_handler({
                let connectors = self.connectors.clone();
                move |event: ScaleUpLeafNodeEvent<'_>| task_counts::scale_up(&connectors, event)
            });
        if self.config.include_coordinator {
            builder = builder.with_distributed_local_worker_context(
                self.local_worker
                    .worker()
                    .to_local_worker_context(self.self_url.clone()),
            );
        }
        builder.build()
    }

    /// Whether a node still answers as ACTIVE at its address.
    async fn answers(&self, node: &RemoteNode) -> bool {
        let state = crate::member_state(
            &self.probe,
            self.internal.as_deref(),
            &node.http_uri,
            &node.node_id,
        )
        .await;
        state.as_deref() == Some("ACTIVE")
    }
}

/// The snapshot of worker URLs one attempt plans over.
struct Workers(Vec<Url>);

impl WorkerResolver for Workers {
    fn get_urls(&self) -> DfResult<Vec<Url>> {
        Ok(self.0.clone())
    }
}

/// One query's attempts.
struct ClusterQuery {
    shared: Arc<Shared>,
    facts: DistributedQueryFacts,
    /// Nodes lost by an earlier attempt.
    excluded: HashSet<String>,
    /// The workers the last attempt planned over.
    used: Vec<RemoteNode>,
}

#[async_trait]
impl DistributedQuery for ClusterQuery {
    async fn attempt_state(&mut self, local: &SessionState) -> EngineResult<Option<SessionState>> {
        let shared = &self.shared;
        let waited = Instant::now();
        loop {
            let workers = shared.workers(&self.excluded);
            if !workers.is_empty() {
                let mut urls: Vec<Url> = workers
                    .iter()
                    .filter_map(|n| Url::parse(&n.http_uri).ok())
                    .collect();
                if shared.config.include_coordinator {
                    urls.push(shared.self_url.clone());
                }
                debug!(query_id = %self.facts.query_id, workers = urls.len(), "planning over the cluster");
                self.used = workers;
                return Ok(Some(shared.distributed_state(local, urls, &self.facts)));
            }
            if shared.config.include_coordinator {
                return Ok(None);
            }
            let max = shared.config.max_queued_time;
            if waited.elapsed() >= max {
                return Err(EngineError::new(
                    ErrorCode::NO_NODES_AVAILABLE,
                    format!(
                        "No worker nodes available to run the query (waited {}; the coordinator \
                         runs no tasks because node-scheduler.include-coordinator=false)",
                        vivace_common::properties::format_duration(max)
                    ),
                ));
            }
            tokio::time::sleep(WAIT_FOR_WORKERS_POLL.min(max.saturating_sub(waited.elapsed())))
                .await;
        }
    }

    async fn may_retry(&mut self, error: &EngineError) -> bool {
        let shared = &self.shared;
        let checks = self.used.iter().map(|node| async move {
            let alive = shared.answers(node).await;
            (node.node_id.clone(), alive)
        });
        let mut lost = false;
        for (node_id, alive) in futures::future::join_all(checks).await {
            if !alive {
                info!(query_id = %self.facts.query_id, %node_id, "worker lost during the query");
                self.excluded.insert(node_id);
                lost = true;
            }
        }
        lost || matches!(error, EngineError::DataFusion(e) if is_transport_failure(e))
    }
}
