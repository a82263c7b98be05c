//! `vivace server`: load the configuration, start the engine and the HTTP server, and drain on
//! SIGTERM or SIGINT.

use std::process::ExitCode;
use std::sync::Arc;

use tracing::info;
use vivace_cluster::distributed::{
    ClusterDistribution, ConnectorPlans, DistributionConfig, NodeChannels, NodeWorker,
};
use vivace_cluster::{Announcer, Membership};
use vivace_common::TRINO_COMPATIBLE_VERSION;
use vivace_connectors::builtin_factories;
use vivace_engine::NodeDirectory;
use vivace_engine::{Engine, QueryService};
use vivace_security::{Authentication, InternalAuth};
use vivace_server::Server;

use crate::cli::ServerArgs;
use crate::etc::{self, NodeConfig};
use crate::logging;

/// The HTTP threads' stack: room for serializing deeply nested result values.
const HTTP_THREAD_STACK_SIZE: usize = 16 << 20;

pub(crate) fn run(args: ServerArgs) -> ExitCode {
    let default_node_id = if args.node_id_from_hostname {
        match etc::hostname_node_id() {
            Ok(id) => Some(id),
            Err(e) => {
                eprintln!("vivace: configuration error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let config = match etc::parse_overrides(&args.properties)
        .and_then(|overrides| etc::load(args.etc.as_deref(), &overrides, default_node_id))
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
    vivace_sql::limits::install_stack_guard();
    // Queries are planned and run, and their results encoded for clients, on their own
    // runtime, so that heavy work never delays HTTP requests.
    let query_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("vivace-query")
        // Deep expression trees are walked recursively by the planner; the threads that plan
        // and run queries get a stack sized for `query.max-expression-depth`.
        .thread_stack_size(vivace_sql::limits::QUERY_THREAD_STACK_SIZE)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start query runtime: {e}"))?;
    let http_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("vivace-http")
        .worker_threads(2)
        // Results as deep as `query.max-nesting-depth` are serialized and dropped here.
        .thread_stack_size(HTTP_THREAD_STACK_SIZE)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start HTTP runtime: {e}"))?;
    let node_id = config.engine.node_id.clone();
    let coordinator = config.engine.coordinator;
    if config.security.shared_secret.is_none() {
        info!(
            "single-node mode: internal-communication.shared-secret is not set, so no worker can \
             join and the internal endpoints (announcements, tasks, PUT /v1/info/state) accept \
             requests only from this host; set the same secret on every node to run a cluster"
        );
    }
    let memory_per_node = config.engine.query_max_memory_per_node;
    let engine = Engine::new(
        config.engine,
        config.catalogs,
        query_runtime.handle().clone(),
    );
    let internal = config
        .security
        .shared_secret
        .as_deref()
        .map(|secret| Arc::new(InternalAuth::new(secret, &node_id)));
    let channels = NodeChannels::new(internal.clone());
    let connectors = ConnectorPlans::new(
        builtin_factories()
            .iter()
            .filter_map(|factory| factory.distribution())
            .collect(),
    );
    let worker = NodeWorker::new(
        channels.clone(),
        connectors.clone(),
        query_runtime.handle().clone(),
        engine.node_memory(),
        memory_per_node,
    );
    let result = http_runtime.block_on(async move {
        let authentication = Authentication::start(config.security, &node_id)
            .await
            .map_err(|e| e.to_string())?;
        let mut background = Vec::new();
        let mut announcer = None;
        let membership = if coordinator {
            let membership = Arc::new(
                Membership::new(config.cluster.clone(), internal.clone())
                    .map_err(|e| e.to_string())?,
            );
            engine.set_node_directory(Arc::clone(&membership) as Arc<dyn NodeDirectory>);
            background.push(membership.spawn_failure_detector());
            let distribution = ClusterDistribution::new(
                DistributionConfig {
                    include_coordinator: config.cluster.include_coordinator,
                    max_queued_time: config.cluster.max_queued_time,
                    self_uri: config.cluster.internal_uri.clone(),
                },
                Arc::clone(&membership) as Arc<dyn NodeDirectory>,
                channels,
                worker.clone(),
                connectors,
                internal.clone(),
            )?;
            engine.set_distribution(Arc::new(distribution));
            Some(membership)
        } else {
            let worker = Arc::new(
                Announcer::new(
                    config.cluster.clone(),
                    TRINO_COMPATIBLE_VERSION,
                    internal.clone(),
                )
                .map_err(|e| e.to_string())?,
            );
            info!(
                node_id = %node_id,
                internal_uri = %config.cluster.internal_uri,
                discovery = config.cluster.discovery_uri.as_deref().unwrap_or_default(),
                "worker node"
            );
            announcer = Some(Arc::clone(&worker));
            background.push(worker.spawn());
            None
        };
        let service: Arc<dyn QueryService> = Arc::new(engine);
        let server = Server::bind(
            config.server,
            service,
            Arc::new(authentication),
            membership,
            Some(worker),
        )
        .await
        .map_err(|e| e.to_string())?;
        for (address, tls) in server.local_addrs() {
            let scheme = if tls { "https" } else { "http" };
            info!(address = %format!("{scheme}://{address}"), "listening");
        }
        info!("======== SERVER STARTED ========");
        let outcome = server
            .run(shutdown_signal())
            .await
            .map_err(|e| e.to_string());
        for task in background {
            task.abort();
        }
        if let Some(announcer) = announcer {
            announcer.leave().await;
        }
        outcome
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
