//! The connector SPI: what a connector, ours or a plugin's, implements, and what the engine
//! and the cluster layer call.
//!
//! - [`Connector`] and [`ConnectorFactory`]: a catalog from its properties, as a DataFusion
//!   [`CatalogProvider`](datafusion::catalog::CatalogProvider);
//! - [`ConnectorDistribution`]: how the connector's plans travel to workers (its own plan
//!   codec, how a scan splits over tasks, whether its scans may run on any node);
//! - [`ConnectorError`] with the Trino code a client sees, and [`storage_error`] for what a
//!   client may be told of a storage failure;
//! - the Arrow metadata keys that carry Trino types and comments, and [`ScanCounters`].
//!
//! It depends on DataFusion, Arrow and `vivace-common` only: never on the engine, the cluster
//! layer or any connector, so a connector crate depends on this one alone.

mod connector;
mod distribution;
mod error;
mod metadata;
pub mod storage_error;

pub use connector::{Connector, ConnectorFactory, MountedConnector, ScanCounters};
pub use distribution::{ConnectorDistribution, TaskCount};
pub use error::{ConnectorError, ConnectorResult};
pub use metadata::{COMMENT_METADATA_KEY, TRINO_TYPE_METADATA_KEY, column_comment, table_comment};
