//! What one client may hold of the server: admission of connections against the total and
//! per-address caps, the idle timer of each connection, and the answers to refused ones.
//!
//! A connection is admitted in one of three ways:
//! - `Full`: served normally, while fewer than `max - reserved` connections are open, and
//!   always for peers on this host (up to `max`);
//! - `Restricted`: a connection from elsewhere that arrives when only the reserve is left is
//!   served only for the health endpoints and internal (node-signed) requests; anything else
//!   is answered 503, and the connection closes after each response;
//! - refused: over `max`, or over the per-address cap, the connection is answered 503 (when few
//!   refusals are in progress) and closed.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, Version, header};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::config::ConnectionLimitsConfig;
use crate::error::RequestError;

/// Seconds a refused client is told to wait (`Retry-After`).
pub(crate) const RETRY_AFTER_SECONDS: u64 = 5;

/// How long a restricted connection gets for its request (and TLS handshake), and may stay
/// idle.
pub(crate) const RESTRICTED_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a refused connection gets for its request (and TLS handshake) before it is closed
/// unanswered: a real client sends its request at once.
pub(crate) const REFUSED_TIMEOUT: Duration = Duration::from_secs(1);

/// Refused connections answered at the same time; beyond this they are closed at once, after a
/// best-effort 503 on plain HTTP.
const MAX_ANSWERING_REFUSALS: usize = crate::config::REFUSALS_ANSWERED_AT_ONCE;

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

/// Whether a peer is this host: the loopback address a local client gets by default
/// (`127.0.0.1`, `::1`), or the very address the connection reached (a process of this host
/// calling its own interface address). Other `127.x.y.z` addresses are taken by a process only
/// on purpose (the multi-node tests give each node one), so they count as other hosts.
pub(crate) fn is_this_host(peer: IpAddr, local: IpAddr) -> bool {
    let peer = peer.to_canonical();
    peer == local.to_canonical()
        || peer == IpAddr::V4(Ipv4Addr::LOCALHOST)
        || peer == IpAddr::V6(Ipv6Addr::LOCALHOST)
}

/// How an accepted connection is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Every request is served.
    Full,
    /// Only health and internal requests are served; the connection closes after a response.
    Restricted,
    /// Over a cap: every request gets 503.
    Refused(Refusal),
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `http-server.max-connections` is reached.
    Total,
    /// `http-server.max-connections-per-address` is reached for the client's address.
    PerAddress,
}

impl Refusal {
    fn message(self) -> &'static str {
        match self {
            Refusal::Total => {
                "Server busy: too many open connections (http-server.max-connections); retry later\n"
            }
            Refusal::PerAddress => {
                "Too many open connections from your address (http-server.max-connections-per-address); close idle connections and retry\n"
            }
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    restricted: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// The open connections of all listeners, against the caps.
#[derive(Debug)]
pub(crate) struct ConnectionLimits {
    max: usize,
    ordinary: usize,
    restricted_max: usize,
    per_address: usize,
    /// Behind a proxy on this host, every client arrives from the host: it is then not
    /// trusted as this host.
    trust_this_host: bool,
    counts: Mutex<Counts>,
    answering_refusals: AtomicUsize,
}

impl ConnectionLimits {
    /// Limits of `max` open connections, from `config`.
    pub(crate) fn new(
        config: &ConnectionLimitsConfig,
        max: usize,
        process_forwarded: bool,
    ) -> Self {
        let reserved = ConnectionLimitsConfig::reserved_connections(max);
        ConnectionLimits {
            max,
            ordinary: max - reserved,
            // Half the reserve at most goes to restricted connections from elsewhere, so that
            // this host always finds room.
            restricted_max: (reserved / 2).max(1),
            per_address: config.max_connections_per_address,
            trust_this_host: !process_forwarded,
            counts: Mutex::new(Counts::default()),
            answering_refusals: AtomicUsize::new(0),
        }
    }

    /// Decides how a new connection from `peer` (reaching `local`) is served; the slot is
    /// released when the returned guard drops. Refused connections take no slot.
    pub(crate) fn admit(
        self: &Arc<Self>,
        peer: IpAddr,
        local: IpAddr,
    ) -> (Admission, Option<ConnectionSlot>) {
        let this_host = self.trust_this_host && is_this_host(peer, local);
        let peer = peer.to_canonical();
        let mut counts = self.counts.lock();
        let admission = if this_host {
            if counts.total < self.max {
                Admission::Full
            } else {
                Admission::Refused(Refusal::Total)
            }
        } else if counts.by_address.get(&peer).copied().unwrap_or(0) >= self.per_address {
            Admission::Refused(Refusal::PerAddress)
        } else if counts.total < self.ordinary {
            Admission::Full
        } else if counts.total < self.max && counts.restricted < self.restricted_max {
            Admission::Restricted
        } else {
            Admission::Refused(Refusal::Total)
        };
        if let Admission::Refused(_) = admission {
            return (admission, None);
        }
        counts.total += 1;
        let restricted = admission == Admission::Restricted;
        if restricted {
            counts.restricted += 1;
        }
        let counted_address = (!this_host).then_some(peer);
        if let Some(address) = counted_address {
            *counts.by_address.entry(address).or_insert(0) += 1;
        }
        (
            admission,
            Some(ConnectionSlot {
                limits: Arc::clone(self),
                address: counted_address,
                restricted,
            }),
        )
    }

    /// Takes a place among the refusals being answered, if one is free.
    pub(crate) fn answer_refusal(self: &Arc<Self>) -> Option<RefusalSlot> {
        let taken = self
            .answering_refusals
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_ANSWERING_REFUSALS).then_some(n + 1)
            })
            .is_ok();
        taken.then(|| RefusalSlot {
            limits: Arc::clone(self),
        })
    }

    /// Open connections (for tests and logs).
    #[cfg(test)]
    pub(crate) fn open(&self) -> usize {
        self.counts.lock().total
    }
}

/// An admitted connection's place; released on drop.
#[derive(Debug)]
pub(crate) struct ConnectionSlot {
    limits: Arc<ConnectionLimits>,
    address: Option<IpAddr>,
    restricted: bool,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut counts = self.limits.counts.lock();
        counts.total = counts.total.saturating_sub(1);
        if self.restricted {
            counts.restricted = counts.restricted.saturating_sub(1);
        }
        if let Some(address) = self.address
            && let Some(n) = counts.by_address.get_mut(&address)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.by_address.remove(&address);
            }
        }
    }
}

/// A refusal being answered; released on drop.
#[derive(Debug)]
pub(crate) struct RefusalSlot {
    limits: Arc<ConnectionLimits>,
}

impl Drop for RefusalSlot {
    fn drop(&mut self) {
        self.limits
            .answering_refusals
            .fetch_sub(1, Ordering::SeqCst);
    }
}

/// The raw answer to a refused plain-HTTP connection that cannot wait for its request.
pub(crate) fn raw_refusal(refusal: Refusal) -> Vec<u8> {
    let body = refusal.message();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: {RETRY_AFTER_SECONDS}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The 503 for a request on a refused or restricted connection; HTTP/1 connections close
/// after it.
pub(crate) fn overloaded_response(version: Version, refusal: Refusal) -> Response<Body> {
    let mut response = Response::new(Body::from(refusal.message()));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    close_after(version, &mut response);
    response
}

/// Asks an HTTP/1 client to close the connection after `response` (HTTP/2 has no such header).
pub(crate) fn close_after(version: Version, response: &mut Response<Body>) {
    if version < Version::HTTP_2 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
}

/// The requests served on a restricted connection besides internal ones: the health
/// endpoints.
pub(crate) fn is_health_request<B>(request: &Request<B>) -> bool {
    (request.method() == Method::GET || request.method() == Method::HEAD)
        && matches!(
            request.uri().path(),
            "/v1/info" | "/v1/info/state" | "/v1/status" | "/v1/info/coordinator"
        )
}

/// A connection's requests in progress and when the last one ended, for its idle timer.
#[derive(Debug)]
pub(crate) struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `started` to the end of the last request.
    last_end_ms: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_end_ms: AtomicU64::new(0),
        })
    }

    /// Marks a request in progress until the guard (kept by its response body) drops.
    pub(crate) fn begin(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        RequestGuard {
            activity: Arc::clone(self),
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// How long no request has been in progress, or `None` while one is.
    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight() > 0 {
            return None;
        }
        let last_end = Duration::from_millis(self.last_end_ms.load(Ordering::SeqCst));
        Some(self.started.elapsed().saturating_sub(last_end))
    }

    /// Completes once no request has been in progress for `limit`.
    pub(crate) async fn idle_timeout(&self, limit: Duration) {
        loop {
            let wait = match self.idle_for() {
                Some(idle) if idle >= limit => return,
                Some(idle) => limit - idle,
                // A request is running: look again soon after it may have ended.
                None => (limit / 4).clamp(Duration::from_millis(100), Duration::from_secs(1)),
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// One request in progress on a connection.
#[derive(Debug)]
pub(crate) struct RequestGuard {
    activity: Arc<Activity>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let now = u64::try_from(self.activity.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.activity.last_end_ms.store(now, Ordering::SeqCst);
        self.activity.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted as in progress until it is sent.
pub(crate) struct TrackedBody {
    inner: Body,
    _guard: RequestGuard,
}

impl TrackedBody {
    pub(crate) fn wrap(response: Response<Body>, guard: RequestGuard) -> Response<Body> {
        response.map(|inner| {
            Body::new(TrackedBody {
                inner,
                _guard: guard,
            })
        })
    }
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Reads a request body of at most `limit` bytes within `timeout`: 413 when it is larger
/// (at once when its declared length is), 408 when the client sends it too slowly.
pub(crate) async fn read_body(
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, RequestError> {
    let too_large = || {
        RequestError::PayloadTooLarge(format!(
            "Request body too large: the limit is {} (http-server.max-request-body-size)",
            vivace_common::properties::format_data_size(limit as u64)
        ))
    };
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    let read = async {
        let mut stream = body.into_data_stream();
        let mut buffer = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                RequestError::BadRequest(format!("Cannot read the request body: {e}"))
            })?;
            if buffer.len() + chunk.len() > limit {
                return Err(too_large());
            }
            buffer.extend_from_slice(&chunk);
        }
        Ok(buffer.freeze())
    };
    tokio::time::timeout(timeout, read).await.map_err(|_| {
        RequestError::RequestTimeout(format!(
            "Request body not received within {} (http-server.body-read-timeout)",
            vivace_common::properties::format_duration(timeout)
        ))
    })?
}

/// The soft limit on open files of this process (`ulimit -n`), when it can be read.
pub(crate) fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files_limit(&limits)
}

fn parse_open_files_limit(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    fn limits(max: usize, per_address: usize) -> Arc<ConnectionLimits> {
        let config = ConnectionLimitsConfig {
            max_connections_per_address: per_address,
            ..ConnectionLimitsConfig::default()
        };
        Arc::new(ConnectionLimits::new(&config, max, false))
    }

    #[test]
    fn this_host_is_the_loopback_default_or_the_address_reached() {
        let server = ip("127.0.0.1");
        assert!(is_this_host(ip("127.0.0.1"), server));
        assert!(is_this_host(ip("::1"), ip("::1")));
        assert!(is_this_host(ip("::ffff:127.0.0.1"), ip("127.0.0.7")));
        assert!(is_this_host(ip("10.1.2.3"), ip("10.1.2.3")));
        assert!(!is_this_host(ip("127.0.0.2"), server));
        assert!(!is_this_host(ip("10.1.2.4"), ip("10.1.2.3")));
    }

    #[test]
    fn ordinary_clients_leave_the_reserve_to_this_host_and_health_checks() {
        let limits = limits(20, 100);
        let server = ip("127.0.0.1");
        let mut held = Vec::new();
        // 20 connections, 2 reserved: 18 ordinary ones are served fully.
        for i in 0..18 {
            let (admission, slot) = limits.admit(ip(&format!("10.0.0.{}", i + 1)), server);
            assert_eq!(admission, Admission::Full);
            held.extend(slot);
        }
        // The reserve: one restricted connection from elsewhere (half the reserve), then
        // refusals; this host still gets in.
        let (admission, slot) = limits.admit(ip("10.0.1.1"), server);
        assert_eq!(admission, Admission::Restricted);
        held.extend(slot);
        let (admission, slot) = limits.admit(ip("10.0.1.2"), server);
        assert_eq!(admission, Admission::Refused(Refusal::Total));
        assert!(slot.is_none());
        let (admission, slot) = limits.admit(ip("127.0.0.1"), server);
        assert_eq!(admission, Admission::Full);
        held.extend(slot);
        // Full now, even for this host.
        let (admission, _) = limits.admit(ip("127.0.0.1"), server);
        assert_eq!(admission, Admission::Refused(Refusal::Total));
        assert_eq!(limits.open(), 20);
        held.clear();
        assert_eq!(limits.open(), 0);
        assert!(limits.counts.lock().by_address.is_empty());
        assert_eq!(limits.counts.lock().restricted, 0);
    }

    #[test]
    fn one_address_is_capped_but_not_this_host() {
        let limits = limits(100, 3);
        let server = ip("127.0.0.1");
        let held: Vec<_> = (0..3)
            .filter_map(|_| limits.admit(ip("127.0.0.2"), server).1)
            .collect();
        assert_eq!(held.len(), 3);
        assert_eq!(
            limits.admit(ip("127.0.0.2"), server).0,
            Admission::Refused(Refusal::PerAddress)
        );
        assert_eq!(limits.admit(ip("127.0.0.3"), server).0, Admission::Full);
        let local: Vec<_> = (0..5)
            .filter_map(|_| limits.admit(ip("127.0.0.1"), server).1)
            .collect();
        assert_eq!(local.len(), 5);
        drop(held);
        assert_eq!(limits.admit(ip("127.0.0.2"), server).0, Admission::Full);
    }

    #[test]
    fn behind_a_proxy_this_host_is_an_ordinary_client() {
        let config = ConnectionLimitsConfig {
            max_connections_per_address: 2,
            ..ConnectionLimitsConfig::default()
        };
        let limits = Arc::new(ConnectionLimits::new(&config, 100, true));
        let server = ip("127.0.0.1");
        let held: Vec<_> = (0..2)
            .filter_map(|_| limits.admit(ip("127.0.0.1"), server).1)
            .collect();
        assert_eq!(held.len(), 2);
        assert_eq!(
            limits.admit(ip("127.0.0.1"), server).0,
            Admission::Refused(Refusal::PerAddress)
        );
    }

    #[test]
    fn refusals_answered_at_once_are_bounded() {
        let limits = limits(10, 10);
        let slots: Vec<_> = (0..MAX_ANSWERING_REFUSALS + 5)
            .filter_map(|_| limits.answer_refusal())
            .collect();
        assert_eq!(slots.len(), MAX_ANSWERING_REFUSALS);
        drop(slots);
        assert!(limits.answer_refusal().is_some());
    }

    #[test]
    fn the_raw_refusal_is_a_complete_503() {
        let text = String::from_utf8(raw_refusal(Refusal::Total)).unwrap_or_default();
        assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(text.contains("\r\nRetry-After: 5\r\n"));
        assert!(text.contains("\r\nConnection: close\r\n"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }

    #[tokio::test]
    async fn idle_time_counts_only_without_requests_in_progress() {
        let activity = Activity::new();
        let guard = activity.begin();
        let limit = Duration::from_millis(100);
        // Three idle limits pass with a request in progress: the connection stays open.
        let timer = tokio::time::timeout(limit * 3, activity.idle_timeout(limit));
        assert!(
            timer.await.is_err(),
            "closed while a request was in progress"
        );
        drop(guard);
        let started = Instant::now();
        activity.idle_timeout(limit).await;
        assert!(started.elapsed() >= limit);
    }

    #[test]
    fn open_files_limit_is_the_soft_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63704                63704                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files_limit(limits), Some(1024));
        assert_eq!(
            parse_open_files_limit("Max open files unlimited unlimited files"),
            None
        );
    }
}
