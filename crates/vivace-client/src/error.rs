//! The client's one error type.

use vivace_protocol::QueryError;

/// Errors from the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The client's options are unusable (a bad URL, an unreadable certificate, ...).
    #[error("{0}")]
    Config(String),
    /// The server could not be reached or answered with a transport error.
    #[error("cannot reach {url}: {reason}")]
    Transport {
        /// The URL.
        url: String,
        /// Why, down to the root cause.
        reason: String,
    },
    /// The server answered with an unexpected HTTP status.
    #[error("server answered {status} for {url}: {body}")]
    Http {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The response text.
        body: String,
    },
    /// The response was not a protocol document.
    #[error("invalid response from {url}: {reason}")]
    Protocol {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The query failed.
    #[error("{} ({}): {}", .error.error_name, .error.error_type, .error.message)]
    Query {
        /// The failed query's id.
        query_id: String,
        /// The server's error document.
        error: Box<QueryError>,
    },
}

impl ClientError {
    /// A transport error for `url`, with the whole chain of causes in its reason (reqwest's
    /// own message alone rarely says what went wrong).
    pub(crate) fn transport(url: &str, error: &reqwest::Error) -> Self {
        // The innermost cause is the specific one ("Connection refused", "invalid peer
        // certificate: UnknownIssuer"); the outer layers only repeat the URL.
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            reason = cause.to_string();
            source = cause.source();
        }
        if error.is_timeout() {
            reason = "the request timed out".to_string();
        }
        ClientError::Transport {
            url: url.to_string(),
            reason,
        }
    }
}
