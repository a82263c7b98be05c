//! Membership settings.

use std::net::{IpAddr, UdpSocket};
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
    /// True when the host part of `internal_uri` was not configured but found as the local
    /// address of the route to the discovery host: it is looked up again before every
    /// announcement, since a container reconnected to its network may have a new address.
    pub follow_route_address: bool,
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
            follow_route_address: false,
            announcement_interval: Duration::from_secs(5),
            max_age: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(1),
            failure_threshold: 3,
            include_coordinator: true,
            max_queued_time: Duration::from_secs(300),
        }
    }
}

/// The local address this host uses to reach the host of `uri` (no packet is sent), or `None`
/// when the URI has no host or there is no route.
pub fn route_address(uri: &str) -> Option<IpAddr> {
    let url = url::Url::parse(uri).ok()?;
    let port = url.port_or_known_default().unwrap_or(80);
    let target = match url.host()? {
        url::Host::Domain(name) => format!("{name}:{port}"),
        url::Host::Ipv4(ip) => format!("{ip}:{port}"),
        url::Host::Ipv6(ip) => format!("[{ip}]:{port}"),
    };
    let bind = if target.starts_with('[') {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = UdpSocket::bind(bind).ok()?;
    socket.connect(target).ok()?;
    socket.local_addr().ok().map(|address| address.ip())
}

/// `uri` with its host replaced by `address`.
pub fn with_host(uri: &str, address: IpAddr) -> Option<String> {
    let mut url = url::Url::parse(uri).ok()?;
    url.set_ip_host(address).ok()?;
    Some(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_to_loopback_is_loopback() {
        let address = route_address("http://127.0.0.1:8080").expect("route");
        assert!(address.is_loopback());
        assert_eq!(route_address("not a uri"), None);
    }

    #[test]
    fn host_is_replaced_keeping_scheme_and_port() {
        let v4: IpAddr = "10.1.2.3".parse().expect("ip");
        assert_eq!(
            with_host("https://localhost:8443", v4).as_deref(),
            Some("https://10.1.2.3:8443")
        );
        let v6: IpAddr = "fd00::2".parse().expect("ip");
        assert_eq!(
            with_host("http://localhost:8080", v6).as_deref(),
            Some("http://[fd00::2]:8080")
        );
    }
}
