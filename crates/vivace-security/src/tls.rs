//! TLS material: the server's certificate from a PEM or PKCS#12 keystore (reloaded when the
//! file changes), trust stores for outgoing connections, and HTTP clients that use them.
//! TLS 1.2 and 1.3 only, with the `ring` provider.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tracing::{info, warn};

use crate::SecurityError;
use crate::file_version::{FileVersion, file_version};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes `ring` the process-wide TLS provider, for libraries that use the default.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn cert_error(path: &Path, message: impl std::fmt::Display) -> SecurityError {
    SecurityError::Certificate(format!("{}: {message}", path.display()))
}

/// Loads a server certificate chain and key: a PEM file (certificates and a PKCS#1, PKCS#8
/// or SEC1 key, unencrypted) or a PKCS#12 file opened with `password`.
pub fn load_certified_key(
    path: &Path,
    password: Option<&str>,
) -> Result<CertifiedKey, SecurityError> {
    let data =
        std::fs::read(path).map_err(|e| cert_error(path, format!("cannot read keystore: {e}")))?;
    let (chain, key) = if data.windows(11).any(|w| w == b"-----BEGIN ") {
        if data.windows(9).any(|w| w == b"ENCRYPTED") {
            return Err(cert_error(
                path,
                "encrypted PEM private keys are not supported; use an unencrypted key or a PKCS#12 keystore",
            ));
        }
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&data)
            .collect::<Result<_, _>>()
            .map_err(|e| cert_error(path, format!("invalid PEM certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(&data)
            .map_err(|e| cert_error(path, format!("no usable private key in the PEM file: {e}")))?;
        (chain, key)
    } else {
        let store = p12_keystore::KeyStore::from_pkcs12(
            &data,
            password.unwrap_or(""),
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .map_err(|e| {
            cert_error(
                path,
                format!("not a PEM file, and not a PKCS#12 keystore that opens with http-server.https.keystore.key: {e}"),
            )
        })?;
        let (_, entry) = store.private_key_chain().ok_or_else(|| {
            cert_error(
                path,
                "the PKCS#12 keystore holds no private key with certificates",
            )
        })?;
        let chain = entry
            .certs()
            .iter()
            .map(|c| CertificateDer::from(c.as_der().to_vec()))
            .collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(entry.key().as_der().to_vec()));
        (chain, key)
    };
    if chain.is_empty() {
        return Err(cert_error(path, "no certificate found"));
    }
    let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| {
        cert_error(
            path,
            format!("certificate and key do not form a usable pair: {e}"),
        )
    })?;
    Ok(certified)
}

/// The server certificate, swapped in place when its keystore file changes.
pub struct ReloadingCertificate {
    path: PathBuf,
    password: Option<String>,
    current: Mutex<(Arc<CertifiedKey>, FileVersion)>,
}

impl std::fmt::Debug for ReloadingCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadingCertificate")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl ReloadingCertificate {
    /// Loads the keystore now.
    pub fn load(path: PathBuf, password: Option<String>) -> Result<Self, SecurityError> {
        let modified = file_version(&path);
        let key = load_certified_key(&path, password.as_deref())?;
        Ok(ReloadingCertificate {
            path,
            password,
            current: Mutex::new((Arc::new(key), modified)),
        })
    }

    /// Re-reads the keystore if its modification time changed; a broken new file is logged
    /// and the current certificate kept. Returns whether a new certificate is in use.
    pub fn reload_if_changed(&self) -> bool {
        let modified = file_version(&self.path);
        if modified == self.current.lock().1 {
            return false;
        }
        match load_certified_key(&self.path, self.password.as_deref()) {
            Ok(key) => {
                *self.current.lock() = (Arc::new(key), modified);
                info!(keystore = %self.path.display(), "TLS certificate reloaded");
                true
            }
            Err(e) => {
                warn!("keeping the current TLS certificate: {e}");
                self.current.lock().1 = modified;
                false
            }
        }
    }

    /// Checks the keystore every `period` until the task is dropped.
    pub fn spawn_watcher(self: &Arc<Self>, period: Duration) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period.max(Duration::from_millis(100)));
            tick.tick().await;
            loop {
                tick.tick().await;
                this.reload_if_changed();
            }
        })
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current.lock().0))
    }
}

/// A TLS 1.2/1.3 server configuration serving `certificate`, offering HTTP/2 and HTTP/1.1.
pub fn server_config(
    certificate: Arc<ReloadingCertificate>,
) -> Result<ServerConfig, SecurityError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| SecurityError::Certificate(format!("TLS setup failed: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificates of a PEM bundle as a trust store.
pub fn load_root_store(path: &Path) -> Result<RootCertStore, SecurityError> {
    let data = std::fs::read(path)
        .map_err(|e| cert_error(path, format!("cannot read trust store: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&data) {
        let cert = cert.map_err(|e| cert_error(path, format!("invalid PEM certificate: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| cert_error(path, format!("unusable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(cert_error(path, "no certificates in the trust store"));
    }
    Ok(roots)
}

/// A TLS client configuration trusting `roots`.
pub fn client_config(roots: RootCertStore) -> Result<ClientConfig, SecurityError> {
    Ok(ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| SecurityError::Certificate(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// An HTTP client for outgoing calls (JWKS, webhooks) trusting the system's CAs plus those in
/// `trust_store`.
pub fn http_client(
    trust_store: Option<&Path>,
    timeout: Duration,
    https_only: bool,
) -> Result<reqwest::Client, SecurityError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .connect_timeout(timeout)
        .https_only(https_only)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = trust_store {
        let data = std::fs::read(path)
            .map_err(|e| cert_error(path, format!("cannot read trust store: {e}")))?;
        let certs = reqwest::Certificate::from_pem_bundle(&data)
            .map_err(|e| cert_error(path, format!("invalid PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(cert_error(path, "no certificates in the trust store"));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| SecurityError::Config(format!("cannot create HTTP client: {e}")))
}
