//! The connectors' parts in distributed execution, asked in turn: the cluster layer knows no
//! connector by name.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use vivace_spi::ConnectorDistribution;

/// Every mounted kind of connector's [`ConnectorDistribution`].
#[derive(Debug, Clone, Default)]
pub struct ConnectorPlans {
    connectors: Arc<[Arc<dyn ConnectorDistribution>]>,
}

impl ConnectorPlans {
    /// The distributions of the connector kinds this node may run.
    pub fn new(connectors: Vec<Arc<dyn ConnectorDistribution>>) -> Self {
        ConnectorPlans {
            connectors: connectors.into(),
        }
    }

    /// Each connector's distribution.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<dyn ConnectorDistribution>> {
        self.connectors.iter()
    }

    /// The connector that tagged an encoded node with `name`.
    pub(crate) fn named(&self, name: &str) -> Option<&Arc<dyn ConnectorDistribution>> {
        self.connectors.iter().find(|c| c.name() == name)
    }

    /// Whether some connector says scans of `table` may run on any node.
    pub fn scans_run_anywhere(&self, table: &dyn TableProvider) -> bool {
        self.connectors.iter().any(|c| c.scans_run_anywhere(table))
    }
}
