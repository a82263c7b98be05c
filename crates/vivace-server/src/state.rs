//! The state the handlers share: the engine's query service, authentication, the node
//! directory and worker, the protocol state of each query, and what the server's own
//! decisions read (base URIs, client addresses, internal-endpoint checks).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use parking_lot::Mutex;
use tracing::warn;
use vivace_cluster::Membership;
use vivace_cluster::distributed::NodeWorker;
use vivace_common::{ErrorCode, QueryId};
use vivace_engine::{QueryFailure, QueryService};
use vivace_security::Authentication;

use crate::config::ServerConfig;
use crate::connections::ConnectionInfo;
use crate::connections::is_this_host;
use crate::error::RequestError;
use crate::paging::ProtocolQuery;
use crate::rate_limit::StatementRateLimiter;

/// How long the protocol state of an ended query is kept after its last request.
const ENDED_QUERY_RETENTION: Duration = Duration::from_secs(300);

/// How long the final page stays available for a client's retry after it was served.
const DELIVERED_QUERY_RETENTION: Duration = Duration::from_secs(15);

/// State shared by the handlers.
pub(crate) struct AppState {
    pub(crate) service: Arc<dyn QueryService>,
    pub(crate) authentication: Arc<Authentication>,
    /// The node directory, on a coordinator.
    pub(crate) membership: Option<Arc<Membership>>,
    /// This node's worker, which runs tasks other nodes send it.
    pub(crate) worker: Option<NodeWorker>,
    /// Set by `PUT /v1/info/state`: drain and stop as on SIGTERM.
    pub(crate) shutdown_requested: tokio::sync::Notify,
    pub(crate) config: ServerConfig,
    pub(crate) queries: Mutex<HashMap<QueryId, Arc<ProtocolQuery>>>,
    pub(crate) started: Instant,
    /// Statements per second per user.
    pub(crate) statement_rate: StatementRateLimiter,
    pub(crate) shutting_down: AtomicBool,
}

impl AppState {
    /// State for a server that has not served anything yet.
    pub(crate) fn new(
        config: ServerConfig,
        service: Arc<dyn QueryService>,
        authentication: Arc<Authentication>,
        membership: Option<Arc<Membership>>,
        worker: Option<NodeWorker>,
    ) -> Self {
        let statement_rate = StatementRateLimiter::new(config.max_statements_per_second_per_user);
        AppState {
            service,
            authentication,
            membership,
            worker,
            shutdown_requested: tokio::sync::Notify::new(),
            config,
            queries: Mutex::new(HashMap::new()),
            started: Instant::now(),
            statement_rate,
            shutting_down: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Whether this node's worker still runs tasks.
    pub(crate) fn tasks_running(&self) -> bool {
        self.worker
            .as_ref()
            .is_some_and(|w| w.calls_in_flight() > 0)
    }

    /// Starts the drain, as SIGTERM does.
    pub(crate) fn request_shutdown(&self) {
        self.shutdown_requested.notify_one();
    }

    pub(crate) fn register(&self, query: Arc<ProtocolQuery>) {
        self.queries.lock().insert(query.handle.id().clone(), query);
    }

    /// The scheme, host and port clients used, for `nextUri` and `infoUri`.
    pub(crate) fn base_uri(&self, headers: &HeaderMap, tls: bool) -> String {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').next().unwrap_or(v).trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut scheme = if tls { "https" } else { "http" }.to_string();
        let mut host = header("host").unwrap_or_else(|| {
            let port = match &self.config.https {
                Some(https) if tls => https.port,
                _ => self.config.http_port,
            };
            format!("localhost:{port}")
        });
        if self.config.process_forwarded {
            if let Some(proto) = header("x-forwarded-proto") {
                scheme = proto;
            }
            if let Some(forwarded_host) = header("x-forwarded-host") {
                host = forwarded_host;
            }
            if let Some(port) = header("x-forwarded-port") {
                let bare = match host.rsplit_once(':') {
                    Some((name, tail)) if tail.chars().all(|c| c.is_ascii_digit()) => name,
                    _ => host.as_str(),
                };
                host = format!("{bare}:{port}");
            }
        }
        format!("{scheme}://{host}")
    }

    /// Fails queries whose client stopped polling; forgets ended queries nobody asks about.
    pub(crate) fn reap(&self) {
        let mut queries = self.queries.lock();
        queries.retain(|_, query| {
            let idle = query.idle_for();
            let done = query.handle.status().state.is_done();
            if !done && idle > self.config.client_timeout {
                warn!(query_id = %query.handle.id(), "abandoning query whose client stopped polling");
                query.handle.fail(QueryFailure::new(
                    ErrorCode::ABANDONED_QUERY,
                    format!(
                        "Query {} was abandoned by the client, as it may have exited or stopped checking for query results. Query results have not been accessed since {}",
                        query.handle.id(),
                        vivace_common::properties::format_duration(idle)
                    ),
                    None,
                ));
            }
            let expired = if query.is_complete() {
                idle > DELIVERED_QUERY_RETENTION
            } else {
                done && idle > ENDED_QUERY_RETENTION
            };
            !expired
        });
    }

    /// Whether any query is still running or has results its client has not fetched.
    pub(crate) fn has_undelivered_queries(&self) -> bool {
        self.service.running_queries() > 0
            || self.queries.lock().values().any(|q| {
                !q.handle.status().state.is_done() || q.idle_for() < Duration::from_millis(500)
            })
    }

    /// Whether the request reached us over TLS, directly or through a trusted proxy.
    pub(crate) fn is_secure(&self, request_tls: bool, headers: &HeaderMap) -> bool {
        request_tls
            || (self.config.process_forwarded
                && headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")))
    }

    /// The client's address: behind a trusted proxy, the last hop it reports in
    /// `X-Forwarded-For` (the one the proxy itself saw), else the peer address.
    pub(crate) fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
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

    pub(crate) fn find(&self, id: &str, slug: &str) -> Result<Arc<ProtocolQuery>, RequestError> {
        let id = QueryId::parse(id).ok_or(RequestError::NotFound)?;
        let query = self.queries.lock().get(&id).cloned();
        match query {
            Some(query) if query.slug == slug => Ok(query),
            _ => Err(RequestError::NotFound),
        }
    }
}
