//! gRPC channels to other nodes, one per node, each call signed with this node's internal
//! token. Installed on the coordinator and on every worker (workers pull from each other).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion_distributed::grpc::{BoxCloneSyncChannel, create_worker_client};
use datafusion_distributed::{ChannelResolver, WorkerChannel};
use http::HeaderValue;
use parking_lot::Mutex;
use tonic::transport::Endpoint;
use url::Url;
use vivace_security::{INTERNAL_BEARER_HEADER, InternalAuth};

/// How long connecting to a node may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// HTTP/2 pings on idle and busy connections find a node that vanished without closing its
/// sockets (a cut network) within about `KEEP_ALIVE_INTERVAL + KEEP_ALIVE_TIMEOUT`.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// This node's channels to the others.
#[derive(Clone)]
pub struct NodeChannels {
    internal: Option<Arc<InternalAuth>>,
    channels: Arc<Mutex<HashMap<Url, BoxCloneSyncChannel>>>,
}

impl std::fmt::Debug for NodeChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeChannels")
            .field("nodes", &self.channels.lock().len())
            .finish()
    }
}

impl NodeChannels {
    /// Channels whose calls carry `internal`'s token, when a shared secret is set.
    pub fn new(internal: Option<Arc<InternalAuth>>) -> Self {
        NodeChannels {
            internal,
            channels: Arc::default(),
        }
    }

    fn channel(&self, url: &Url) -> DfResult<BoxCloneSyncChannel> {
        if let Some(channel) = self.channels.lock().get(url) {
            return Ok(channel.clone());
        }
        if url.scheme() != "http" {
            return Err(DataFusionError::Configuration(format!(
                "cannot reach node {url}: task traffic between nodes uses plain HTTP/2; give \
                 nodes an http address on the cluster's private network (node.internal-address)"
            )));
        }
        let endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| DataFusionError::Configuration(format!("invalid node URL {url}: {e}")))?
            .connect_timeout(CONNECT_TIMEOUT)
            .http2_keep_alive_interval(KEEP_ALIVE_INTERVAL)
            .keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
            .keep_alive_while_idle(true)
            .tcp_nodelay(true);
        let internal = self.internal.clone();
        let signed = tower::ServiceBuilder::new()
            .map_request(move |mut request: http::Request<tonic::body::Body>| {
                if let Some(token) = internal.as_ref().and_then(|i| i.token().ok())
                    && let Ok(value) = HeaderValue::from_str(&token)
                {
                    request.headers_mut().insert(INTERNAL_BEARER_HEADER, value);
                }
                request
            })
            .service(endpoint.connect_lazy());
        let channel = BoxCloneSyncChannel::new(signed);
        self.channels.lock().insert(url.clone(), channel.clone());
        Ok(channel)
    }
}

#[async_trait]
impl ChannelResolver for NodeChannels {
    async fn get_worker_client_for_url(&self, url: &Url) -> DfResult<Box<dyn WorkerChannel>> {
        Ok(create_worker_client(self.channel(url)?))
    }
}
