//! Why an access control cannot be used.

use vivace_common::ErrorCode;

/// A rules file or its configuration that cannot be used. Every check of a control whose
/// rules are in error denies (fails closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The rules file is missing, unreadable or invalid.
    #[error("{0}")]
    InvalidRules(String),
}

impl AccessError {
    /// The Trino error code a query failed by this error carries.
    pub fn code(&self) -> ErrorCode {
        match self {
            AccessError::InvalidRules(_) => ErrorCode::GENERIC_INTERNAL_ERROR,
        }
    }
}
