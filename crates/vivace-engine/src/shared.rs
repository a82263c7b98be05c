//! The state the engine and its running queries share: configuration, catalogs, the query
//! tracker, the node's memory and the policies plugged into the hook points. `engine.rs`
//! builds it; `execute` reads it while a statement runs.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::runtime::Handle;
use vivace_common::QueryIdGenerator;

use crate::catalog::CatalogManager;
use crate::config::EngineConfig;
use crate::context::ContextFactory;
use crate::distribution::Distribution;
use crate::hooks::{Admission, ScanPolicy};
use crate::memory::NodeMemory;
use crate::system::{DirectorySlot, NodeInfo};
use crate::tracker::QueryTracker;

/// State shared by the engine and its running queries.
#[derive(Debug)]
pub(crate) struct EngineInner {
    pub(crate) config: EngineConfig,
    pub(crate) catalogs: Arc<CatalogManager>,
    pub(crate) contexts: ContextFactory,
    pub(crate) tracker: Arc<QueryTracker>,
    pub(crate) ids: QueryIdGenerator,
    pub(crate) node: NodeInfo,
    pub(crate) directory: DirectorySlot,
    pub(crate) distribution: parking_lot::RwLock<Option<Arc<dyn Distribution>>>,
    pub(crate) runtime: Handle,
    pub(crate) shutting_down: AtomicBool,
    /// The memory all queries of this node reserve from.
    pub(crate) node_memory: Arc<NodeMemory>,
    /// When a submitted query may start planning.
    pub(crate) admission: parking_lot::RwLock<Arc<dyn Admission>>,
    /// What each table a query scans becomes.
    pub(crate) scan_policy: parking_lot::RwLock<Arc<dyn ScanPolicy>>,
}
