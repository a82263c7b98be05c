//! Cluster membership.
//!
//! - [`Announcer`]: a worker's loop that announces it to the coordinator's discovery service
//!   (`PUT /v1/announcement/{nodeId}`, Trino's airlift shape), signed with the internal token.
//! - [`Membership`]: the coordinator's directory of nodes: announcements are checked
//!   (environment, the announced address called back) and expire when they stop; a failure
//!   detector probes every node and marks unreachable ones `INACTIVE`. It backs
//!   `system.runtime.nodes` and `/v1/node`.
//!
//! - [`distributed`]: stages of a query run on the workers with datafusion-distributed.

mod announcement;
mod announcer;
mod config;
pub mod distributed;
mod error;
mod membership;

pub use announcement::{Announcement, ServiceAnnouncement};
pub use announcer::Announcer;
pub use config::{ClusterConfig, route_address, with_host};
pub use error::ClusterError;
pub use membership::{Membership, NodeState};

use vivace_security::{INTERNAL_BEARER_HEADER, InternalAuth};

/// Adds this node's internal token to a request to another node, when a secret is set.
fn signed(
    request: reqwest::RequestBuilder,
    internal: Option<&InternalAuth>,
) -> reqwest::RequestBuilder {
    match internal.and_then(|i| i.token().ok()) {
        Some(token) => request.header(INTERNAL_BEARER_HEADER, token),
        None => request,
    }
}
