//! The HTTP server: routes, shared state, the abandoned-query reaper and graceful shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{delete, get};
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tracing::{info, warn};
use vivace_common::{ErrorCode, QueryId};
use vivace_engine::{QueryFailure, QueryService};

use crate::config::ServerConfig;
use crate::paging::ProtocolQuery;
use crate::{info as info_routes, statement};

/// How long the protocol state of an ended query is kept after its last request.
const ENDED_QUERY_RETENTION: Duration = Duration::from_secs(300);

/// How long the final page stays available for a client's retry after it was served.
const DELIVERED_QUERY_RETENTION: Duration = Duration::from_secs(15);

/// State shared by the handlers.
pub(crate) struct AppState {
    pub(crate) service: Arc<dyn QueryService>,
    pub(crate) config: ServerConfig,
    pub(crate) queries: Mutex<HashMap<QueryId, Arc<ProtocolQuery>>>,
    pub(crate) started: Instant,
    shutting_down: AtomicBool,
}

impl AppState {
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub(crate) fn register(&self, query: Arc<ProtocolQuery>) {
        self.queries.lock().insert(query.handle.id().clone(), query);
    }

    /// The scheme, host and port clients used, for `nextUri` and `infoUri`.
    pub(crate) fn base_uri(&self, headers: &HeaderMap) -> String {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').next().unwrap_or(v).trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut scheme = "http".to_string();
        let mut host =
            header("host").unwrap_or_else(|| format!("localhost:{}", self.config.http_port));
        if self.config.process_forwarded {
            if let Some(proto) = header("x-forwarded-proto") {
                scheme = proto;
            }
            if let Some(forwarded_host) = header("x-forwarded-host") {
                host = forwarded_host;
                if let Some(port) = header("x-forwarded-port")
                    && !host.contains(':')
                {
                    host = format!("{host}:{port}");
                }
            }
        }
        format!("{scheme}://{host}")
    }

    /// Fails queries whose client stopped polling; forgets ended queries nobody asks about.
    fn reap(&self) {
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
}

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listening address could not be bound.
    #[error("cannot listen on {address}: {reason}")]
    Bind {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// Serving failed.
    #[error("HTTP server failed: {0}")]
    Serve(String),
}

/// A bound HTTP server, ready to run.
pub struct Server {
    listener: TcpListener,
    state: Arc<AppState>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish()
    }
}

impl Server {
    /// Binds the configured address.
    pub async fn bind(
        config: ServerConfig,
        service: Arc<dyn QueryService>,
    ) -> Result<Self, ServerError> {
        let address = format!("{}:{}", config.bind_address, config.http_port);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|e| ServerError::Bind {
                address: address.clone(),
                reason: e.to_string(),
            })?;
        Ok(Server {
            listener,
            state: Arc::new(AppState {
                service,
                config,
                queries: Mutex::new(HashMap::new()),
                started: Instant::now(),
                shutting_down: AtomicBool::new(false),
            }),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown` completes, then drains: new statements are refused, running
    /// queries get the grace period to finish (their clients can still fetch results), and
    /// the server stops.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let state = Arc::clone(&self.state);
        let router = router(Arc::clone(&state));
        let reaper_state = Arc::clone(&state);
        let reaper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                reaper_state.reap();
            }
        });
        let drain_state = Arc::clone(&state);
        let drained = async move {
            shutdown.await;
            info!("shutting down: refusing new queries, waiting for running ones");
            drain_state.shutting_down.store(true, Ordering::SeqCst);
            drain_state.service.begin_shutdown();
            let deadline = Instant::now() + drain_state.config.shutdown_grace_period;
            while Instant::now() < deadline && drain_state.has_undelivered_queries() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            info!("shutdown complete");
        };
        let result = axum::serve(self.listener, router)
            .with_graceful_shutdown(drained)
            .await
            .map_err(|e| ServerError::Serve(e.to_string()));
        reaper.abort();
        result
    }
}

impl AppState {
    /// Whether any query is still running or has results its client has not fetched.
    fn has_undelivered_queries(&self) -> bool {
        self.service.running_queries() > 0
            || self.queries.lock().values().any(|q| {
                !q.handle.status().state.is_done() || q.idle_for() < Duration::from_millis(500)
            })
    }
}

fn router(state: Arc<AppState>) -> Router {
    let statement_path = "/v1/statement/{kind}/{id}/{slug}/{token}";
    Router::new()
        .route("/v1/statement", axum::routing::post(statement::submit))
        .route(
            statement_path,
            get(statement::fetch)
                .delete(statement::cancel)
                .head(statement::heartbeat),
        )
        .route("/v1/info", get(info_routes::info))
        .route("/v1/info/state", get(info_routes::state))
        .route("/v1/info/coordinator", get(info_routes::coordinator))
        .route("/v1/status", get(info_routes::status))
        .route("/v1/node", get(info_routes::nodes))
        .route("/v1/query", get(info_routes::list_queries))
        .route(
            "/v1/query/{id}",
            get(info_routes::get_query).merge(delete(info_routes::kill_query)),
        )
        .route("/ui/query.html", get(info_routes::query_page))
        .with_state(state)
}
