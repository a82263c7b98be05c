//! The connectors' error type: every error knows the Trino code a client sees.

use vivace_common::{ErrorCode, PropertiesError};

/// Errors raised while creating or using a connector.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// A catalog property is missing or malformed.
    #[error(transparent)]
    Config(#[from] PropertiesError),
    /// The connector cannot perform this operation.
    #[error("{0}")]
    NotSupported(String),
    /// The data source failed (a file that cannot be read, ...).
    #[error("{0}")]
    External(String),
    /// A failure with its own Trino code (a connector's error code, such as the memory
    /// connector's `MEMORY_LIMIT_EXCEEDED`).
    #[error("{message}")]
    Coded {
        /// The code reported to clients.
        code: ErrorCode,
        /// The message reported to clients.
        message: String,
    },
}

impl ConnectorError {
    /// The Trino error code reported to clients.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ConnectorError::Config(_) => ErrorCode::GENERIC_USER_ERROR,
            ConnectorError::NotSupported(_) => ErrorCode::NOT_SUPPORTED,
            ConnectorError::External(_) => ErrorCode::GENERIC_EXTERNAL,
            ConnectorError::Coded { code, .. } => *code,
        }
    }
}

/// Result of connector operations.
pub type ConnectorResult<T> = Result<T, ConnectorError>;
