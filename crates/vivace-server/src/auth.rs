//! Per-request security: where a request came from, and who it is.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
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

impl AppState {
    /// Checks a request to an internal endpoint (announcements, tasks, the node state): with a
    /// shared secret it must carry a valid internal token; without one (single-node mode) it
    /// must come from this host, and never through a trusted proxy, which would make every
    /// client look local.
    pub(crate) fn check_internal(
        &self,
        headers: &axum::http::HeaderMap,
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
        Err(error) => error.into_response(),
    }
}
