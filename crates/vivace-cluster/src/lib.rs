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
//!
//! It reaches the engine through the ports the engine defines (`Distribution`,
//! `NodeDirectory`) and connectors through `vivace-spi` only. It must not depend on the server
//! or on any connector crate (those are wired in by the binary).

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

/// The response header in which a node answering a signed `GET /v1/info/state` names itself.
pub const NODE_ID_HEADER: &str = "x-vivace-node-id";

/// Asks the node expected at `uri` for its state (`GET /v1/info/state`). With a shared secret
/// the answer counts only when it names `node_id`: an address can pass to another process
/// (a container restarted elsewhere, a stranger on the network), and that process is not the
/// member. `None` when nothing, or not that member, answers.
async fn member_state(
    client: &reqwest::Client,
    internal: Option<&InternalAuth>,
    uri: &str,
    node_id: &str,
) -> Option<String> {
    let response = signed(client.get(format!("{uri}/v1/info/state")), internal)
        .send()
        .await
        .ok()?;
    if internal.is_some() {
        let answered_by = response.headers().get(NODE_ID_HEADER)?.to_str().ok()?;
        if answered_by != node_id {
            return None;
        }
    }
    response.json().await.ok()
}

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
