//! How to reach a server: its URL, TLS and credentials.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::ClientError;

/// Credentials sent with every request.
#[derive(Debug, Clone, Default)]
pub enum Credentials {
    /// None: the user header alone (plain HTTP, or a server without authentication).
    #[default]
    None,
    /// HTTP Basic, for PASSWORD authentication.
    Password {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// `Authorization: Bearer`, for JWT authentication.
    AccessToken(String),
}

/// TLS settings for `https://` servers.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Skip certificate and host name verification.
    pub insecure: bool,
    /// A PEM file of CA certificates to trust, besides the system's.
    pub truststore_path: Option<PathBuf>,
    /// A PEM file with a client certificate chain and its private key.
    pub keystore_path: Option<PathBuf>,
}

/// Connection options of a [`crate::Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The server's base URL, such as `https://coordinator:8443`.
    pub server: String,
    /// TLS settings.
    pub tls: TlsOptions,
    /// Credentials.
    pub credentials: Credentials,
    /// The longest wait for one HTTP response.
    pub request_timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl ClientOptions {
    /// Options for `server` with no TLS settings and no credentials.
    pub fn new(server: &str) -> Self {
        ClientOptions {
            server: server.to_string(),
            tls: TlsOptions::default(),
            credentials: Credentials::None,
            request_timeout: Duration::from_secs(300),
            user_agent: format!("vivace-client/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The HTTP client these options describe.
    pub(crate) fn http_client(&self) -> Result<reqwest::Client, ClientError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(self.request_timeout)
            .user_agent(&self.user_agent);
        if self.tls.insecure {
            builder = builder
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true);
        }
        if let Some(path) = &self.tls.truststore_path {
            let pem = read(path, "truststore")?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ClientError::Config(format!(
                    "truststore {} holds no usable PEM certificate: {e}",
                    path.display()
                ))
            })?;
            if certificates.is_empty() {
                return Err(ClientError::Config(format!(
                    "truststore {} holds no PEM certificate",
                    path.display()
                )));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if let Some(path) = &self.tls.keystore_path {
            let pem = read(path, "keystore")?;
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                ClientError::Config(format!(
                    "keystore {} must hold a PEM certificate chain and private key: {e}",
                    path.display()
                ))
            })?;
            builder = builder.identity(identity);
        }
        builder
            .build()
            .map_err(|e| ClientError::Config(format!("cannot set up the HTTP client: {e}")))
    }
}

fn read(path: &PathBuf, what: &str) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path)
        .map_err(|e| ClientError::Config(format!("cannot read {what} {}: {e}", path.display())))
}
