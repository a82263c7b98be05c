//! The engine: sessions, catalogs and metadata, the query lifecycle and execution, behind the
//! [`QueryService`] trait the server consumes.
//!
//! A statement arrives with its [`Session`]; the SQL front end (`vivace-sql`) recognises it,
//! `execute` dispatches it by concern, and SQL is planned and run by DataFusion against the
//! mounted catalogs (`catalog`), set up as on every worker by `vivace-functions`. Results
//! stream to the server as Arrow batches with their Trino types ([`QueryEvent`]) through a
//! [`QueryHandle`]; the server encodes them for its protocol.
//!
//! Its modules are private: the types other crates use are the `pub use` list below, and
//! `unreachable_pub` keeps everything else `pub(crate)`.
//!
//! It must not depend on the server, the cluster layer or security: the cluster reaches it
//! through the [`Distribution`] and [`NodeDirectory`] ports it defines. Connectors reach it
//! through `vivace-spi`; the function library (`vivace-functions`) sits below it.

#![warn(unreachable_pub)]

mod api;
mod catalog;
mod config;
mod context;
mod distribution;
mod engine;
mod error;
mod execute;
mod explain_io;
mod hooks;
mod information_schema;
mod memory;
mod metadata_filter;
mod metadata_table;
mod planning;
mod procedures;
mod query;
mod session;
mod session_properties;
mod shared;
mod show_functions;
mod system;
mod tracker;

pub use api::QueryService;
pub use config::{EngineConfig, RetryPolicy};
pub use distribution::{DistributedQuery, DistributedQueryFacts, Distribution};
pub use engine::Engine;
pub use error::{EngineError, EngineResult, QueryFailure};
pub use hooks::{Admission, AdmissionPermit, AdmitAll, ScanAsIs, ScanPolicy};
pub use memory::{LowMemoryKillerPolicy, NodeMemory, QueryMemoryPool};
pub use query::{QueryEvent, QueryHandle, QueryState, QueryStatus, ResultColumn};
pub use session::{Identity, Session, SessionUpdate};
pub use system::{NodeDirectory, NodeInfo, RemoteNode};
