//! The crate's one error type.

use std::time::Duration;

use vivace_common::PropertiesError;

/// A configuration problem, or a request that failed authentication.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// A property file problem, naming the file, line and key.
    #[error(transparent)]
    Properties(#[from] PropertiesError),
    /// Any other configuration problem, already worded with what is wrong.
    #[error("{0}")]
    Config(String),
    /// A certificate or key could not be loaded or made.
    #[error("{0}")]
    Certificate(String),
    /// No authenticator accepted the request: HTTP 401 with one challenge per method.
    #[error("{message}")]
    Unauthenticated {
        /// The authenticators' messages joined by ` | `.
        message: String,
        /// `WWW-Authenticate` values, one per configured method.
        challenges: Vec<&'static str>,
    },
    /// Credentials were sent over plain HTTP while authentication requires TLS: HTTP 403.
    #[error(
        "Authentication over HTTP is not enabled: use HTTPS, or set http-server.process-forwarded=true behind a TLS-terminating proxy"
    )]
    InsecureTransport,
    /// The request is authenticated but asks for something the principal may not do: 403.
    #[error("Access Denied: {0}")]
    Forbidden(String),
    /// Too many recent failures for this user from this client address, or of any users from
    /// it while the user is not known there: HTTP 429 with `Retry-After`.
    #[error("Too many failed authentication attempts; retry in {} s", .retry_after.as_secs().max(1))]
    Throttled {
        /// When the client may try again.
        retry_after: Duration,
    },
    /// A node-to-node request without a valid internal token: HTTP 401.
    #[error("Internal authentication failed: {0}")]
    Internal(String),
}

impl SecurityError {
    /// A configuration error with the given text.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        SecurityError::Config(message.into())
    }
}
