//! Per-request security: where a request came from, and who it is.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vivace_security::{AuthRequest, Principal};

use crate::connections::is_this_host;
use crate::error::RequestError;
use crate::server::AppState;

/// The connection a request arrived on, set by the accept loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionInfo {
    /// The peer address.
    pub(crate) remote: SocketAddr,
    /// The address of this node the connection reached.
    pub(crate) local: IpAddr,
    /// Whether the connection is TLS.
    pub(crate) tls: bool,
}

/// The authenticated principal of a request; `None` when authentication is off.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub(crate) Option<Principal>);

impl AppState {
    /// Whether the request reached us over TLS, directly or through a trusted proxy.
    pub(crate) fn is_secure(&self, request_tls: bool, headers: &HeaderMap) -> bool {
        request_tls
            || (self.config.process_forwarded
                && headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")))
    }
}

impl AppState {
    /// The client's address: behind a trusted proxy, the last hop it reports in
    /// `X-Forwarded-For` (the one the proxy itself saw), else the peer address.
    fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.config.process_forwarded {
            return peer;
        }
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|hop| hop.trim().parse().ok())
            .unwrap_or(peer)
    }
}

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

impl AppState {
    /// Checks a request to an internal endpoint (announcements, tasks, the node state): with a
    /// shared secret it must carry a valid internal token; without one (single-node mode) it
    /// must come from this host, and never through a trusted proxy, which would make every
    /// client look local.
    pub(crate) fn check_internal(
        &self,
        headers: &HeaderMap,
        connection: Option<&ConnectionInfo>,
        path: &str,
    ) -> Result<(), RequestError> {
        let refused = match self.authentication.authenticate_internal(headers) {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => {
                let from_this_host = !self.config.process_forwarded
                    && connection.is_some_and(|c| is_this_host(c.remote.ip(), c.local));
                if from_this_host {
                    return Ok(());
                }
                RequestError::Forbidden(
                    "internal endpoints accept requests only from this node when internal-communication.shared-secret is not set"
                        .to_string(),
                )
            }
            Err(error) => RequestError::Security(error),
        };
        let peer = connection
            .map(|c| c.remote.ip().to_string())
            .unwrap_or_default();
        crate::log_limit::warn_limited!(
            "internal request to {path} from {peer} refused: {refused}"
        );
        Err(refused)
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
