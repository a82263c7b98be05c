//! Per-request security: where a request came from, and who it is.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vivace_security::{AuthRequest, Principal};

use crate::error::RequestError;
use crate::server::AppState;

/// The connection a request arrived on, set by the accept loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionInfo {
    /// The peer address.
    pub(crate) remote: SocketAddr,
    /// Whether the connection is TLS.
    pub(crate) tls: bool,
}

/// The authenticated principal of a request; `None` when authentication is off.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub(crate) Option<Principal>);

impl AppState {
    /// Whether the request reached us over TLS, directly or through a trusted proxy.
    pub(crate) fn is_secure(&self, request_tls: bool, headers: &axum::http::HeaderMap) -> bool {
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
    fn client_address(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
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

/// Middleware for internal-only endpoints: a valid internal token is required when a shared
/// secret is configured.
pub(crate) async fn internal_only(
    State(app): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    match app.authentication.authenticate_internal(request.headers()) {
        Ok(_) => next.run(request).await,
        Err(error) => {
            let peer = request
                .extensions()
                .get::<ConnectionInfo>()
                .map(|c| c.remote.ip().to_string())
                .unwrap_or_default();
            crate::log_limit::warn_limited!(
                "internal request to {} from {peer} refused: {error}",
                request.uri().path()
            );
            RequestError::Security(error).into_response()
        }
    }
}
