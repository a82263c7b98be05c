//! Errors of the CLI that are not a query's own failure.

use vivace_client::ClientError;

/// What stops the CLI from running a statement, or from starting.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A bad flag value.
    #[error("{0}")]
    Usage(String),
    /// A file or terminal could not be read.
    #[error("{0}")]
    Input(String),
    /// The client failed (transport, HTTP, protocol or query error).
    #[error(transparent)]
    Client(#[from] ClientError),
}
