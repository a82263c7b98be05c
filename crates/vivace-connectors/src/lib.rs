//! Connectors: the [`Connector`] trait and the built-in `tpch`, `memory`, `filesystem` and
//! `system` catalogs.
//!
//! A connector turns a `catalog/NAME.properties` file into a DataFusion [`CatalogProvider`].
//! Connectors know nothing about sessions, HTTP or the cluster; the engine mounts their catalogs
//! and adds an `information_schema` to each.
//!
//! Trino type details that Arrow cannot express (the `n` of `varchar(n)`, `json`, `uuid`, ...)
//! travel in Arrow field metadata under [`TRINO_TYPE_METADATA_KEY`]; table and column comments
//! under [`COMMENT_METADATA_KEY`].

pub mod error;
pub mod filesystem;
pub mod memory;
pub mod storage_error;
pub mod tpch;

use std::fmt::Debug;
use std::sync::Arc;

use datafusion::catalog::CatalogProvider;
use vivace_common::PropertyMap;

pub use error::{ConnectorError, ConnectorResult};

/// The Arrow field-metadata key that carries a column's Trino type name when Arrow's own type
/// does not say it all (for example `varchar(25)`, `char(3)`, `json`, `uuid`).
pub const TRINO_TYPE_METADATA_KEY: &str = "trino.type";

/// The Arrow metadata key of a comment: in a table's schema metadata, the table comment; in a
/// field's metadata, the column comment. Connectors that keep comments store them here.
pub const COMMENT_METADATA_KEY: &str = "trino.comment";

/// A table's comment, kept in its schema's metadata.
pub fn table_comment(schema: &arrow::datatypes::Schema) -> Option<&str> {
    schema
        .metadata()
        .get(COMMENT_METADATA_KEY)
        .map(String::as_str)
}

/// A column's comment, kept in its field's metadata.
pub fn column_comment(field: &arrow::datatypes::Field) -> Option<&str> {
    field
        .metadata()
        .get(COMMENT_METADATA_KEY)
        .map(String::as_str)
}

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

/// Rows and bytes read by connector scans that DataFusion does not measure itself (generated
/// tables). The engine puts one in each query's session config; scans add to it.
#[derive(Debug, Default)]
pub struct ScanCounters {
    /// Rows produced by scans.
    pub rows: std::sync::atomic::AtomicU64,
    /// Bytes of Arrow data produced by scans.
    pub bytes: std::sync::atomic::AtomicU64,
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
}

/// The factories of the built-in connectors (the `system` catalog is mounted by the engine).
pub fn builtin_factories() -> Vec<Arc<dyn ConnectorFactory>> {
    vec![
        Arc::new(tpch::TpchConnectorFactory),
        Arc::new(memory::MemoryConnectorFactory),
        Arc::new(filesystem::FilesystemConnectorFactory),
    ]
}

/// Whether scans of `provider` can run on any node of a cluster: their plan carries all they
/// need (tpch generates its parts anywhere) or they read storage every node is configured to
/// see (filesystem). Tables held in this node's memory and metadata tables cannot.
pub fn scans_run_anywhere(provider: &dyn datafusion::catalog::TableProvider) -> bool {
    provider.is::<tpch::TpchTable>() || provider.is::<filesystem::FilesystemTable>()
}
