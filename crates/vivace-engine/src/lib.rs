//! The engine: sessions, catalogs, the Trino function library and DataFusion wiring, behind
//! the [`QueryService`] trait the server consumes.
//!
//! A statement arrives with its [`Session`]; the SQL front end (`vivace-sql`) recognises it,
//! `execute` dispatches it by concern, and SQL is planned and run by DataFusion against the
//! mounted catalogs ([`catalog`]), set up once for coordinator and workers alike
//! ([`session_setup`]). Results are encoded to the protocol's JSON values ([`encode`]) and
//! streamed to the server through a [`QueryHandle`].
//!
//! It must not depend on the server, the cluster layer or security: the cluster reaches it
//! through the [`Distribution`] and [`NodeDirectory`] ports it defines. Connectors reach it
//! through `vivace-spi`.

pub mod api;
pub mod cast;
mod cast_json;
pub mod catalog;
pub mod config;
pub mod context;
pub mod distribution;
pub mod encode;
mod engine;
pub mod error;
mod execute;
mod explain_io;
pub mod functions;
pub mod hooks;
pub mod information_schema;
pub mod memory;
mod metadata_filter;
mod planning;
mod procedures;
pub mod query;
pub mod session;
pub mod session_properties;
pub mod session_setup;
mod show_functions;
pub mod system;
mod tracker;
pub mod types;

pub use api::QueryService;
pub use config::{EngineConfig, RetryPolicy};
pub use distribution::{DistributedQuery, DistributedQueryFacts, Distribution};
pub use engine::Engine;
pub use error::{EngineError, EngineResult, QueryFailure};
pub use hooks::{Admission, AdmissionPermit, AdmitAll, ScanAsIs, ScanPolicy};
pub use memory::{LowMemoryKillerPolicy, NodeMemory};
pub use query::{QueryEvent, QueryHandle, QueryState, QueryStatus};
pub use session::{Identity, Session, SessionUpdate};
pub use system::{NodeDirectory, NodeInfo, RemoteNode};
