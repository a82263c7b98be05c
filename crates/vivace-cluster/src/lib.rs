//! Cluster membership.
//!
//! - [`Announcer`]: a worker's loop that announces it to the coordinator's discovery service
//!   (`PUT /v1/announcement/{nodeId}`, Trino's airlift shape), signed with the internal token.
//! - [`Membership`]: the coordinator's directory of nodes: announcements are checked
//!   (environment, the announced address called back) and expire when they stop; a failure
//!   detector probes every node and marks unreachable ones `INACTIVE`. It backs
//!   `system.runtime.nodes` and `/v1/node`.
//!
//! Distributed execution (datafusion-distributed) is not wired yet: queries run on the
//! coordinator.

mod announcement;
mod announcer;
mod config;
mod error;
mod membership;

pub use announcement::{Announcement, ServiceAnnouncement};
pub use announcer::Announcer;
pub use config::ClusterConfig;
pub use error::ClusterError;
pub use membership::{Membership, NodeState};
