//! The engine's hook points for policies that later capabilities plug in: admission (resource
//! groups queue or refuse a query here, before it plans) and table-scan resolution (access
//! control wraps a table in its row filter and column masks here). Both see the query's
//! [`Identity`](crate::Identity) through its [`QueryHandle`]. Today's implementations admit
//! everything and pass every table through.

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;

use crate::error::EngineResult;
use crate::query::QueryHandle;

/// Decides when a submitted query may start planning.
#[async_trait]
pub trait Admission: Send + Sync + Debug {
    /// Waits until `query` may run (it stays `QUEUED` meanwhile), or refuses it with the error
    /// it fails with. The permit is held until the query ends on this node.
    async fn admit(&self, query: &QueryHandle) -> EngineResult<AdmissionPermit>;
}

/// What an admitted query holds while it runs; dropping it tells the admission the query
/// ended.
#[derive(Debug, Default)]
pub struct AdmissionPermit {
    _held: Option<Box<dyn Any + Send + Sync>>,
}

impl AdmissionPermit {
    /// A permit that holds `held` (a slot of a resource group, say) until the query ends.
    pub fn holding(held: impl Any + Send + Sync) -> Self {
        AdmissionPermit {
            _held: Some(Box::new(held)),
        }
    }
}

/// Admits every query at once: the behaviour without resource groups.
#[derive(Debug, Default, Clone, Copy)]
pub struct AdmitAll;

#[async_trait]
impl Admission for AdmitAll {
    async fn admit(&self, _query: &QueryHandle) -> EngineResult<AdmissionPermit> {
        Ok(AdmissionPermit::default())
    }
}

/// Sees every table a query scans, once, after planning resolved it and before optimisation,
/// and may put something in its place.
pub trait ScanPolicy: Send + Sync + Debug {
    /// The table `query` will scan as `name`: `table` itself, a wrapper of it, or an error
    /// that fails the query (access denied).
    fn resolve_scan(
        &self,
        query: &QueryHandle,
        name: &TableReference,
        table: Arc<dyn TableProvider>,
    ) -> EngineResult<Arc<dyn TableProvider>>;
}

/// Scans every table as it is: the behaviour without access control.
#[derive(Debug, Default, Clone, Copy)]
pub struct ScanAsIs;

impl ScanPolicy for ScanAsIs {
    fn resolve_scan(
        &self,
        _query: &QueryHandle,
        _name: &TableReference,
        table: Arc<dyn TableProvider>,
    ) -> EngineResult<Arc<dyn TableProvider>> {
        Ok(table)
    }
}
