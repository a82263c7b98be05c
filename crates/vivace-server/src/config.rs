//! HTTP settings from `config.properties`.

use std::time::Duration;

use vivace_common::{PropertiesError, PropertyMap};

/// The server's settings, validated at startup.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `http-server.http.port`.
    pub http_port: u16,
    /// The address to bind (`http-server.http.bind-address`, default all interfaces).
    pub bind_address: String,
    /// `http-server.process-forwarded`: trust `X-Forwarded-*` headers when building URIs.
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
            http_port: 8080,
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
        if let Some(v) = props.take_parsed("http-server.http.port")? {
            self.http_port = v;
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
