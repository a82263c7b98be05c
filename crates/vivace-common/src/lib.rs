//! Error codes, ids and property-file configuration shared by every Vivace crate.
//!
//! This crate sits at the bottom of the workspace: it must not depend on any other Vivace crate,
//! and knows nothing of SQL, HTTP or DataFusion.

pub mod error_code;
pub mod ids;
pub mod properties;
pub mod trino_error;

pub use error_code::{ErrorCode, ErrorKind};
pub use ids::{QueryId, QueryIdGenerator};
pub use properties::{PropertiesError, Property, PropertyMap};
pub use trino_error::{SqlLocation, TrinoError};

/// The version string every node reports (`/v1/info`, `version()`), a Trino-style number so that
/// clients that parse or compare it keep working.
pub const TRINO_COMPATIBLE_VERSION: &str = "476";

/// Vivace's own version, from Cargo.
pub const VIVACE_VERSION: &str = env!("CARGO_PKG_VERSION");
