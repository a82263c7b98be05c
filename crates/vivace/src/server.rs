//! `vivace server`: load the configuration, start the engine and the HTTP server, and drain on
//! SIGTERM or SIGINT.

use std::process::ExitCode;
use std::sync::Arc;

use tracing::info;
use vivace_engine::{Engine, QueryService};
use vivace_security::Authentication;
use vivace_server::Server;

use crate::cli::ServerArgs;
use crate::etc::{self, NodeConfig};
use crate::logging;

pub(crate) fn run(args: ServerArgs) -> ExitCode {
    let config = match etc::parse_overrides(&args.properties)
        .and_then(|overrides| etc::load(args.etc.as_deref(), &overrides))
    {
        Ok(config) => config,
        Err(e) => {
            eprintln!("vivace: configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    logging::init(config.log_format);
    vivace_security::tls::install_crypto_provider();
    match serve(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vivace: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: NodeConfig) -> Result<(), String> {
    // Queries run on their own runtime so that CPU-heavy work never delays HTTP requests.
    let query_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("vivace-query")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start query runtime: {e}"))?;
    let http_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("vivace-http")
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start HTTP runtime: {e}"))?;
    let node_id = config.engine.node_id.clone();
    let engine = Engine::new(
        config.engine,
        config.catalogs,
        query_runtime.handle().clone(),
    );
    let service: Arc<dyn QueryService> = Arc::new(engine);
    let result = http_runtime.block_on(async move {
        let authentication = Authentication::start(config.security, &node_id)
            .await
            .map_err(|e| e.to_string())?;
        let server = Server::bind(config.server, service, Arc::new(authentication))
            .await
            .map_err(|e| e.to_string())?;
        for (address, tls) in server.local_addrs() {
            let scheme = if tls { "https" } else { "http" };
            info!(address = %format!("{scheme}://{address}"), "listening");
        }
        info!("======== SERVER STARTED ========");
        server
            .run(shutdown_signal())
            .await
            .map_err(|e| e.to_string())
    });
    query_runtime.shutdown_background();
    result
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
