//! The coordinator's node directory: announcements in, a failure detector probing every node,
//! and expiry of nodes that stop announcing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use tracing::{info, warn};
use vivace_engine::{NodeDirectory, RemoteNode};
use vivace_security::InternalAuth;

use crate::{Announcement, ClusterConfig, ClusterError};

/// How long the coordinator waits when calling an announced address back.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// A node's state as the coordinator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Takes work.
    Active,
    /// Finishing its work before leaving; takes no new work.
    Draining,
    /// Shutting down.
    ShuttingDown,
    /// Announced, but the failure detector cannot reach it.
    Inactive,
}

impl NodeState {
    /// Trino's name.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Active => "ACTIVE",
            NodeState::Draining => "DRAINING",
            NodeState::ShuttingDown => "SHUTTING_DOWN",
            NodeState::Inactive => "INACTIVE",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(NodeState::Active),
            "DRAINING" | "DRAINED" => Some(NodeState::Draining),
            "SHUTTING_DOWN" => Some(NodeState::ShuttingDown),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct NodeEntry {
    uri: String,
    version: String,
    coordinator: bool,
    announced_at: Instant,
    reported: NodeState,
    failed_probes: u32,
}

/// The nodes that announced themselves to this coordinator.
#[derive(Debug)]
pub struct Membership {
    config: ClusterConfig,
    internal: Option<Arc<InternalAuth>>,
    client: reqwest::Client,
    nodes: RwLock<HashMap<String, NodeEntry>>,
}

impl Membership {
    /// An empty directory; `internal` signs the coordinator's calls to nodes.
    pub fn new(
        config: ClusterConfig,
        internal: Option<Arc<InternalAuth>>,
    ) -> Result<Self, ClusterError> {
        let client = reqwest::Client::builder()
            .timeout(CALLBACK_TIMEOUT)
            .build()
            .map_err(|e| ClusterError::Announce(format!("cannot create HTTP client: {e}")))?;
        Ok(Membership {
            config,
            internal,
            client,
            nodes: RwLock::new(HashMap::new()),
        })
    }

    fn request(&self, url: &str) -> reqwest::RequestBuilder {
        crate::signed(self.client.get(url), self.internal.as_deref())
    }

    /// Records an announcement. A new node, or a known node at a new address, is called back
    /// at the announced address first.
    pub async fn announce(
        &self,
        node_id: &str,
        announcement: &Announcement,
    ) -> Result<(), ClusterError> {
        if node_id.is_empty()
            || !node_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ClusterError::InvalidAnnouncement(format!(
                "node id {node_id:?} must be letters, digits, '-' or '_'"
            )));
        }
        if announcement.environment != self.config.environment {
            return Err(ClusterError::EnvironmentMismatch {
                expected: self.config.environment.clone(),
                provided: announcement.environment.clone(),
            });
        }
        let (uri, version, coordinator) = announcement.trino_service().ok_or_else(|| {
            ClusterError::InvalidAnnouncement(
                "no trino service with an http or https URI".to_string(),
            )
        })?;
        if !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return Err(ClusterError::InvalidAnnouncement(format!(
                "invalid node URI {uri}"
            )));
        }
        let known_at = self.nodes.read().get(node_id).map(|e| e.uri.clone());
        if known_at.as_deref() != Some(uri.as_str()) {
            self.call_back(node_id, &uri).await?;
        }
        let mut nodes = self.nodes.write();
        let entry = nodes.entry(node_id.to_string()).or_insert_with(|| {
            info!(node_id, %uri, "node joined the cluster");
            NodeEntry {
                uri: uri.clone(),
                version: version.clone(),
                coordinator,
                announced_at: Instant::now(),
                reported: NodeState::Active,
                failed_probes: 0,
            }
        });
        entry.uri = uri;
        entry.version = version;
        entry.coordinator = coordinator;
        entry.announced_at = Instant::now();
        Ok(())
    }

    /// Checks the announced address answers as the announcing node, of this environment.
    async fn call_back(&self, node_id: &str, uri: &str) -> Result<(), ClusterError> {
        let unreachable = |reason: String| ClusterError::Unreachable {
            uri: uri.to_string(),
            reason,
        };
        let response = self
            .request(&format!("{uri}/v1/info"))
            .send()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!(
                "GET /v1/info answered {}",
                response.status()
            )));
        }
        let info: serde_json::Value = response
            .json()
            .await
            .map_err(|e| unreachable(format!("GET /v1/info is not JSON: {}", e.without_url())))?;
        match info.get("environment").and_then(|e| e.as_str()) {
            Some(environment) if environment == self.config.environment => {}
            other => {
                return Err(unreachable(format!(
                    "the node there reports environment {other:?}, expected {}",
                    self.config.environment
                )));
            }
        }
        match crate::member_state(&self.client, self.internal.as_deref(), uri, node_id).await {
            Some(_) => Ok(()),
            None => Err(unreachable(format!(
                "the node there does not answer as node {node_id} of this cluster"
            ))),
        }
    }

    /// Forgets a node that left cleanly.
    pub fn unannounce(&self, node_id: &str) {
        if self.nodes.write().remove(node_id).is_some() {
            info!(node_id, "node left the cluster");
        }
    }

    /// Expires silent nodes and probes the others, every heartbeat interval, until dropped.
    pub fn spawn_failure_detector(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(this.config.heartbeat_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                this.expire();
                this.probe_all().await;
            }
        })
    }

    fn expire(&self) {
        let max_age = self.config.max_age;
        self.nodes.write().retain(|id, entry| {
            let alive = entry.announced_at.elapsed() < max_age;
            if !alive {
                warn!(node_id = %id, uri = %entry.uri, "node stopped announcing; removed from the cluster");
            }
            alive
        });
    }

    async fn probe_all(&self) {
        let targets: Vec<(String, String)> = self
            .nodes
            .read()
            .iter()
            .map(|(id, e)| (id.clone(), e.uri.clone()))
            .collect();
        let probes = targets.into_iter().map(|(id, uri)| async move {
            let timeout = self
                .config
                .heartbeat_interval
                .max(Duration::from_millis(500))
                * 2;
            let state = tokio::time::timeout(timeout, async {
                let text =
                    crate::member_state(&self.client, self.internal.as_deref(), &uri, &id).await?;
                NodeState::parse(&text)
            })
            .await
            .ok()
            .flatten();
            (id, state)
        });
        let results = futures::future::join_all(probes).await;
        let threshold = self.config.failure_threshold;
        let mut nodes = self.nodes.write();
        for (id, state) in results {
            let Some(entry) = nodes.get_mut(&id) else {
                continue;
            };
            let before = state_of(entry, threshold);
            match state {
                Some(state) => {
                    entry.failed_probes = 0;
                    entry.reported = state;
                }
                None => entry.failed_probes = entry.failed_probes.saturating_add(1),
            }
            let after = state_of(entry, threshold);
            if before != after {
                info!(node_id = %id, from = before.as_str(), to = after.as_str(), "node state changed");
            }
        }
    }
}

fn state_of(entry: &NodeEntry, threshold: u32) -> NodeState {
    if entry.failed_probes >= threshold.max(1) {
        NodeState::Inactive
    } else {
        entry.reported
    }
}

impl NodeDirectory for Membership {
    fn remote_nodes(&self) -> Vec<RemoteNode> {
        let threshold = self.config.failure_threshold;
        let mut nodes: Vec<RemoteNode> = self
            .nodes
            .read()
            .iter()
            .filter(|(id, _)| **id != self.config.node_id)
            .map(|(id, e)| RemoteNode {
                node_id: id.clone(),
                http_uri: e.uri.clone(),
                version: e.version.clone(),
                coordinator: e.coordinator,
                state: state_of(e, threshold).as_str().to_string(),
            })
            .collect();
        nodes.sort_by(|a, b| a.node_id.cmp(&b.node_id));
        nodes
    }
}
