//! The one place where query failures become the protocol's `error` object, and where
//! request problems become HTTP responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use vivace_cluster::ClusterError;
use vivace_engine::QueryFailure;
use vivace_protocol::{ErrorLocation, FailureInfo, HeaderError, QueryError};
use vivace_security::SecurityError;

impl From<HeaderError> for RequestError {
    fn from(error: HeaderError) -> Self {
        RequestError::BadRequest(error.0)
    }
}

/// The wire form of a failed query.
pub(crate) fn query_error(failure: &QueryFailure) -> QueryError {
    let location = failure.location.map(|l| ErrorLocation {
        line_number: l.line,
        column_number: l.column,
    });
    QueryError {
        message: failure.message.clone(),
        error_code: failure.code.code,
        error_name: failure.code.name.to_string(),
        error_type: failure.code.kind.as_str().to_string(),
        error_location: location,
        failure_info: Some(FailureInfo {
            type_name: "io.trino.spi.TrinoException".to_string(),
            message: Some(failure.message.clone()),
            cause: None,
            suppressed: vec![],
            stack: vec![],
            error_location: location,
        }),
    }
}

/// A request the server refuses before any query exists.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RequestError {
    /// Malformed request: 400.
    #[error("{0}")]
    BadRequest(String),
    /// No user: 401 with a Basic challenge.
    #[error("{0}")]
    Unauthorized(String),
    /// The user may not see this: 403.
    #[error("Access Denied: {0}")]
    Forbidden(String),
    /// Unknown query, slug or token: 404.
    #[error("Query not found")]
    NotFound,
    /// A token older than the last one: 410.
    #[error("Query results for this token are no longer available")]
    Gone,
    /// The server is draining: 503.
    #[error("{0}")]
    Unavailable(String),
    /// The user submits statements faster than allowed: 429 with `Retry-After`.
    #[error(
        "Too many statements from user {user}: at most {per_second} per second \
         (http-server.max-statements-per-second-per-user)"
    )]
    TooManyStatements {
        /// The user over the rate.
        user: String,
        /// The allowed rate.
        per_second: u32,
        /// When the next statement would be accepted.
        retry_after: std::time::Duration,
    },
    /// The request body is larger than the server reads: 413.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The request body did not arrive in time: 408, and the connection closes.
    #[error("{0}")]
    RequestTimeout(String),
    /// Authentication or transport security refused the request.
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// A server bug: 500.
    #[error("{0}")]
    Internal(String),
    /// A refused announcement: 400.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        let status = match &self {
            RequestError::BadRequest(_) => StatusCode::BAD_REQUEST,
            RequestError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            RequestError::Forbidden(_) => StatusCode::FORBIDDEN,
            RequestError::NotFound => StatusCode::NOT_FOUND,
            RequestError::Gone => StatusCode::GONE,
            RequestError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestError::TooManyStatements { .. } => StatusCode::TOO_MANY_REQUESTS,
            RequestError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            RequestError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            RequestError::Cluster(_) => StatusCode::BAD_REQUEST,
            RequestError::Security(error) => match error {
                SecurityError::Unauthenticated { .. } | SecurityError::Internal(_) => {
                    StatusCode::UNAUTHORIZED
                }
                SecurityError::InsecureTransport | SecurityError::Forbidden(_) => {
                    StatusCode::FORBIDDEN
                }
                SecurityError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                SecurityError::Properties(_)
                | SecurityError::Config(_)
                | SecurityError::Certificate(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        };
        let mut response = (status, self.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        match &self {
            RequestError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"Trino\""),
                );
            }
            RequestError::Security(SecurityError::Unauthenticated { challenges, .. }) => {
                for challenge in challenges {
                    headers.append(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(challenge),
                    );
                }
            }
            RequestError::TooManyStatements { retry_after, .. } => {
                // Whole seconds, rounded up: a client waiting this long is admitted.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            }
            RequestError::Security(SecurityError::Throttled { retry_after }) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs().max(1)),
                );
            }
            RequestError::PayloadTooLarge(_) | RequestError::RequestTimeout(_) => {
                // The rest of the body is not read: the connection cannot carry another request.
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}
