//! `vivace health`: the container health check. Asks the local node's `/v1/info` and succeeds
//! only when it answers and has finished starting, as Trino's image `health-check` does:
//! HTTP on `http-server.http.port`, or HTTPS on `http-server.https.port` when HTTP is disabled
//! (the certificate is not verified: the check talks to its own node).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use vivace_common::PropertyMap;
use vivace_server::{DEFAULT_HTTP_PORT, DEFAULT_HTTPS_PORT};

use crate::cli::HealthArgs;
use crate::etc;

pub(crate) fn run(args: HealthArgs) -> ExitCode {
    let base = match args.url.clone() {
        Some(url) => Ok(url.trim_end_matches('/').to_string()),
        None => local_base_url(args.etc.as_deref(), &args.properties),
    };
    let outcome = base.and_then(|base| check(&base, Duration::from_secs(args.timeout.max(1))));
    match outcome {
        Ok(message) => {
            println!("healthy: {message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            println!("unhealthy: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The node's own base URL, from its config.properties and `-D` overrides.
fn local_base_url(etc: Option<&Path>, overrides: &[String]) -> Result<String, String> {
    let mut props = match etc {
        Some(dir) => {
            PropertyMap::load(&dir.join("config.properties")).map_err(|e| e.to_string())?
        }
        None => PropertyMap::new("embedded config.properties"),
    };
    for (key, value) in etc::parse_overrides(overrides).map_err(|e| e.to_string())? {
        props.set_override(&key, &value);
    }
    let http_enabled = props
        .take_bool("http-server.http.enabled")
        .map_err(|e| e.to_string())?
        .unwrap_or(true);
    let host = match props.take_string("http-server.http.bind-address") {
        Some(address) if address != "0.0.0.0" => address,
        _ => "127.0.0.1".to_string(),
    };
    let (scheme, port) = if http_enabled {
        let port: Option<u16> = props
            .take_parsed("http-server.http.port")
            .map_err(|e| e.to_string())?;
        ("http", port.unwrap_or(DEFAULT_HTTP_PORT))
    } else {
        let port: Option<u16> = props
            .take_parsed("http-server.https.port")
            .map_err(|e| e.to_string())?;
        ("https", port.unwrap_or(DEFAULT_HTTPS_PORT))
    };
    Ok(format!("{scheme}://{host}:{port}"))
}

/// One request to `{base}/v1/info`; the node is healthy when it says `"starting": false`.
fn check(base: &str, timeout: Duration) -> Result<String, String> {
    vivace_security::tls::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .danger_accept_invalid_certs(true)
            .build()
            .map_err(|e| format!("cannot create an HTTP client: {e}"))?;
        let url = format!("{base}/v1/info");
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{url}: HTTP {status}"));
        }
        let info: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("{url}: not a JSON answer: {e}"))?;
        match info.get("starting").and_then(serde_json::Value::as_bool) {
            Some(false) => Ok(format!(
                "{url} ({})",
                if info.get("coordinator").and_then(serde_json::Value::as_bool) == Some(true) {
                    "coordinator"
                } else {
                    "worker"
                }
            )),
            Some(true) => Err(format!("{url}: the node is still starting")),
            None => Err(format!("{url}: no 'starting' field in the answer")),
        }
    })
}
