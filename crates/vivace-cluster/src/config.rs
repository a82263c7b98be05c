//! Membership settings.

use std::time::Duration;

/// How this node takes part in the cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `node.environment`: nodes of another environment are refused.
    pub environment: String,
    /// `node.id`.
    pub node_id: String,
    /// `discovery.uri`: the coordinator's discovery service.
    pub discovery_uri: Option<String>,
    /// The URI other nodes reach this node at (`node.internal-address` and the port).
    pub internal_uri: String,
    /// `discovery.announcement-interval` (5s): how often a worker announces itself.
    pub announcement_interval: Duration,
    /// `discovery.max-age` (30s): an announcement not renewed in this time expires.
    pub max_age: Duration,
    /// `failure-detector.heartbeat-interval` (1s): how often the coordinator probes nodes.
    pub heartbeat_interval: Duration,
    /// `failure-detector.threshold-failures` (3): consecutive failed probes before a node is
    /// `INACTIVE`.
    pub failure_threshold: u32,
    /// `node-scheduler.include-coordinator` (true): the coordinator runs tasks too, and runs
    /// queries itself when no worker is there.
    pub include_coordinator: bool,
    /// `query.max-queued-time` (5m): how long a query waits for a worker when only workers may
    /// run it, before it fails with `NO_NODES_AVAILABLE`.
    pub max_queued_time: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            environment: "vivace".to_string(),
            node_id: String::new(),
            discovery_uri: None,
            internal_uri: String::new(),
            announcement_interval: Duration::from_secs(5),
            max_age: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(1),
            failure_threshold: 3,
            include_coordinator: true,
            max_queued_time: Duration::from_secs(300),
        }
    }
}
