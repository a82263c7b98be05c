//! The worker role every node plays: datafusion-distributed's `Worker` behind a gRPC service
//! that shares the node's HTTP port, runs tasks on the query runtime and counts them so that a
//! draining node knows when its tasks are done.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use datafusion::common::Result as DfResult;
use datafusion::execution::SessionState;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::SessionConfig;
use datafusion_distributed::{DistributedExt, Worker, WorkerQueryContext};
use futures::future::BoxFuture;
use http_body_util::BodyExt;
use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tower::ServiceExt;
use vivace_engine::NodeMemory;
use vivace_engine::QueryMemoryPool;
use vivace_functions::setup;

use super::channels::NodeChannels;
use super::codec::VivaceCodec;
use super::connectors::ConnectorPlans;
use super::options::QueryOptions;

/// The gRPC path prefix the worker service answers under.
pub const WORKER_GRPC_PATH: &str = "/worker.WorkerService/{*method}";

/// This node's worker: runs the tasks other nodes send it.
#[derive(Clone)]
pub struct NodeWorker {
    worker: Worker,
    runtime: Handle,
    tasks: Arc<TaskGauge>,
}

impl std::fmt::Debug for NodeWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeWorker")
            .field("calls_in_flight", &self.tasks.count())
            .finish()
    }
}

impl NodeWorker {
    /// A worker whose tasks run on `runtime`, reach other nodes through `channels`, decode
    /// the plan nodes of `connectors`, and reserve memory from `node_memory`, at most
    /// `default_memory_per_node` bytes per query unless the query says otherwise.
    pub fn new(
        channels: NodeChannels,
        connectors: ConnectorPlans,
        runtime: Handle,
        node_memory: Arc<NodeMemory>,
        default_memory_per_node: u64,
    ) -> Self {
        let memory = Arc::new(QueryMemory {
            base: Arc::new(RuntimeEnv::default()),
            node: node_memory,
            pools: Mutex::new(HashMap::new()),
            default_limit: default_memory_per_node,
        });
        let codec = VivaceCodec::new(connectors);
        let worker = Worker::from_session_builder(move |ctx: WorkerQueryContext| {
            let channels = channels.clone();
            let codec = codec.clone();
            let memory = Arc::clone(&memory);
            async move { task_session(ctx, channels, codec, &memory) }
        })
        .with_version(vivace_common::TRINO_COMPATIBLE_VERSION);
        NodeWorker {
            worker,
            runtime,
            tasks: Arc::new(TaskGauge::default()),
        }
    }

    /// The datafusion-distributed worker, for running tasks in this process.
    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    /// The gRPC service to mount at [`WORKER_GRPC_PATH`]. Callers must be authenticated as
    /// nodes of the cluster before it is reached.
    pub fn grpc_service(&self) -> WorkerGrpc {
        WorkerGrpc {
            inner: WorkerServer::new(self.worker.clone().into_worker_server()),
            runtime: self.runtime.clone(),
            tasks: Arc::clone(&self.tasks),
        }
    }

    /// Task calls (plans being set up and results being streamed) now running here.
    pub fn calls_in_flight(&self) -> usize {
        self.tasks.count()
    }

    /// Waits until no task call runs here, or `limit` passes; true when idle.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.tasks.idle()).await.is_ok()
    }
}

/// Builds the session a task runs in: the query's facts from its headers, Vivace's functions
/// and codec, the channels to other nodes, and the query's memory pool on this node.
fn task_session(
    ctx: WorkerQueryContext,
    channels: NodeChannels,
    codec: VivaceCodec,
    memory: &QueryMemory,
) -> DfResult<SessionState> {
    let facts = SessionConfig::new()
        .with_distributed_option_extension_from_headers::<QueryOptions>(&ctx.headers)?;
    let facts = facts
        .options()
        .extensions
        .get::<QueryOptions>()
        .cloned()
        .unwrap_or_default();
    let mut builder = ctx
        .builder
        .with_distributed_option_extension_from_headers::<QueryOptions>(&ctx.headers)?
        .with_distributed_channel_resolver(channels)
        .with_distributed_user_codec(codec)
        .with_runtime_env(memory.runtime_for(&facts.query_id, facts.max_memory_per_node));
    if let Some(config) = builder.config().as_mut() {
        let zone = Some(facts.time_zone.clone()).filter(|zone| !zone.is_empty());
        setup::apply_trino_options(config.options_mut(), zone);
    }
    let mut state = builder.build();
    setup::register_trino_functions(&mut state);
    Ok(state)
}

/// One memory pool per query on this node, shared by the query's tasks here, all reserving
/// from the node's pool.
struct QueryMemory {
    base: Arc<RuntimeEnv>,
    node: Arc<NodeMemory>,
    /// The queries whose tasks run here, to log each once.
    pools: Mutex<HashMap<String, Weak<QueryMemoryPool>>>,
    default_limit: u64,
}

impl QueryMemory {
    fn runtime_for(&self, query_id: &str, limit: u64) -> Arc<RuntimeEnv> {
        let limit = if limit == 0 {
            self.default_limit
        } else {
            limit
        };
        let pool = {
            let mut pools = self.pools.lock();
            pools.retain(|_, pool| pool.strong_count() > 0);
            match pools.get(query_id).and_then(Weak::upgrade) {
                Some(pool) => pool,
                None => {
                    let pool = self.node.query_pool(query_id, limit);
                    pools.insert(query_id.to_string(), Arc::downgrade(&pool));
                    tracing::info!(query_id, memory_limit = limit, "running tasks of a query");
                    pool
                }
            }
        };
        setup::runtime_with_pool(&self.base, pool)
    }
}

/// Counts task calls; wakes waiters when none is left.
#[derive(Debug, Default)]
struct TaskGauge {
    count: AtomicUsize,
    idle: Notify,
}

impl TaskGauge {
    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    fn enter(self: &Arc<Self>) -> TaskGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        TaskGuard(Arc::clone(self))
    }

    async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

struct TaskGuard(Arc<TaskGauge>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

type WorkerServer = tower::util::BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    Infallible,
>;

/// The worker's gRPC service. Calls run on the query runtime, and so does the streaming of
/// their responses, so that heavy tasks never delay the node's HTTP endpoints.
#[derive(Clone)]
pub struct WorkerGrpc {
    inner: WorkerServer,
    runtime: Handle,
    tasks: Arc<TaskGauge>,
}

impl<B> tower_service::Service<http::Request<B>> for WorkerGrpc
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        let runtime = self.runtime.clone();
        let guard = self.tasks.enter();
        Box::pin(async move {
            let response = runtime
                .spawn(async move { inner.oneshot(request.map(tonic::body::Body::new)).await })
                .await;
            match response {
                Ok(Ok(response)) => Ok(response.map(|body| pump_on(body, &runtime, guard))),
                Ok(Err(never)) => match never {},
                Err(join) => {
                    Ok(tonic::Status::internal(format!("worker call failed: {join}")).into_http())
                }
            }
        })
    }
}

/// Polls `body` on `runtime` and hands its frames over; the guard lives until the body ends or
/// the caller goes away.
fn pump_on(body: tonic::body::Body, runtime: &Handle, guard: TaskGuard) -> tonic::body::Body {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
    runtime.spawn(async move {
        let _guard = guard;
        let mut body = body;
        loop {
            let frame = tokio::select! {
                frame = body.frame() => frame,
                () = sender.closed() => break,
            };
            let Some(frame) = frame else { break };
            if sender.send(frame).await.is_err() {
                break;
            }
        }
    });
    let frames = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    tonic::body::Body::new(http_body_util::StreamBody::new(frames))
}
