//! Distributed execution with datafusion-distributed, behind the engine's
//! [`Distribution`](vivace_engine::Distribution) port.
//!
//! - [`ClusterDistribution`] (coordinator): plans a query's stages over the ACTIVE workers,
//!   waits for a worker when none may run it, and after a failure finds the lost workers (or
//!   a broken connection, in [`transport`]) so the engine can run the query again.
//! - [`NodeWorker`] (every node): runs the tasks it is sent, behind a gRPC service on the
//!   node's HTTP port.
//! - [`NodeChannels`]: the signed gRPC channels between nodes.
//! - [`ConnectorPlans`]: each connector's part (its plan codec, behind [`VivaceCodec`], how
//!   its scans split over tasks, whether they may run anywhere), asked in turn; this layer
//!   knows no connector by name.

mod channels;
mod codec;
mod connectors;
mod distribution;
mod options;
mod task_counts;
mod transport;
mod worker;

pub use channels::NodeChannels;
pub use codec::VivaceCodec;
pub use connectors::ConnectorPlans;
pub use distribution::{ClusterDistribution, DistributionConfig};
pub use options::QueryOptions;
pub use worker::{NodeWorker, WORKER_GRPC_PATH, WorkerGrpc};
