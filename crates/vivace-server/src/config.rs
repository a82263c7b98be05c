//! HTTP and HTTPS settings from `config.properties`.

use std::path::PathBuf;
use std::time::Duration;

use vivace_common::properties::{parse_data_size, parse_duration};
use vivace_common::{PropertiesError, PropertyMap};

/// `http-server.http.port` when unset.
pub const DEFAULT_HTTP_PORT: u16 = 8080;
/// `http-server.https.port` when unset.
pub const DEFAULT_HTTPS_PORT: u16 = 8443;

/// The HTTPS listener's settings.
#[derive(Clone)]
pub struct HttpsConfig {
    /// `http-server.https.port` (default 8443).
    pub port: u16,
    /// `http-server.https.keystore.path`: a PEM file (certificate chain and key) or PKCS#12.
    pub keystore_path: PathBuf,
    /// `http-server.https.keystore.key`: the PKCS#12 password.
    pub keystore_key: Option<String>,
    /// `http-server.https.ssl-context.refresh-time`: how often the keystore is checked for
    /// changes (default 1m).
    pub refresh_period: Duration,
}

impl std::fmt::Debug for HttpsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsConfig")
            .field("port", &self.port)
            .field("keystore_path", &self.keystore_path)
            .field("keystore_key", &self.keystore_key.as_ref().map(|_| "***"))
            .field("refresh_period", &self.refresh_period)
            .finish()
    }
}

/// The server's settings, validated at startup.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `http-server.http.enabled` (default true).
    pub http_enabled: bool,
    /// `http-server.http.port`.
    pub http_port: u16,
    /// HTTPS, when `http-server.https.enabled=true`.
    pub https: Option<HttpsConfig>,
    /// The address to bind (`http-server.http.bind-address`, default all interfaces).
    pub bind_address: String,
    /// `http-server.process-forwarded`: trust `X-Forwarded-*` headers when building URIs and
    /// deciding whether a request came over HTTPS.
    pub process_forwarded: bool,
    /// `query.client.timeout`: a query whose client stops polling this long is abandoned.
    pub client_timeout: Duration,
    /// `shutdown.grace-period`: how long running queries may take to finish at shutdown.
    pub shutdown_grace_period: Duration,
    /// `protocol.max-page-size`: about how many bytes of rows one page carries.
    pub target_page_bytes: usize,
    /// Connection and request limits.
    pub limits: ConnectionLimitsConfig,
    /// `http-server.max-statements-per-second-per-user` (100): statements one user may submit
    /// per second (and at once); more get 429 with `Retry-After`.
    pub max_statements_per_second_per_user: u32,
}

/// What one client may hold of the server: connections, idle time, request sizes and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimitsConfig {
    /// `http-server.net.max-idle-time` (60s): a connection with no request in progress for
    /// this long is closed, before its first request and between requests, plain or TLS.
    pub max_idle_time: Duration,
    /// `http-server.header-read-timeout` (10s): how long a client gets for the TLS handshake,
    /// and then for each request's headers once it starts sending them.
    pub header_read_timeout: Duration,
    /// `http-server.body-read-timeout` (30s): how long a client gets to send a request body
    /// the server reads (a statement's text, an announcement); slower clients get 408.
    pub body_read_timeout: Duration,
    /// `http-server.max-request-body-size` (4MB): larger request bodies get 413 (a statement
    /// of Trino's `query.max-length`, 1,000,000 characters, fits in UTF-8).
    pub max_request_body_size: usize,
    /// `http-server.max-request-header-size` (256kB): larger request headers get 431 (HTTP/1)
    /// or a stream reset (HTTP/2).
    pub max_request_header_size: usize,
    /// `http-server.max-connections`: open connections over all listeners. `None` derives it
    /// from the file-descriptor limit (see [`ConnectionLimitsConfig::effective_max_connections`]).
    pub max_connections: Option<usize>,
    /// `http-server.max-connections-per-address` (100): open connections from one client
    /// address (connections from this host are not counted against it).
    pub max_connections_per_address: usize,
    /// `http-server.http2.max-concurrent-streams` (4096): streams per HTTP/2 connection (task
    /// traffic between nodes runs one stream per partition of each stage).
    pub http2_max_concurrent_streams: u32,
}

/// The most connections the server holds by default, whatever the file-descriptor limit.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1000;

/// Refused connections answered at the same time (each holds a file descriptor until its
/// request is answered); beyond this they are closed at once, after a best-effort 503.
pub const REFUSALS_ANSWERED_AT_ONCE: usize = 32;

/// The smallest `http-server.max-request-header-size` (the HTTP/1 reader needs 8kB).
const MIN_HEADER_SIZE: usize = 8 * 1024;

impl Default for ConnectionLimitsConfig {
    fn default() -> Self {
        ConnectionLimitsConfig {
            max_idle_time: Duration::from_secs(60),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_request_body_size: 4 << 20,
            max_request_header_size: 256 << 10,
            max_connections: None,
            max_connections_per_address: 100,
            http2_max_concurrent_streams: 4096,
        }
    }
}

impl ConnectionLimitsConfig {
    /// `http-server.max-connections` when set, else [`DEFAULT_MAX_CONNECTIONS`] lowered to what
    /// `open_files` (the soft `RLIMIT_NOFILE`, when known) leaves after a quarter of it (at
    /// least 64) for everything else the process opens (data files, connections to other nodes
    /// and authentication services) and [`REFUSALS_ANSWERED_AT_ONCE`] for refused connections
    /// being answered.
    pub fn effective_max_connections(&self, open_files: Option<u64>) -> usize {
        if let Some(max) = self.max_connections {
            return max;
        }
        match open_files {
            Some(limit) => {
                let headroom = (limit / 4).max(64) + REFUSALS_ANSWERED_AT_ONCE as u64;
                let usable = usize::try_from(limit.saturating_sub(headroom)).unwrap_or(usize::MAX);
                usable.clamp(2, DEFAULT_MAX_CONNECTIONS)
            }
            None => DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// Connections the ordinary clients may not take, kept for this host, the health endpoints
    /// and internal requests: a tenth of `max_connections`, at least 1.
    pub fn reserved_connections(max_connections: usize) -> usize {
        (max_connections / 10)
            .max(1)
            .min(max_connections.saturating_sub(1))
    }

    fn take_properties(&mut self, props: &mut PropertyMap) -> Result<(), PropertiesError> {
        let positive = |value: &str| {
            let duration = parse_duration(value)?;
            if duration.is_zero() {
                Err(format!("invalid value '{value}': must be greater than 0s"))
            } else {
                Ok(duration)
            }
        };
        if let Some(v) = props.take_with("http-server.net.max-idle-time", positive)? {
            self.max_idle_time = v;
        }
        if let Some(v) = props.take_with("http-server.header-read-timeout", positive)? {
            self.header_read_timeout = v;
        }
        if let Some(v) = props.take_with("http-server.body-read-timeout", positive)? {
            self.body_read_timeout = v;
        }
        let size_at_least = |minimum: usize| {
            move |value: &str| {
                let bytes = usize::try_from(parse_data_size(value)?).unwrap_or(usize::MAX);
                if bytes < minimum {
                    Err(format!(
                        "invalid value '{value}': must be at least {}",
                        vivace_common::properties::format_data_size(minimum as u64)
                    ))
                } else {
                    Ok(bytes)
                }
            }
        };
        if let Some(v) =
            props.take_with("http-server.max-request-body-size", size_at_least(1024))?
        {
            self.max_request_body_size = v;
        }
        if let Some(v) = props.take_with(
            "http-server.max-request-header-size",
            size_at_least(MIN_HEADER_SIZE),
        )? {
            self.max_request_header_size = v.min(u32::MAX as usize);
        }
        let count_at_least = |minimum: usize| {
            move |value: &str| match value.trim().parse::<usize>() {
                Ok(n) if n >= minimum => Ok(n),
                _ => Err(format!(
                    "invalid value '{value}': expected a whole number of at least {minimum}"
                )),
            }
        };
        if let Some(v) = props.take_with("http-server.max-connections", count_at_least(2))? {
            self.max_connections = Some(v);
        }
        if let Some(v) =
            props.take_with("http-server.max-connections-per-address", count_at_least(1))?
        {
            self.max_connections_per_address = v;
        }
        if let Some(v) = props.take_with(
            "http-server.http2.max-concurrent-streams",
            count_at_least(1),
        )? {
            self.http2_max_concurrent_streams = u32::try_from(v).unwrap_or(u32::MAX);
        }
        Ok(())
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            http_enabled: true,
            http_port: DEFAULT_HTTP_PORT,
            https: None,
            bind_address: "0.0.0.0".to_string(),
            process_forwarded: false,
            client_timeout: Duration::from_secs(300),
            shutdown_grace_period: Duration::from_secs(120),
            target_page_bytes: 4 << 20,
            limits: ConnectionLimitsConfig::default(),
            max_statements_per_second_per_user: 100,
        }
    }
}

impl ServerConfig {
    /// Takes the server's keys from `config.properties`.
    pub fn take_properties(&mut self, props: &mut PropertyMap) -> Result<(), PropertiesError> {
        if let Some(v) = props.take_bool("http-server.http.enabled")? {
            self.http_enabled = v;
        }
        if let Some(v) = props.take_parsed("http-server.http.port")? {
            self.http_port = v;
        }
        let https_enabled = props
            .take_bool("http-server.https.enabled")?
            .unwrap_or(false);
        let https_port = props
            .take_parsed("http-server.https.port")?
            .unwrap_or(DEFAULT_HTTPS_PORT);
        let keystore_path = props.take_string("http-server.https.keystore.path");
        let keystore_key = props.take_string("http-server.https.keystore.key");
        let refresh_period = props
            .take_duration("http-server.https.ssl-context.refresh-time")?
            .unwrap_or(Duration::from_secs(60));
        if https_enabled {
            let keystore_path = keystore_path.ok_or_else(|| PropertiesError::Missing {
                source_name: format!("{} (http-server.https.enabled=true)", props.source_name()),
                key: "http-server.https.keystore.path".to_string(),
            })?;
            self.https = Some(HttpsConfig {
                port: https_port,
                keystore_path: PathBuf::from(keystore_path),
                keystore_key,
                refresh_period,
            });
        }
        if !self.http_enabled && self.https.is_none() {
            return Err(PropertiesError::Invalid {
                location: props.source_name().to_string(),
                message: "both HTTP and HTTPS are disabled; enable http-server.http.enabled or http-server.https.enabled".to_string(),
            });
        }
        if let Some(v) = props.take_string("http-server.http.bind-address") {
            self.bind_address = v;
        }
        if let Some(v) = props.take_bool("http-server.process-forwarded")? {
            self.process_forwarded = v;
        }
        if let Some(v) = props.take_duration("query.client.timeout")? {
            self.client_timeout = v;
        }
        if let Some(v) = props.take_duration("shutdown.grace-period")? {
            self.shutdown_grace_period = v;
        }
        if let Some(v) = props.take_data_size("protocol.max-page-size")? {
            self.target_page_bytes = usize::try_from(v).unwrap_or(usize::MAX).max(1024);
        }
        if let Some(v) = props.take_with(
            "http-server.max-statements-per-second-per-user",
            |value| match value.trim().parse::<u32>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!(
                    "invalid value '{value}': expected a whole number of at least 1"
                )),
            },
        )? {
            self.max_statements_per_second_per_user = v;
        }
        self.limits.take_properties(props)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &str) -> Result<ServerConfig, PropertiesError> {
        let mut props =
            PropertyMap::parse(std::path::Path::new("config.properties"), lines, &|_| None)?;
        let mut config = ServerConfig::default();
        config.take_properties(&mut props)?;
        props.finish()?;
        Ok(config)
    }

    #[test]
    fn connection_limits_have_defaults() {
        let limits = parse("").expect("empty config").limits;
        assert_eq!(limits, ConnectionLimitsConfig::default());
        assert_eq!(limits.max_idle_time, Duration::from_secs(60));
        assert_eq!(limits.header_read_timeout, Duration::from_secs(10));
        assert_eq!(limits.body_read_timeout, Duration::from_secs(30));
        assert_eq!(limits.max_request_body_size, 4 << 20);
        assert_eq!(limits.max_request_header_size, 256 << 10);
        assert_eq!(limits.max_connections, None);
        assert_eq!(limits.max_connections_per_address, 100);
        assert_eq!(limits.http2_max_concurrent_streams, 4096);
    }

    #[test]
    fn connection_limits_are_read() {
        let limits = parse(
            "http-server.net.max-idle-time=2s\n\
             http-server.header-read-timeout=1500ms\n\
             http-server.body-read-timeout=3s\n\
             http-server.max-request-body-size=1MB\n\
             http-server.max-request-header-size=64kB\n\
             http-server.max-connections=200\n\
             http-server.max-connections-per-address=7\n\
             http-server.http2.max-concurrent-streams=128\n",
        )
        .expect("valid limits")
        .limits;
        assert_eq!(limits.max_idle_time, Duration::from_secs(2));
        assert_eq!(limits.header_read_timeout, Duration::from_millis(1500));
        assert_eq!(limits.body_read_timeout, Duration::from_secs(3));
        assert_eq!(limits.max_request_body_size, 1 << 20);
        assert_eq!(limits.max_request_header_size, 64 << 10);
        assert_eq!(limits.max_connections, Some(200));
        assert_eq!(limits.effective_max_connections(Some(100)), 200);
        assert_eq!(limits.max_connections_per_address, 7);
        assert_eq!(limits.http2_max_concurrent_streams, 128);
    }

    #[test]
    fn bad_connection_limits_name_the_key() {
        for (line, key) in [
            (
                "http-server.net.max-idle-time=0s",
                "http-server.net.max-idle-time",
            ),
            (
                "http-server.header-read-timeout=soon",
                "http-server.header-read-timeout",
            ),
            (
                "http-server.body-read-timeout=0ms",
                "http-server.body-read-timeout",
            ),
            (
                "http-server.max-request-body-size=10B",
                "http-server.max-request-body-size",
            ),
            (
                "http-server.max-request-header-size=4kB",
                "http-server.max-request-header-size",
            ),
            (
                "http-server.max-connections=1",
                "http-server.max-connections",
            ),
            (
                "http-server.max-connections=-5",
                "http-server.max-connections",
            ),
            (
                "http-server.max-connections-per-address=0",
                "http-server.max-connections-per-address",
            ),
            (
                "http-server.http2.max-concurrent-streams=0",
                "http-server.http2.max-concurrent-streams",
            ),
        ] {
            let error = parse(line).expect_err(line).to_string();
            assert!(error.contains(key), "{line}: {error}");
            assert!(error.contains("config.properties:1"), "{line}: {error}");
        }
        let unknown = parse("http-server.max-idle-connections=3").expect_err("unknown key");
        assert!(
            unknown
                .to_string()
                .contains("http-server.max-idle-connections")
        );
    }

    #[test]
    fn max_connections_follow_the_open_file_limit() {
        let limits = ConnectionLimitsConfig::default();
        assert_eq!(
            limits.effective_max_connections(None),
            DEFAULT_MAX_CONNECTIONS
        );
        assert_eq!(
            limits.effective_max_connections(Some(1_048_576)),
            DEFAULT_MAX_CONNECTIONS
        );
        // A quarter (at least 64) stays for the rest of the process, and 32 for refusals.
        assert_eq!(limits.effective_max_connections(Some(1024)), 736);
        assert_eq!(limits.effective_max_connections(Some(256)), 160);
        assert_eq!(limits.effective_max_connections(Some(100)), 4);
        assert_eq!(limits.effective_max_connections(Some(10)), 2);
        assert_eq!(ConnectionLimitsConfig::reserved_connections(1000), 100);
        assert_eq!(ConnectionLimitsConfig::reserved_connections(12), 1);
        assert_eq!(ConnectionLimitsConfig::reserved_connections(2), 1);
    }
}
