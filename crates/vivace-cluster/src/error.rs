//! The crate's one error type.

/// Why an announcement was refused or could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The announcing node belongs to another environment: HTTP 400.
    #[error("Environment mismatch. Expected: {expected}, Provided: {provided}")]
    EnvironmentMismatch {
        /// This cluster's `node.environment`.
        expected: String,
        /// The node's.
        provided: String,
    },
    /// The announcement is malformed: HTTP 400.
    #[error("Invalid announcement: {0}")]
    InvalidAnnouncement(String),
    /// The coordinator could not call the announced address back: HTTP 400.
    #[error(
        "Announced address {uri} is not reachable from the coordinator: {reason}; set node.internal-address to an address the coordinator can reach"
    )]
    Unreachable {
        /// The announced URI.
        uri: String,
        /// Why the call failed.
        reason: String,
    },
    /// Sending an announcement failed.
    #[error("{0}")]
    Announce(String),
}
