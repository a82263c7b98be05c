//! The HTTP server: routes, shared state, the abandoned-query reaper and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use hyper_util::server::graceful::GracefulConnection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_util::either::Either;
use tower_service::Service;
use tracing::{debug, info, warn};
use vivace_cluster::Membership;
use vivace_cluster::distributed::NodeWorker;

use vivace_engine::QueryService;
use vivace_security::tls::{self, ReloadingCertificate};
use vivace_security::{Authentication, SecurityError};

use crate::config::ServerConfig;
use crate::connections::ConnectionInfo;
use crate::connections::{
    Activity, Admission, ConnectionLimits, REFUSED_TIMEOUT, RESTRICTED_TIMEOUT, Refusal,
    TrackedBody, close_after, is_health_request, open_files_limit, overloaded_response,
    raw_refusal,
};
use crate::routes::router;
use crate::state::AppState;

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
    /// The HTTPS certificate could not be loaded.
    #[error(transparent)]
    Tls(#[from] SecurityError),
}

/// One listening socket; TLS when it has an acceptor.
struct Listener {
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
}

/// A bound HTTP(S) server, ready to run.
pub struct Server {
    listeners: Vec<Listener>,
    certificate: Option<(Arc<ReloadingCertificate>, Duration)>,
    state: Arc<AppState>,
    limits: Arc<ConnectionLimits>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addresses", &self.local_addrs())
            .finish()
    }
}

async fn bind(address: String) -> Result<TcpListener, ServerError> {
    TcpListener::bind(&address)
        .await
        .map_err(|e| ServerError::Bind {
            address,
            reason: e.to_string(),
        })
}

impl Server {
    /// Binds the configured HTTP and HTTPS addresses and loads the certificate.
    pub async fn bind(
        config: ServerConfig,
        service: Arc<dyn QueryService>,
        authentication: Arc<Authentication>,
        membership: Option<Arc<Membership>>,
        worker: Option<NodeWorker>,
    ) -> Result<Self, ServerError> {
        let mut listeners = Vec::new();
        let mut certificate = None;
        if config.http_enabled {
            let tcp = bind(format!("{}:{}", config.bind_address, config.http_port)).await?;
            listeners.push(Listener { tcp, tls: None });
        }
        if let Some(https) = &config.https {
            let reloading = Arc::new(ReloadingCertificate::load(
                https.keystore_path.clone(),
                https.keystore_key.clone(),
            )?);
            let tls = tls::server_config(Arc::clone(&reloading))?;
            let tcp = bind(format!("{}:{}", config.bind_address, https.port)).await?;
            listeners.push(Listener {
                tcp,
                tls: Some(TlsAcceptor::from(Arc::new(tls))),
            });
            certificate = Some((reloading, https.refresh_period));
        }
        let open_files = open_files_limit();
        let max_connections = config.limits.effective_max_connections(open_files);
        if let (Some(configured), Some(open_files)) = (config.limits.max_connections, open_files)
            && configured as u64 + 64 > open_files
        {
            warn!(
                "http-server.max-connections={configured} leaves little room under the open-file limit ({open_files}); raise ulimit -n or lower it"
            );
        }
        info!(
            max_connections,
            reserved = crate::config::ConnectionLimitsConfig::reserved_connections(max_connections),
            max_connections_per_address = config.limits.max_connections_per_address,
            open_files_limit = open_files.map(|n| n.to_string()).unwrap_or_else(|| "unknown".to_string()),
            max_idle_time = %vivace_common::properties::format_duration(config.limits.max_idle_time),
            "connection limits"
        );
        let limits = Arc::new(ConnectionLimits::new(
            &config.limits,
            max_connections,
            config.process_forwarded,
        ));
        Ok(Server {
            listeners,
            certificate,
            limits,
            state: Arc::new(AppState::new(
                config,
                service,
                authentication,
                membership,
                worker,
            )),
        })
    }

    /// The bound addresses, each with whether it is HTTPS.
    pub fn local_addrs(&self) -> Vec<(SocketAddr, bool)> {
        self.listeners
            .iter()
            .filter_map(|l| l.tcp.local_addr().ok().map(|a| (a, l.tls.is_some())))
            .collect()
    }

    /// The first bound address.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addrs().first().map(|(a, _)| *a)
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
        let mut background = Vec::new();
        let reaper_state = Arc::clone(&state);
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                reaper_state.reap();
            }
        }));
        if let Some((certificate, period)) = &self.certificate {
            background.push(certificate.spawn_watcher(*period));
        }
        let (closing, closing_receiver) = watch::channel(false);
        let serving = Arc::new(Serving {
            state: Arc::clone(&state),
            router,
            limits: self.limits,
            closing: closing_receiver,
        });
        let accept_loops: Vec<_> = self
            .listeners
            .into_iter()
            .map(|listener| tokio::spawn(accept_loop(listener, Arc::clone(&serving))))
            .collect();
        drop(serving);

        tokio::select! {
            () = shutdown => {}
            () = state.shutdown_requested.notified() => {}
        }
        info!("shutting down: refusing new queries and tasks, waiting for running ones");
        state.shutting_down.store(true, Ordering::SeqCst);
        state.service.begin_shutdown();
        let started = Instant::now();
        let grace = state.config.shutdown_grace_period;
        // A worker keeps serving while the coordinator learns it is draining, since a query
        // planned just before may still send it tasks.
        let settle = if state.service.node().coordinator {
            Duration::ZERO
        } else {
            WORKER_SETTLE_TIME.min(grace)
        };
        while started.elapsed() < grace
            && (started.elapsed() < settle
                || state.has_undelivered_queries()
                || state.tasks_running())
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for task in background.iter().chain(&accept_loops) {
            task.abort();
        }
        for task in accept_loops {
            let _ = task.await;
        }
        // Connections still open are asked to close; idle keep-alive ones close at once.
        let _ = closing.send(true);
        if tokio::time::timeout(CONNECTION_CLOSE_TIMEOUT, closing.closed())
            .await
            .is_err()
        {
            warn!("some connections did not close in time");
        }
        info!("shutdown complete");
        Ok(())
    }
}

/// How long a draining worker waits for the coordinator to stop sending it tasks.
const WORKER_SETTLE_TIME: Duration = Duration::from_secs(3);

/// How long open connections get to finish after the drain.
const CONNECTION_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often idle HTTP/2 connections are pinged.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(60);

/// How long an HTTP/2 peer gets to answer a ping before the connection is closed.
const HTTP2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// How long an idle connection asked to close may take before its socket is dropped.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How long accepting pauses after an error (out of file descriptors and the like).
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// What the accept loops and connections share.
struct Serving {
    state: Arc<AppState>,
    router: Router,
    limits: Arc<ConnectionLimits>,
    /// Turns true when the server stops: connections are asked to close. The server waits
    /// until every receiver is dropped.
    closing: watch::Receiver<bool>,
}

impl Serving {
    /// Whether a request on a restricted connection is served: the health endpoints, and
    /// requests signed by another node.
    fn served_when_restricted(&self, request: &hyper::Request<Incoming>) -> bool {
        is_health_request(request)
            || matches!(
                self.state
                    .authentication
                    .authenticate_internal(request.headers()),
                Ok(Some(_))
            )
    }
}

/// Accepts connections until aborted, serving each on its own task.
async fn accept_loop(listener: Listener, serving: Arc<Serving>) {
    let listening = listener
        .tcp
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    loop {
        let (stream, remote) = match listener.tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                crate::log_limit::warn_limited!("accepting connections on {listening} failed: {e}");
                tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                continue;
            }
        };
        let local = stream.local_addr().map_or(remote.ip(), |a| a.ip());
        let (admission, slot) = serving.limits.admit(remote.ip(), local);
        if let Admission::Refused(refusal) = admission {
            match refusal {
                Refusal::Total => crate::log_limit::warn_limited!(
                    "refusing new connections: http-server.max-connections is reached"
                ),
                Refusal::PerAddress => crate::log_limit::warn_limited!(
                    "refusing new connections from {}: http-server.max-connections-per-address is reached",
                    remote.ip()
                ),
            }
            match serving.limits.answer_refusal() {
                Some(answering) => {
                    let (tls, serving) = (listener.tls.clone(), Arc::clone(&serving));
                    tokio::spawn(async move {
                        let _answering = answering;
                        serve_connection(stream, remote, local, tls, admission, serving).await;
                    });
                }
                None => {
                    // Too many refusals in progress: a best-effort answer on plain HTTP, and
                    // the socket closes at once.
                    if listener.tls.is_none() {
                        let _ = stream.try_write(&raw_refusal(refusal));
                    }
                }
            }
            continue;
        }
        let _ = stream.set_nodelay(true);
        let (tls, serving) = (listener.tls.clone(), Arc::clone(&serving));
        tokio::spawn(async move {
            let _slot = slot;
            serve_connection(stream, remote, local, tls, admission, serving).await;
        });
    }
}

/// Serves one connection as admitted: the TLS handshake, then HTTP/1 or HTTP/2 until the
/// client closes it, it stays idle too long, or the server stops.
async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    local: IpAddr,
    tls: Option<TlsAcceptor>,
    admission: Admission,
    serving: Arc<Serving>,
) {
    let limits = &serving.state.config.limits;
    let restricted = admission != Admission::Full;
    let short = match admission {
        Admission::Full => None,
        Admission::Restricted => Some(RESTRICTED_TIMEOUT),
        Admission::Refused(_) => Some(REFUSED_TIMEOUT),
    };
    let (first_bytes_timeout, idle_limit) = match short {
        Some(short) => (
            limits.header_read_timeout.min(short),
            limits.max_idle_time.min(short),
        ),
        None => (limits.header_read_timeout, limits.max_idle_time),
    };
    let connection = ConnectionInfo {
        remote,
        local,
        tls: tls.is_some(),
    };
    let activity = Activity::new();
    let service = {
        let (activity, serving) = (Arc::clone(&activity), Arc::clone(&serving));
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(connection);
            let guard = activity.begin();
            let version = request.version();
            let refusal = match admission {
                Admission::Full => None,
                Admission::Restricted => {
                    (!serving.served_when_restricted(&request)).then_some(Refusal::Total)
                }
                Admission::Refused(refusal) => Some(refusal),
            };
            let mut router = serving.router.clone();
            async move {
                if let Some(refusal) = refusal {
                    let response = overloaded_response(version, refusal);
                    return Ok::<_, Infallible>(TrackedBody::wrap(response, guard));
                }
                let Ok(mut response) = router.call(request.map(Body::new)).await;
                if restricted {
                    close_after(version, &mut response);
                }
                Ok(TrackedBody::wrap(response, guard))
            }
        })
    };
    let mut builder = ConnectionBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(first_bytes_timeout)
        .max_buf_size(limits.max_request_header_size);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(HTTP2_KEEP_ALIVE))
        .keep_alive_timeout(HTTP2_KEEP_ALIVE_TIMEOUT)
        .max_concurrent_streams(limits.http2_max_concurrent_streams)
        .max_header_list_size(u32::try_from(limits.max_request_header_size).unwrap_or(u32::MAX))
        .adaptive_window(true);
    let closing = serving.closing.clone();
    let stream = match tls {
        None => Either::Left(stream),
        Some(acceptor) => {
            match tokio::time::timeout(first_bytes_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => Either::Right(stream),
                Ok(Err(e)) => {
                    debug!(%remote, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    debug!(%remote, "TLS handshake timed out");
                    return;
                }
            }
        }
    };
    let result = drive(
        builder.serve_connection(TokioIo::new(stream), service),
        &activity,
        idle_limit,
        closing,
    )
    .await;
    if let Err(e) = result {
        debug!(%remote, "connection ended with an error: {e}");
    }
}

/// Runs a connection to its end. Once no request has been in progress for `idle_limit`
/// (before the first request, between requests, during a slow request head), it is asked to
/// close, and dropped if it has not within [`IDLE_CLOSE_GRACE`]; when the server stops, it
/// is asked to close after its running requests.
async fn drive<C: GracefulConnection>(
    connection: C,
    activity: &Activity,
    idle_limit: Duration,
    mut closing: watch::Receiver<bool>,
) -> Result<(), C::Error> {
    tokio::pin!(connection);
    let idle = activity.idle_timeout(idle_limit);
    tokio::pin!(idle);
    let mut asked_to_close = false;
    if *closing.borrow_and_update() {
        connection.as_mut().graceful_shutdown();
        asked_to_close = true;
    }
    let mut force_close: Option<Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        tokio::select! {
            result = connection.as_mut() => return result,
            () = &mut idle, if !asked_to_close => {
                connection.as_mut().graceful_shutdown();
                asked_to_close = true;
                force_close = Some(Box::pin(tokio::time::sleep(IDLE_CLOSE_GRACE)));
            }
            _ = closing.changed(), if !asked_to_close => {
                connection.as_mut().graceful_shutdown();
                asked_to_close = true;
            }
            () = async {
                match force_close.as_mut() {
                    Some(sleep) => sleep.await,
                    None => std::future::pending().await,
                }
            }, if force_close.is_some() => {
                if activity.in_flight() == 0 {
                    return Ok(());
                }
                // A request started after all: it finishes, then the connection closes.
                force_close = None;
            }
        }
    }
}
