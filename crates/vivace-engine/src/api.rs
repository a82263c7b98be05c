//! The port the server consumes: submit statements, find and list queries, and read this
//! node's identity.

use std::sync::Arc;

use vivace_common::QueryId;

use crate::query::QueryHandle;
use crate::session::Session;
use crate::system::{NodeInfo, RemoteNode};

/// What the HTTP server needs from the engine.
pub trait QueryService: Send + Sync + 'static {
    /// Starts running `sql` in `session` and returns its handle at once.
    fn submit(&self, session: Session, sql: String) -> Arc<QueryHandle>;

    /// A query by id, while it is running or in recent history.
    fn query(&self, id: &QueryId) -> Option<Arc<QueryHandle>>;

    /// Every running and recent query, oldest first.
    fn queries(&self) -> Vec<Arc<QueryHandle>>;

    /// This node's identity.
    fn node(&self) -> &NodeInfo;

    /// The cluster's other nodes, as far as this node knows them.
    fn remote_nodes(&self) -> Vec<RemoteNode>;

    /// Stops accepting new queries; running ones go on.
    fn begin_shutdown(&self);

    /// How many queries have not ended.
    fn running_queries(&self) -> usize;

    /// The runtime that work on a query's output (encoding it for the client) should run on,
    /// away from the HTTP threads; `None` runs it on the caller's runtime.
    fn output_runtime(&self) -> Option<tokio::runtime::Handle> {
        None
    }
}
