//! The `filesystem` connector: a local data lake of Parquet, CSV and JSON files.
//!
//! `filesystem.root=/path` names the lake. Every subdirectory of the root is a schema; inside a
//! schema directory every data file is a table named by its stem, and every subdirectory holding
//! data files (directly or under Hive-style `key=value` partition folders) is a table named by
//! the directory. Partition folders become columns (`bigint` when every value is an integer,
//! `varchar` otherwise). Formats are chosen by extension: `.parquet`, `.csv` (with a header row)
//! and newline-delimited JSON (`.json`, `.ndjson`, `.jsonl`).
//!
//! Schema and table names are the directory and file names lower-cased, as Trino lower-cases
//! identifiers, and are matched case-insensitively. Names starting with `.` or `_` are hidden,
//! as in Hive. Column names are kept as the files spell them.
//!
//! The catalog is dynamic: directories are listed on every lookup, so files added after startup
//! are visible to the next query. File contents are only read when a table is resolved; an
//! inferred schema is reused for as long as the table's files keep their size and modification
//! time. The catalog is read-only.
//!
//! Scans, projection and predicate pushdown (row-group pruning and Parquet filter pushdown) are
//! DataFusion's `ListingTable`.
//!
//! Errors name the catalog, schema and table, and files only by their names relative to the
//! table's directory: never the server's paths. The full detail (paths, the underlying error)
//! is logged on the server.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fmt::Write as _;
use std::fs::DirEntry;
use std::io;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{
    CatalogProvider, ScanArgs, ScanResult, SchemaProvider, Session, TableProvider,
};
use datafusion::common::{
    Constraints, DataFusionError, Result as DfResult, Statistics, TableReference, not_impl_err,
};
use datafusion::config::TableParquetOptions;
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::cache::cache_manager::{CacheManagerConfig, TableScopedPath};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use futures::FutureExt as _;
use parking_lot::Mutex;
use vivace_common::{PropertiesError, PropertyMap};

use vivace_spi::storage_error::{self, StorageProblem};
use vivace_spi::{
    Connector, ConnectorDistribution, ConnectorError, ConnectorFactory, ConnectorResult,
};

mod inference;
mod layout;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

use inference::*;
use layout::*;

/// The catalog property naming the lake's root directory (required).
pub const ROOT_PROPERTY: &str = "filesystem.root";

/// The connector name, as written in `connector.name=`.
const CONNECTOR_NAME: &str = "filesystem";

/// The schema name reserved for the engine's `information_schema`.
const INFORMATION_SCHEMA: &str = "information_schema";

/// How deep `key=value` partition folders may nest (guards against symlink loops).
const MAX_PARTITION_DEPTH: usize = 32;

/// How many inferred table schemas are remembered before the cache starts over.
const MAX_CACHED_SCHEMAS: usize = 4096;

/// Creates `filesystem` connectors from `filesystem.root=`.
#[derive(Debug)]
pub struct FilesystemConnectorFactory;

/// The filesystem connector's part in distributed execution: its scans are DataFusion's own
/// file scans (encoded by DataFusion), over a root every node of a cluster is configured to
/// see, so they may run anywhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct FilesystemDistribution;

impl ConnectorDistribution for FilesystemDistribution {
    fn name(&self) -> &'static str {
        CONNECTOR_NAME
    }

    fn scans_run_anywhere(&self, table: &dyn TableProvider) -> bool {
        table.is::<FilesystemTable>()
    }
}

impl ConnectorFactory for FilesystemConnectorFactory {
    fn name(&self) -> &'static str {
        CONNECTOR_NAME
    }

    fn distribution(&self) -> Option<Arc<dyn ConnectorDistribution>> {
        Some(Arc::new(FilesystemDistribution))
    }

    fn create(
        &self,
        catalog: &str,
        properties: &mut PropertyMap,
    ) -> ConnectorResult<Arc<dyn Connector>> {
        let root = properties
            .take_with(ROOT_PROPERTY, |value| validate_root(Path::new(value)))?
            .ok_or_else(|| PropertiesError::Missing {
                source_name: properties.source_name().to_string(),
                key: ROOT_PROPERTY.to_string(),
            })?;
        Ok(Arc::new(FilesystemConnector::from_valid_root(
            catalog, root,
        )?))
    }
}

/// The `filesystem` connector: one read-only catalog over a directory tree.
#[derive(Debug)]
pub struct FilesystemConnector {
    catalog: Arc<FilesystemCatalog>,
}

impl FilesystemConnector {
    /// Serves `root` as catalog `catalog`. Fails if `root` is not a readable directory.
    pub fn new(catalog: &str, root: impl AsRef<Path>) -> ConnectorResult<Self> {
        let root = validate_root(root.as_ref()).map_err(|message| {
            ConnectorError::External(format!(
                "Catalog '{catalog}' ({CONNECTOR_NAME} connector): {message}"
            ))
        })?;
        Self::from_valid_root(catalog, root)
    }

    /// The canonical root directory.
    pub fn root(&self) -> &Path {
        &self.catalog.shared.root
    }

    fn from_valid_root(catalog: &str, root: PathBuf) -> ConnectorResult<Self> {
        let shared = Shared {
            catalog: catalog.to_string(),
            root,
            inference: inference_state(catalog)?,
            schemas: Mutex::new(HashMap::new()),
        };
        Ok(FilesystemConnector {
            catalog: Arc::new(FilesystemCatalog {
                shared: Arc::new(shared),
            }),
        })
    }
}

impl Connector for FilesystemConnector {
    fn connector_name(&self) -> &str {
        CONNECTOR_NAME
    }

    fn catalog(&self) -> Arc<dyn CatalogProvider> {
        Arc::clone(&self.catalog) as Arc<dyn CatalogProvider>
    }

    fn private_locations(&self) -> Vec<String> {
        vec![self.catalog.shared.root.to_string_lossy().into_owned()]
    }
}

/// Checks that `path` is a readable directory and returns it canonicalised.
fn validate_root(path: &Path) -> Result<PathBuf, String> {
    if path.as_os_str().is_empty() {
        return Err("the root directory must not be empty".to_string());
    }
    let shown = path.display();
    let root = std::fs::canonicalize(path)
        .map_err(|e| format!("cannot access root directory '{shown}': {e}"))?;
    if !root.is_dir() {
        return Err(format!("root '{shown}' is not a directory"));
    }
    std::fs::read_dir(&root).map_err(|e| format!("cannot read root directory '{shown}': {e}"))?;
    if root.to_str().is_none() {
        return Err(format!("root directory '{shown}' is not valid UTF-8"));
    }
    Ok(root)
}

/// The catalog: one schema per subdirectory of the root.
#[derive(Debug)]
struct FilesystemCatalog {
    shared: Arc<Shared>,
}

impl CatalogProvider for FilesystemCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.shared.schema_dirs().into_keys().collect()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let (name, dir) = self.shared.resolve_schema(name)?;
        Some(Arc::new(FilesystemSchema {
            shared: Arc::clone(&self.shared),
            name,
            dir,
        }))
    }

    fn register_schema(
        &self,
        _name: &str,
        _schema: Arc<dyn SchemaProvider>,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        not_impl_err!("{} does not support creating schemas", self.shared.prefix())
    }

    fn deregister_schema(
        &self,
        _name: &str,
        _cascade: bool,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        not_impl_err!("{} does not support dropping schemas", self.shared.prefix())
    }
}

/// One schema directory.
#[derive(Debug)]
struct FilesystemSchema {
    shared: Arc<Shared>,
    name: String,
    dir: PathBuf,
}

impl FilesystemSchema {
    /// The directory's tables by lower-cased name (only `only`, when given); an empty map if
    /// the directory cannot be listed.
    fn sources(&self, only: Option<&str>) -> BTreeMap<String, Vec<TableSource>> {
        match table_sources(&self.dir, only) {
            Ok(sources) => sources,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(
                        catalog = %self.shared.catalog,
                        schema = %self.name,
                        "cannot list schema directory '{}': {e}",
                        self.dir.display()
                    );
                }
                BTreeMap::new()
            }
        }
    }
}

#[async_trait]
impl SchemaProvider for FilesystemSchema {
    fn table_names(&self) -> Vec<String> {
        self.sources(None).into_keys().collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let name = name.to_lowercase();
        let Some(candidates) = self.sources(Some(&name)).remove(&name) else {
            return Ok(None);
        };
        match candidates.as_slice() {
            [source] => self.shared.load_table(&self.name, &name, source).await,
            _ => {
                let paths: Vec<String> = candidates
                    .iter()
                    .map(|c| {
                        let name = c.path().file_name().unwrap_or_default();
                        format!("'{}'", name.to_string_lossy())
                    })
                    .collect();
                Err(external(format!(
                    "{}: table name '{}.{name}' is ambiguous: it matches {}",
                    self.shared.prefix(),
                    self.name,
                    paths.join(", ")
                )))
            }
        }
    }

    async fn table_type(&self, name: &str) -> DfResult<Option<TableType>> {
        Ok(self.table_exist(name).then_some(TableType::Base))
    }

    fn register_table(
        &self,
        _name: String,
        _table: Arc<dyn TableProvider>,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        not_impl_err!("{} does not support creating tables", self.shared.prefix())
    }

    fn deregister_table(&self, _name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        not_impl_err!("{} does not support dropping tables", self.shared.prefix())
    }

    fn table_exist(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.sources(Some(&name)).contains_key(&name)
    }
}

/// A read-only `ListingTable` that re-lists its directory on every scan.
///
/// DataFusion's list-files cache would otherwise keep serving a directory table's first
/// listing to the query session, hiding files added later.
#[derive(Debug)]
pub(crate) struct FilesystemTable {
    catalog: String,
    inner: ListingTable,
    /// The list-files cache entry of a directory table (single files are never cached).
    list_cache_key: Option<TableScopedPath>,
}

impl FilesystemTable {
    fn forget_listing(&self, state: &dyn Session) {
        if let Some(key) = &self.list_cache_key
            && let Some(cache) = state.runtime_env().cache_manager.get_list_files_cache()
        {
            cache.remove(key);
        }
    }
}

#[async_trait]
impl TableProvider for FilesystemTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.inner.constraints()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.forget_listing(state);
        self.inner.scan(state, projection, filters, limit).await
    }

    async fn scan_with_args<'a>(
        &self,
        state: &dyn Session,
        args: ScanArgs<'a>,
    ) -> DfResult<ScanResult> {
        self.forget_listing(state);
        self.inner.scan_with_args(state, args).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        _input: Arc<dyn ExecutionPlan>,
        _insert_op: InsertOp,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        not_impl_err!(
            "Catalog '{}' ({CONNECTOR_NAME} connector) does not support inserts",
            self.catalog
        )
    }
}
