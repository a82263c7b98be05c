//! `vivace server`: load the configuration, start the engine and the HTTP server, and drain on
//! SIGTERM or SIGINT.

use std::process::ExitCode;
use std::sync::Arc;

use tracing::info;
use vivace_engine::{Engine, QueryService};
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
    let engine = Engine::new(
        config.engine,
        config.catalogs,
        query_runtime.handle().clone(),
    );
    let service: Arc<dyn QueryService> = Arc::new(engine);
    let result = http_runtime.block_on(async move {
        let server = Server::bind(config.server, service)
            .await
            .map_err(|e| e.to_string())?;
        let address = server
            .local_addr()
            .map_or_else(|| "?".to_string(), |a| a.to_string());
        info!(%address, "======== SERVER STARTED ========");
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
