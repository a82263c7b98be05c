//! Per-request security: where a request came from, and who it is.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vivace_security::{AuthRequest, Principal};

use crate::connections::ConnectionInfo;
use crate::error::RequestError;
use crate::state::AppState;

/// The authenticated principal of a request; `None` when authentication is off.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub(crate) Option<Principal>);

/// Middleware for client endpoints: authenticates the request and records the principal.
pub(crate) async fn authenticate(
    State(app): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(connection) = request.extensions().get::<ConnectionInfo>().copied() else {
        return RequestError::Internal("request without connection information".to_string())
            .into_response();
    };
    let secure = app.is_secure(connection.tls, request.headers());
    let client = app.client_address(connection.remote.ip(), request.headers());
    let outcome = app
        .authentication
        .authenticate(&AuthRequest {
            headers: request.headers(),
            secure,
            client,
        })
        .await;
    match outcome {
        Ok(principal) => {
            request.extensions_mut().insert(Authenticated(principal));
            next.run(request).await
        }
        Err(error) => RequestError::Security(error).into_response(),
    }
}

/// Middleware for internal-only endpoints: see [`AppState::check_internal`].
pub(crate) async fn internal_only(
    State(app): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let connection = request.extensions().get::<ConnectionInfo>();
    match app.check_internal(request.headers(), connection, request.uri().path()) {
        Ok(()) => next.run(request).await,
        Err(error) if is_grpc(request.headers()) => grpc_refusal(&error),
        Err(error) => error.into_response(),
    }
}

/// Whether a request speaks gRPC (a task call between nodes).
fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// A refused gRPC call answered the way gRPC expects (a trailers-only response), so the
/// calling node reads a status and a message instead of failing to decode an HTTP error page.
fn grpc_refusal(error: &RequestError) -> Response {
    // gRPC status codes: 16 UNAUTHENTICATED (no valid internal token), 7 PERMISSION_DENIED.
    let code = match error {
        RequestError::Security(_) => "16",
        _ => "7",
    };
    let message = format!("refused by the node: {error}");
    let mut response = Response::new(Body::empty());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", HeaderValue::from_static(code));
    if let Ok(value) = HeaderValue::from_str(&percent_encode_grpc_message(&message)) {
        headers.insert("grpc-message", value);
    }
    response
}

/// Percent-encodes a `grpc-message` value: bytes outside printable ASCII, and `%` itself.
fn percent_encode_grpc_message(message: &str) -> String {
    let mut encoded = String::with_capacity(message.len());
    for byte in message.bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_messages_are_percent_encoded() {
        assert_eq!(
            percent_encode_grpc_message("100% refused: é"),
            "100%25 refused: %C3%A9"
        );
    }

    #[test]
    fn refused_grpc_calls_get_a_grpc_status() {
        let response = grpc_refusal(&RequestError::Forbidden("not this node".to_string()));
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        assert_eq!(response.headers()["grpc-status"], "7");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/grpc");
        assert!(
            response.headers()["grpc-message"]
                .to_str()
                .is_ok_and(|m| m.contains("not this node"))
        );
    }
}
