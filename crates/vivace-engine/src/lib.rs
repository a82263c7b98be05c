//! The engine: sessions, catalogs, the Trino SQL front end and DataFusion wiring, behind the
//! [`QueryService`] trait the server consumes.
//!
//! A statement arrives with its [`Session`]; [`statement`] recognises session-control and
//! metadata statements, everything else is planned and run by DataFusion against the mounted
//! catalogs ([`catalog`]). Results are encoded to the protocol's JSON values ([`encode`]) and
//! streamed to the server through a [`QueryHandle`].

pub mod api;
pub mod cast;
mod cast_json;
pub mod catalog;
pub mod config;
pub mod context;
pub mod dialect;
pub mod distribution;
pub mod encode;
mod engine;
pub mod error;
mod execute;
mod explain_io;
mod function_rewrite;
pub mod functions;
pub mod information_schema;
pub mod memory;
mod metadata_filter;
mod planning;
mod procedures;
pub mod query;
pub mod rewrite;
pub mod session;
pub mod session_properties;
mod show_functions;
pub mod sql_limits;
pub mod statement;
pub mod system;
mod tracker;
pub mod trino_sql;
pub mod types;

pub use api::QueryService;
pub use config::{EngineConfig, RetryPolicy};
pub use distribution::{DistributedQuery, DistributedQueryFacts, Distribution};
pub use engine::Engine;
pub use error::{EngineError, EngineResult, QueryFailure};
pub use memory::{LowMemoryKillerPolicy, NodeMemory};
pub use query::{QueryEvent, QueryHandle, QueryState, QueryStatus};
pub use session::{Identity, Session, SessionUpdate};
pub use system::{NodeDirectory, NodeInfo, RemoteNode};
