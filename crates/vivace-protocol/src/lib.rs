//! The Trino/Presto client REST protocol: wire types, the Trino type model and header names.
//!
//! Shared by the server, the client and the CLI; it depends on serde, `http`,
//! `form_urlencoded` and `recursive` only, and must never depend on another crate of ours. Optional fields are
//! `Option`s skipped when absent, because clients break on `"field": null`.

pub mod headers;
pub mod request_headers;
pub mod session_update;
pub mod types;
pub mod wire;

pub use headers::ProtocolHeaders;
pub use request_headers::{HeaderError, RequestedSession};
pub use session_update::SessionUpdate;
pub use types::TrinoType;
pub use wire::*;
