//! The query facts that travel with every task to the workers, as
//! `x-datafusion-distributed-config-vivace.*` headers.

use datafusion::common::extensions_options;
use datafusion::config::ConfigExtension;

extensions_options! {
    /// Facts about the query a task belongs to.
    pub struct QueryOptions {
        /// The query id.
        pub query_id: String, default = String::new()
        /// The session user.
        pub user: String, default = String::new()
        /// The session time zone; empty for the node's default.
        pub time_zone: String, default = String::new()
        /// Memory the query may use on one node, in bytes; 0 for the node's default.
        pub max_memory_per_node: u64, default = 0
    }
}

impl ConfigExtension for QueryOptions {
    const PREFIX: &'static str = "vivace";
}
