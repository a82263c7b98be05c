//! A client for the Trino/Presto client protocol: submit a statement, page through its
//! responses (`nextUri`), cancel it, and keep the session the server asks for. Used by
//! `vivace cli`, the tests and the benchmarks; it also speaks to a real Trino server.
//!
//! It must depend on `vivace-protocol` alone of our crates, never on the server or the engine.

mod client;
mod error;
mod options;
mod session;
mod statement;

pub use client::Client;
pub use error::ClientError;
pub use options::{ClientOptions, Credentials, TlsOptions};
pub use session::{ClientSession, SessionUpdate};
pub use statement::{QueryOutput, Statement};
