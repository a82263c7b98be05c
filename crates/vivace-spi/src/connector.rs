//! A connector and the factory that makes one per catalog.

use std::fmt::Debug;
use std::sync::Arc;

use datafusion::catalog::CatalogProvider;
use vivace_common::PropertyMap;

use crate::{ConnectorDistribution, ConnectorResult};

/// One mounted catalog's connector.
pub trait Connector: Send + Sync + Debug {
    /// The connector's name, as written in `connector.name=`.
    fn connector_name(&self) -> &str;

    /// The catalog's schemas and tables, as DataFusion sees them. Called once per query plan;
    /// implementations return a cheap handle onto shared state.
    fn catalog(&self) -> Arc<dyn CatalogProvider>;

    /// Server locations (directories, addresses) that this connector's plans may print, which
    /// clients must not see: `EXPLAIN` shows each as `<catalog>:/` instead.
    fn private_locations(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A catalog name and the connector that serves it.
pub type MountedConnector = (String, Arc<dyn Connector>);

/// Builds connectors of one kind from catalog property files.
pub trait ConnectorFactory: Send + Sync + Debug {
    /// The name matched against `connector.name=`.
    fn name(&self) -> &'static str;

    /// Creates the connector for catalog `catalog`. The factory takes the properties it knows
    /// from `properties`; whatever it leaves behind is reported as an unknown property.
    fn create(
        &self,
        catalog: &str,
        properties: &mut PropertyMap,
    ) -> ConnectorResult<Arc<dyn Connector>>;

    /// How this kind of connector's plans run on workers; `None` (the default) keeps every
    /// query that reads one of its tables on the coordinator.
    fn distribution(&self) -> Option<Arc<dyn ConnectorDistribution>> {
        None
    }
}

/// Rows and bytes read by connector scans that DataFusion does not measure itself (generated
/// tables). The engine puts one in each query's session config; scans add to it.
#[derive(Debug, Default)]
pub struct ScanCounters {
    /// Rows produced by scans.
    pub rows: std::sync::atomic::AtomicU64,
    /// Bytes of Arrow data produced by scans.
    pub bytes: std::sync::atomic::AtomicU64,
}
