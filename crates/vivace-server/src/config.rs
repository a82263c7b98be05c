//! HTTP and HTTPS settings from `config.properties`.

use std::path::PathBuf;
use std::time::Duration;

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
        Ok(())
    }
}
