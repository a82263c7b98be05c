//! The `memory` connector: tables held in memory for the life of the server, created with
//! `CREATE SCHEMA`, `CREATE TABLE [AS]` and filled with `INSERT`, as in Trino's memory connector.

use std::sync::Arc;

use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider};
use vivace_common::PropertyMap;

use crate::{Connector, ConnectorFactory, ConnectorResult};

/// Creates `memory` connectors.
#[derive(Debug)]
pub struct MemoryConnectorFactory;

impl ConnectorFactory for MemoryConnectorFactory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn create(
        &self,
        _catalog: &str,
        _properties: &mut PropertyMap,
    ) -> ConnectorResult<Arc<dyn Connector>> {
        Ok(Arc::new(MemoryConnector::new()))
    }
}

/// The `memory` connector: one catalog with a `default` schema.
#[derive(Debug)]
pub struct MemoryConnector {
    catalog: Arc<MemoryCatalogProvider>,
}

impl MemoryConnector {
    /// An empty catalog holding only the `default` schema.
    pub fn new() -> Self {
        let catalog = MemoryCatalogProvider::new();
        // Registering into a fresh in-memory catalog cannot fail; the result only reports a
        // previous schema of the same name.
        let _previous = catalog.register_schema("default", Arc::new(MemorySchemaProvider::new()));
        MemoryConnector {
            catalog: Arc::new(catalog),
        }
    }
}

impl Default for MemoryConnector {
    fn default() -> Self {
        Self::new()
    }
}

impl Connector for MemoryConnector {
    fn connector_name(&self) -> &str {
        "memory"
    }

    fn catalog(&self) -> Arc<dyn CatalogProvider> {
        Arc::clone(&self.catalog) as Arc<dyn CatalogProvider>
    }
}
