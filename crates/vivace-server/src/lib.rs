//! The HTTP server: the Trino/Presto client protocol (`/v1/statement`, `/v1/info`,
//! `/v1/query`, ...) over the engine's [`QueryService`](vivace_engine::QueryService).
//!
//! The server knows nothing of SQL or planning. It turns request headers into a
//! [`Session`](vivace_engine::Session), pages a query's events (Arrow batches, encoded with
//! `vivace_functions::encode`) into `QueryResults` documents, and turns session changes back
//! into response headers. It must not depend on connectors or the SQL front end, and reaches
//! the engine only through `QueryService` and the types it returns.

mod auth;
pub mod config;
mod connections;
mod discovery;
mod encoder;
mod error;
mod headers;
mod info;
mod log_limit;
mod paging;
mod rate_limit;
mod routes;
mod server;
mod state;
mod statement;

pub use config::{
    ConnectionLimitsConfig, DEFAULT_HTTP_PORT, DEFAULT_HTTPS_PORT, DEFAULT_MAX_CONNECTIONS,
    HttpsConfig, ServerConfig,
};
pub use server::{Server, ServerError};
