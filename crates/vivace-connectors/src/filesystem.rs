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

/// A private session used only for schema inference: `SchemaProvider::table` receives no
/// session. Its file-listing cache is off so that new files are always seen.
fn inference_state(catalog: &str) -> ConnectorResult<SessionState> {
    let runtime = RuntimeEnvBuilder::new()
        .with_cache_manager(CacheManagerConfig::default().with_list_files_cache_limit(0))
        .build_arc()
        .map_err(|e| {
            ConnectorError::External(format!(
                "Catalog '{catalog}' ({CONNECTOR_NAME} connector): cannot create a runtime: {e}"
            ))
        })?;
    Ok(SessionStateBuilder::new().with_runtime_env(runtime).build())
}

/// State shared by the catalog, its schemas and its tables.
struct Shared {
    catalog: String,
    root: PathBuf,
    inference: SessionState,
    /// Inferred file schemas by table location, valid while the files are unchanged.
    schemas: Mutex<HashMap<PathBuf, CachedSchema>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("catalog", &self.catalog)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// An inferred schema and the files it was inferred from.
struct CachedSchema {
    files: Vec<FileStamp>,
    schema: SchemaRef,
}

/// A data file's identity for schema caching.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl Shared {
    fn prefix(&self) -> String {
        format!("Catalog '{}' ({CONNECTOR_NAME} connector)", self.catalog)
    }

    /// Schema directories by lower-cased name; each name's directories are sorted.
    fn schema_dirs(&self) -> BTreeMap<String, Vec<String>> {
        let mut schemas: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(
                    catalog = %self.catalog,
                    root = %self.root.display(),
                    "cannot list the filesystem catalog's root directory: {e}"
                );
                return schemas;
            }
        };
        for entry in entries.flatten() {
            let Some(name) = visible_name(&entry) else {
                continue;
            };
            if entry_kind(&entry) != Some(EntryKind::Directory) {
                continue;
            }
            let lower = name.to_lowercase();
            if lower == INFORMATION_SCHEMA {
                continue;
            }
            schemas.entry(lower).or_default().push(name);
        }
        for names in schemas.values_mut() {
            names.sort();
        }
        schemas
    }

    /// The directory of schema `name` (any case). Among directories whose names differ only
    /// by case, the all-lower-case one wins, then the first in byte order.
    fn resolve_schema(&self, name: &str) -> Option<(String, PathBuf)> {
        let lower = name.to_lowercase();
        let mut schemas = self.schema_dirs();
        let names = schemas.remove(&lower)?;
        let chosen = names
            .iter()
            .find(|n| **n == lower)
            .or_else(|| names.first())?
            .clone();
        if names.len() > 1 {
            tracing::warn!(
                catalog = %self.catalog,
                "schema '{lower}' matches several directories {names:?}; using '{chosen}'"
            );
        }
        Some((lower, self.root.join(chosen)))
    }

    /// Builds the table provider for one table source.
    async fn load_table(
        &self,
        schema: &str,
        table: &str,
        source: &TableSource,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let location = source.path();
        let fail = |problem: Unreadable| self.unreadable(schema, table, location, problem);
        let Some(layout) = source.layout().map_err(fail)? else {
            return Ok(None);
        };
        let subject = if layout.directory {
            "a file of the table"
        } else {
            "the file"
        };
        let format = layout.format;
        let datafusion_failure = |e: DataFusionError| {
            fail(Unreadable {
                reason: self.read_reason(subject, format, &e),
                detail: one_line(&e),
            })
        };

        let url = file_url(location, layout.directory)
            .map_err(fail)?
            .with_table_ref(TableReference::full(
                self.catalog.as_str(),
                schema.to_string(),
                table.to_string(),
            ));
        let options = ListingOptions::new(layout.format.file_format())
            .with_file_extension(layout.extension.clone())
            .with_table_partition_cols(layout.partitions.clone());

        let file_schema = match self.cached_schema(location, &layout.files) {
            Some(schema) => schema,
            None => {
                if format == Format::Parquet {
                    for file in &layout.files {
                        check_parquet_footer(file, subject).map_err(fail)?;
                    }
                }
                // The readers are not ours, and a malformed file must fail its table, not
                // the query's task: a panic while inferring is reported as unreadable data.
                let inferred = AssertUnwindSafe(options.infer_schema(&self.inference, &url))
                    .catch_unwind()
                    .await
                    .map_err(|panic| {
                        fail(Unreadable {
                            reason: format!("{subject} cannot be read as {}", format.name()),
                            detail: format!(
                                "the {} reader panicked: {}",
                                format.name(),
                                panic_message(panic.as_ref())
                            ),
                        })
                    })?;
                let schema = inferred.map_err(datafusion_failure)?;
                self.remember_schema(location, layout.files, Arc::clone(&schema));
                schema
            }
        };
        for (column, _) in &layout.partitions {
            if file_schema.field_with_name(column).is_ok() {
                return Err(fail(Unreadable::plain(format!(
                    "partition column '{column}' is also a column of the files"
                ))));
            }
        }

        let list_cache_key = layout.directory.then(|| TableScopedPath {
            table: url.get_table_ref().clone(),
            path: url.prefix().clone(),
        });
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(file_schema);
        let inner = ListingTable::try_new(config).map_err(datafusion_failure)?;
        Ok(Some(Arc::new(FilesystemTable {
            catalog: self.catalog.clone(),
            inner,
            list_cache_key,
        })))
    }

    /// The error for a table that cannot be read: the client learns the table and the reason,
    /// the server log also the location and the underlying error.
    fn unreadable(
        &self,
        schema: &str,
        table: &str,
        location: &Path,
        problem: Unreadable,
    ) -> DataFusionError {
        tracing::warn!(
            catalog = %self.catalog,
            table = %format!("{schema}.{table}"),
            location = %location.display(),
            "cannot read table: {}",
            problem.detail
        );
        external(format!(
            "{}: cannot read table '{schema}.{table}': {}",
            self.prefix(),
            self.scrub(&problem.reason)
        ))
    }

    /// Why DataFusion could not read a table's files, for the client.
    fn read_reason(&self, subject: &str, format: Format, error: &DataFusionError) -> String {
        match storage_error::storage_problem(error) {
            Some(StorageProblem::NotParquet) if format != Format::Parquet => {
                StorageProblem::Unreadable.describe(subject)
            }
            Some(problem) => problem.describe(subject),
            None => format!(
                "{subject} cannot be read as {}: {}",
                format.name(),
                root_message(error)
            ),
        }
    }

    /// `text` without the catalog's root directory in any of the forms errors spell it (a
    /// path, a `file://` URL, an object-store location), nor anything else that looks like a
    /// path. A last line of defence: messages are built without paths in the first place.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        if let Some(root) = self.root.to_str().filter(|r| r.len() > 1) {
            let mut forms = vec![root.to_string(), root.trim_start_matches('/').to_string()];
            if let Ok(url) = file_url(&self.root, false) {
                forms.push(url.as_str().trim_end_matches('/').to_string());
                let encoded = url.as_str().trim_start_matches("file://");
                forms.push(encoded.trim_end_matches('/').to_string());
                forms.push(encoded.trim_matches('/').to_string());
            }
            forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
            for form in forms.iter().filter(|form| !form.is_empty()) {
                text = text.replace(form.as_str(), "<root>");
            }
        }
        storage_error::strip_paths(&text)
    }

    fn cached_schema(&self, location: &Path, files: &[FileStamp]) -> Option<SchemaRef> {
        let schemas = self.schemas.lock();
        let cached = schemas.get(location)?;
        (cached.files == files).then(|| Arc::clone(&cached.schema))
    }

    fn remember_schema(&self, location: &Path, files: Vec<FileStamp>, schema: SchemaRef) {
        let mut schemas = self.schemas.lock();
        if schemas.len() >= MAX_CACHED_SCHEMAS && !schemas.contains_key(location) {
            schemas.clear();
        }
        schemas.insert(location.to_path_buf(), CachedSchema { files, schema });
    }
}

/// A DataFusion error's message on one line (`context\ncaused by\nerror` becomes
/// `context: error`), for the server log.
fn one_line(error: &DataFusionError) -> String {
    error
        .to_string()
        .replace("\ncaused by\n", ": ")
        .replace('\n', " ")
}

/// What a panic said, if it said it with a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// The bytes at both ends of a Parquet file: `PAR1` first; last, the footer's metadata length
/// and `PAR1` (`PARE` when the footer is encrypted).
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";
const PARQUET_ENCRYPTED_MAGIC: &[u8; 4] = b"PARE";

/// Checks that a Parquet file's footer fits in the file before a reader trusts it (some
/// versions of the Parquet reader panic on a metadata length larger than the file).
fn check_parquet_footer(file: &FileStamp, subject: &str) -> Result<(), Unreadable> {
    let invalid = |why: &str| Unreadable {
        reason: format!("{subject} is not valid Parquet"),
        detail: format!("'{}': {why}", file.path.display()),
    };
    let read = |file: &FileStamp| -> io::Result<([u8; 4], [u8; 8])> {
        let mut handle = std::fs::File::open(&file.path)?;
        let mut head = [0u8; 4];
        handle.read_exact(&mut head)?;
        let mut tail = [0u8; 8];
        handle.seek(SeekFrom::End(-8))?;
        handle.read_exact(&mut tail)?;
        Ok((head, tail))
    };
    const ENDS: u64 = 12;
    if file.len < ENDS {
        return Err(invalid("shorter than a Parquet file's header and footer"));
    }
    let (head, tail) = read(file)
        .map_err(|e| Unreadable::io(format!("{subject} cannot be read"), &file.path, &e))?;
    let magic = &tail[4..];
    if head != *PARQUET_MAGIC || (magic != PARQUET_MAGIC && magic != PARQUET_ENCRYPTED_MAGIC) {
        return Err(invalid("no Parquet magic bytes at its start and end"));
    }
    let metadata_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if metadata_len > file.len - ENDS {
        return Err(invalid(&format!(
            "the footer's metadata length {metadata_len} exceeds the file's {} bytes",
            file.len
        )));
    }
    Ok(())
}

/// The message of the error under DataFusion's contexts (which name files), on one line.
fn root_message(error: &DataFusionError) -> String {
    let mut current = error;
    for _ in 0..32 {
        match current {
            DataFusionError::Context(_, inner) => current = inner,
            DataFusionError::Diagnostic(_, inner) => current = inner,
            DataFusionError::Shared(inner) => current = inner,
            _ => break,
        }
    }
    current.to_string().replace(['\n', '\r'], " ")
}

/// Why a table cannot be read.
#[derive(Debug)]
struct Unreadable {
    /// For the client: names no server path.
    reason: String,
    /// For the server log: may name paths and the underlying error.
    detail: String,
}

impl Unreadable {
    /// A problem whose reason names no path, so that it is also the detail.
    fn plain(reason: String) -> Self {
        Unreadable {
            detail: reason.clone(),
            reason,
        }
    }

    fn io(reason: String, path: &Path, error: &io::Error) -> Self {
        let problem = if error.kind() == io::ErrorKind::NotFound {
            "it was not found"
        } else if error.kind() == io::ErrorKind::PermissionDenied {
            "permission denied"
        } else {
            "input/output error"
        };
        Unreadable {
            detail: format!("{reason} ('{}'): {error}", path.display()),
            reason: format!("{reason}: {problem}"),
        }
    }
}

/// Wraps a message in a DataFusion error that carries a [`ConnectorError::External`].
fn external(message: String) -> DataFusionError {
    DataFusionError::External(Box::new(ConnectorError::External(message)))
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

/// A supported file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Parquet,
    Csv,
    Json,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Parquet => "Parquet",
            Format::Csv => "CSV",
            Format::Json => "JSON",
        }
    }

    fn file_format(self) -> Arc<dyn FileFormat> {
        match self {
            // Predicates reach the Parquet scan and prune row groups and pages by their
            // statistics. Late materialisation (`pushdown_filters`) stays off, DataFusion's
            // default: measured on TPC-H SF1 it slows most scan-heavy queries.
            Format::Parquet => {
                Arc::new(ParquetFormat::new().with_options(TableParquetOptions::default()))
            }
            Format::Csv => Arc::new(CsvFormat::default().with_has_header(true)),
            Format::Json => Arc::new(JsonFormat::default().with_newline_delimited(true)),
        }
    }
}

/// Splits a data file's name into its stem, its extension (with the dot, as spelt) and its
/// format; `None` for other files.
fn data_file(name: &str) -> Option<(&str, &str, Format)> {
    let dot = name.rfind('.')?;
    let (stem, extension) = name.split_at(dot);
    if stem.is_empty() {
        return None;
    }
    let format = match extension.to_ascii_lowercase().as_str() {
        ".parquet" => Format::Parquet,
        ".csv" => Format::Csv,
        ".json" | ".ndjson" | ".jsonl" => Format::Json,
        _ => return None,
    };
    Some((stem, extension, format))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    File,
    Directory,
}

/// Whether an entry is a file or a directory, following symbolic links.
fn entry_kind(entry: &DirEntry) -> Option<EntryKind> {
    let file_type = entry.file_type().ok()?;
    let (is_dir, is_file) = if file_type.is_symlink() {
        let metadata = std::fs::metadata(entry.path()).ok()?;
        (metadata.is_dir(), metadata.is_file())
    } else {
        (file_type.is_dir(), file_type.is_file())
    };
    if is_dir {
        Some(EntryKind::Directory)
    } else if is_file {
        Some(EntryKind::File)
    } else {
        None
    }
}

/// The entry's name if it can be a schema or table: UTF-8, not hidden (`.` or `_` prefix),
/// no control characters.
fn visible_name(entry: &DirEntry) -> Option<String> {
    let name = entry.file_name().into_string().ok()?;
    let hidden = name.starts_with('.') || name.starts_with('_');
    (!hidden && !name.is_empty() && !name.chars().any(char::is_control)).then_some(name)
}

/// Where a table's data lives.
#[derive(Debug, Clone)]
enum TableSource {
    /// A single data file.
    File {
        path: PathBuf,
        extension: String,
        format: Format,
    },
    /// A directory of data files, possibly under `key=value` partition folders.
    Directory { path: PathBuf },
}

impl TableSource {
    fn path(&self) -> &Path {
        match self {
            TableSource::File { path, .. } | TableSource::Directory { path } => path,
        }
    }

    /// Lists the table's files; `None` if it no longer holds any.
    fn layout(&self) -> Result<Option<Layout>, Unreadable> {
        match self {
            TableSource::File {
                path,
                extension,
                format,
            } => {
                let metadata = std::fs::metadata(path).map_err(|e| {
                    Unreadable::io("the file cannot be accessed".to_string(), path, &e)
                })?;
                Ok(Some(Layout {
                    directory: false,
                    format: *format,
                    extension: extension.clone(),
                    partitions: Vec::new(),
                    files: vec![stamp(path.clone(), &metadata)],
                }))
            }
            TableSource::Directory { path } => directory_layout(path),
        }
    }
}

/// The schema directory's tables by lower-cased name (several sources under one name make the
/// name ambiguous). With `only`, other names are skipped without looking inside directories.
fn table_sources(dir: &Path, only: Option<&str>) -> io::Result<BTreeMap<String, Vec<TableSource>>> {
    let wanted = |name: &str| only.is_none_or(|only| only == name);
    let mut tables: BTreeMap<String, Vec<TableSource>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let Ok(entry) = entry else {
            continue;
        };
        let Some(name) = visible_name(&entry) else {
            continue;
        };
        match entry_kind(&entry) {
            Some(EntryKind::File) => {
                let Some((stem, extension, format)) = data_file(&name) else {
                    continue;
                };
                let lower = stem.to_lowercase();
                if wanted(&lower) {
                    tables.entry(lower).or_default().push(TableSource::File {
                        path: entry.path(),
                        extension: extension.to_string(),
                        format,
                    });
                }
            }
            Some(EntryKind::Directory) => {
                let path = entry.path();
                let lower = name.to_lowercase();
                if wanted(&lower) && holds_data(&path, 0) {
                    tables
                        .entry(lower)
                        .or_default()
                        .push(TableSource::Directory { path });
                }
            }
            None => {}
        }
    }
    for sources in tables.values_mut() {
        sources.sort_by(|a, b| a.path().cmp(b.path()));
    }
    Ok(tables)
}

/// Whether a directory holds a data file, directly or under `key=value` folders. Stops at the
/// first one found and reads no file contents.
fn holds_data(dir: &Path, depth: usize) -> bool {
    if depth > MAX_PARTITION_DEPTH {
        return false;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut partitions = Vec::new();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        match entry_kind(&entry) {
            Some(EntryKind::File) if data_file(&name).is_some() => return true,
            Some(EntryKind::Directory) if name.contains('=') => partitions.push(entry.path()),
            _ => {}
        }
    }
    partitions.iter().any(|p| holds_data(p, depth + 1))
}

/// What a table's files look like.
#[derive(Debug)]
struct Layout {
    directory: bool,
    format: Format,
    /// The extension every file has, as spelt (`.parquet`).
    extension: String,
    /// Partition columns from `key=value` folders, outermost first.
    partitions: Vec<(String, DataType)>,
    files: Vec<FileStamp>,
}

/// A data file found in a directory table.
#[derive(Debug)]
struct FoundFile {
    stamp: FileStamp,
    /// The `key=value` folders between the table directory and the file.
    folders: Vec<String>,
    extension: String,
    format: Format,
}

fn stamp(path: PathBuf, metadata: &std::fs::Metadata) -> FileStamp {
    FileStamp {
        path,
        len: metadata.len(),
        modified: metadata.modified().ok(),
    }
}

/// A file's path relative to its table's directory, for messages.
fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .ok()
        .and_then(Path::to_str)
        .map_or_else(|| "?".to_string(), str::to_string)
}

/// Lists a directory table, checking that its files share one format and one partition layout.
fn directory_layout(dir: &Path) -> Result<Option<Layout>, Unreadable> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut Vec::new(), &mut files)?;
    files.sort_by(|a, b| a.stamp.path.cmp(&b.stamp.path));
    let Some(first) = files.first() else {
        return Ok(None);
    };
    let name = |file: &FoundFile| relative(dir, &file.stamp.path);

    if let Some(other) = files.iter().find(|f| f.extension != first.extension) {
        return Err(Unreadable::plain(format!(
            "the directory mixes file types: '{}' ({}) and '{}' ({}); all files of a table must \
             have the same format and extension",
            name(first),
            first.format.name(),
            name(other),
            other.format.name()
        )));
    }

    let keys = |file: &FoundFile| -> Result<Vec<String>, Unreadable> {
        let mut keys: Vec<String> = Vec::new();
        for folder in &file.folders {
            let key = folder.split_once('=').map_or("", |(k, _)| k);
            if key.is_empty() {
                return Err(Unreadable::plain(format!(
                    "partition folder '{folder}' has no column name (in '{}')",
                    name(file)
                )));
            }
            if keys.iter().any(|k| k == key) {
                return Err(Unreadable::plain(format!(
                    "partition column '{key}' appears twice in '{}'",
                    name(file)
                )));
            }
            keys.push(key.to_string());
        }
        Ok(keys)
    };
    let first_keys = keys(first)?;
    let mut values: Vec<Vec<&str>> = vec![Vec::new(); first_keys.len()];
    for file in &files {
        let file_keys = keys(file)?;
        if file_keys != first_keys {
            return Err(Unreadable::plain(format!(
                "inconsistent partition folders: '{}' is under {:?} but '{}' is under {:?}",
                name(first),
                first_keys,
                name(file),
                file_keys
            )));
        }
        for (slot, folder) in values.iter_mut().zip(&file.folders) {
            slot.push(folder.split_once('=').map_or("", |(_, v)| v));
        }
    }
    let partitions = first_keys
        .into_iter()
        .zip(&values)
        .map(|(key, values)| (key, partition_type(values)))
        .collect();

    Ok(Some(Layout {
        directory: true,
        format: first.format,
        extension: first.extension.clone(),
        partitions,
        files: files.into_iter().map(|f| f.stamp).collect(),
    }))
}

/// Collects the data files of `dir` (inside the table directory `table`) and of its
/// `key=value` folders, as DataFusion's listing reads them (other subdirectories are ignored).
fn collect_files(
    table: &Path,
    dir: &Path,
    folders: &mut Vec<String>,
    out: &mut Vec<FoundFile>,
) -> Result<(), Unreadable> {
    let shown = || match relative(table, dir) {
        name if name.is_empty() => "the table's directory".to_string(),
        name => format!("directory '{name}'"),
    };
    if folders.len() > MAX_PARTITION_DEPTH {
        return Err(Unreadable::plain(format!(
            "partition folders nest deeper than {MAX_PARTITION_DEPTH} levels at {}",
            shown()
        )));
    }
    let unlistable = |e: io::Error| Unreadable::io(format!("cannot list {}", shown()), dir, &e);
    let entries = std::fs::read_dir(dir).map_err(unlistable)?;
    for entry in entries {
        let entry = entry.map_err(unlistable)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        match entry_kind(&entry) {
            Some(EntryKind::Directory) if name.contains('=') => {
                folders.push(name);
                collect_files(table, &entry.path(), folders, out)?;
                folders.pop();
            }
            Some(EntryKind::File) => {
                let Some((_, extension, format)) = data_file(&name) else {
                    continue;
                };
                let path = entry.path();
                let metadata = std::fs::metadata(&path).map_err(|e| {
                    Unreadable::io(
                        format!("cannot access '{}'", relative(table, &path)),
                        &path,
                        &e,
                    )
                })?;
                out.push(FoundFile {
                    stamp: stamp(path, &metadata),
                    folders: folders.clone(),
                    extension: extension.to_string(),
                    format,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// `bigint` when every value is an integer written canonically (`2024`, not `07`), else
/// `varchar`.
fn partition_type(values: &[&str]) -> DataType {
    let integers = !values.is_empty()
        && values
            .iter()
            .all(|v| v.parse::<i64>().is_ok_and(|n| n.to_string() == *v));
    if integers {
        DataType::Int64
    } else {
        DataType::Utf8
    }
}

/// A `file://` listing URL for a local path (directories end with `/`). The path is
/// percent-encoded so that no character is taken for a glob or URL syntax.
fn file_url(path: &Path, directory: bool) -> Result<ListingTableUrl, Unreadable> {
    let text = path.to_str().ok_or_else(|| Unreadable {
        reason: "the location's name is not valid UTF-8".to_string(),
        detail: format!("'{}' is not valid UTF-8", path.display()),
    })?;
    let mut url = String::with_capacity(text.len() + 8);
    url.push_str("file://");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            url.push(char::from(byte));
        } else {
            let _ = write!(url, "%{byte:02X}");
        }
    }
    if directory && !url.ends_with('/') {
        url.push('/');
    }
    ListingTableUrl::parse(&url).map_err(|e| Unreadable {
        reason: "the location is not valid".to_string(),
        detail: format!("invalid location '{url}': {e}"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use datafusion::arrow::array::{Array, Int64Array};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::arrow::util::display::array_value_to_string;
    use datafusion::prelude::{SessionConfig, SessionContext};

    /// Writes `text` to `root/relative`, creating parent directories.
    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Writes a Parquet file at `root/relative` from a SQL query.
    async fn write_parquet(root: &Path, relative: &str, query: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let ctx = SessionContext::new();
        ctx.sql(&format!(
            "COPY ({query}) TO '{}' STORED AS PARQUET",
            path.display()
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        assert!(path.is_file(), "{} was not written", path.display());
    }

    /// A lake with a `default` schema (CSV, JSON, Parquet), a `lake` schema with a
    /// Hive-partitioned table, a mixed-case schema and some hidden or ignored entries.
    async fn lake() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "default/people.csv",
            "id,name\n1,alice\n2,bob\n3,carol\n",
        );
        write(
            root,
            "default/events.jsonl",
            "{\"kind\":\"click\",\"n\":1}\n{\"kind\":\"view\",\"n\":2}\n",
        );
        write_parquet(
            root,
            "default/numbers.parquet",
            "SELECT * FROM (VALUES (1, 'one'), (2, 'two')) AS t(n, word)",
        )
        .await;
        write(root, "default/notes.txt", "not a table\n");
        write(root, "default/.hidden.csv", "a\n1\n");
        write_parquet(
            root,
            "lake/sales/year=2024/part.parquet",
            "SELECT * FROM (VALUES (1, 10.5), (2, 20.0)) AS t(id, amount)",
        )
        .await;
        write_parquet(
            root,
            "lake/sales/year=2025/part.parquet",
            "SELECT * FROM (VALUES (3, 30.0), (4, 40.0)) AS t(id, amount)",
        )
        .await;
        write(root, "lake/sales/_SUCCESS", "");
        write(root, "lake/empty/readme.md", "no data here\n");
        write(root, "Mixed/Data.CSV", "Value\n7\n8\n");
        write(root, "_staging/t.csv", "a\n1\n");
        write(root, ".git/t.csv", "a\n1\n");
        write(root, "information_schema/t.csv", "a\n1\n");
        write(root, "stray.csv", "a\n1\n");
        dir
    }

    fn connector(root: &Path) -> FilesystemConnector {
        FilesystemConnector::new("fs", root).unwrap()
    }

    fn context(connector: &FilesystemConnector) -> SessionContext {
        let ctx =
            SessionContext::new_with_config(SessionConfig::new().with_information_schema(true));
        ctx.register_catalog("fs", connector.catalog());
        ctx
    }

    async fn query(ctx: &SessionContext, sql: &str) -> DfResult<Vec<RecordBatch>> {
        ctx.sql(sql).await?.collect().await
    }

    /// The single `bigint` value of a one-row query.
    async fn scalar(ctx: &SessionContext, sql: &str) -> i64 {
        let batches = query(ctx, sql).await.unwrap();
        let batch = batches.iter().find(|b| b.num_rows() > 0).unwrap();
        let column = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        column.value(0)
    }

    /// The first column of a query, formatted.
    async fn column(ctx: &SessionContext, sql: &str) -> Vec<String> {
        let batches = query(ctx, sql).await.unwrap();
        let mut values = Vec::new();
        for batch in batches {
            let column = batch.column(0);
            for row in 0..column.len() {
                values.push(array_value_to_string(column, row).unwrap());
            }
        }
        values
    }

    #[tokio::test]
    async fn lists_schemas_and_tables() {
        let dir = lake().await;
        let connector = connector(dir.path());
        assert_eq!(connector.connector_name(), "filesystem");
        let catalog = connector.catalog();
        assert_eq!(catalog.schema_names(), vec!["default", "lake", "mixed"]);
        let default = catalog.schema("default").unwrap();
        assert_eq!(default.table_names(), vec!["events", "numbers", "people"]);
        assert!(default.table_exist("PEOPLE"));
        assert!(!default.table_exist("notes"));
        assert!(!default.table_exist("hidden"));
        let lake = catalog.schema("LAKE").unwrap();
        assert_eq!(lake.table_names(), vec!["sales"]);
        assert!(catalog.schema("missing").is_none());
        assert!(catalog.schema("information_schema").is_none());

        let ctx = context(&connector);
        let tables = column(
            &ctx,
            "SELECT table_schema || '.' || table_name FROM fs.information_schema.tables \
             WHERE table_schema <> 'information_schema' ORDER BY 1",
        )
        .await;
        assert_eq!(
            tables,
            vec![
                "default.events",
                "default.numbers",
                "default.people",
                "lake.sales",
                "mixed.data"
            ]
        );
    }

    #[tokio::test]
    async fn reads_csv_json_and_parquet() {
        let dir = lake().await;
        let connector = connector(dir.path());
        let ctx = context(&connector);
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.default.people").await,
            3
        );
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.default.events").await,
            2
        );
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.default.numbers").await,
            2
        );
        assert_eq!(
            column(
                &ctx,
                "SELECT name FROM fs.default.people WHERE id > 1 ORDER BY id"
            )
            .await,
            vec!["bob", "carol"]
        );
        assert_eq!(
            column(&ctx, "SELECT kind FROM fs.default.events WHERE n = 2").await,
            vec!["view"]
        );
        assert_eq!(
            column(&ctx, "SELECT word FROM fs.default.numbers ORDER BY n DESC").await,
            vec!["two", "one"]
        );
        // Names match case-insensitively; column names keep the files' spelling.
        assert_eq!(
            scalar(&ctx, "SELECT sum(\"Value\") FROM fs.mixed.data").await,
            15
        );
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.\"MIXED\".\"Data\"").await,
            2
        );
    }

    #[tokio::test]
    async fn partitioned_directory_table() {
        let dir = lake().await;
        let connector = connector(dir.path());
        let ctx = context(&connector);

        let table = ctx.table_provider("fs.lake.sales").await.unwrap();
        let schema = table.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, vec!["id", "amount", "year"]);
        assert_eq!(schema.field(2).data_type(), &DataType::Int64);

        assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.lake.sales").await, 4);
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.lake.sales WHERE year = 2025").await,
            2
        );
        assert_eq!(
            column(
                &ctx,
                "SELECT id FROM fs.lake.sales WHERE year = 2024 ORDER BY id"
            )
            .await,
            vec!["1", "2"]
        );
        assert_eq!(
            column(
                &ctx,
                "SELECT year FROM fs.lake.sales WHERE amount > 25 ORDER BY id"
            )
            .await,
            vec!["2025", "2025"]
        );

        // Predicates prune Parquet row groups by their statistics.
        let table = table.downcast_ref::<FilesystemTable>().unwrap();
        let parquet = table
            .inner
            .options()
            .format
            .downcast_ref::<ParquetFormat>()
            .unwrap();
        assert!(parquet.options().global.pruning);
    }

    #[tokio::test]
    async fn sees_files_added_later() {
        let dir = lake().await;
        let connector = connector(dir.path());
        let ctx = context(&connector);
        assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.lake.sales").await, 4);

        write(dir.path(), "default/later.csv", "x\n1\n2\n3\n4\n");
        write(dir.path(), "newschema/t.ndjson", "{\"a\":1}\n");
        write_parquet(
            dir.path(),
            "lake/sales/year=2026/part.parquet",
            "SELECT * FROM (VALUES (5, 50.0)) AS t(id, amount)",
        )
        .await;

        let catalog = connector.catalog();
        assert!(catalog.schema_names().contains(&"newschema".to_string()));
        assert!(
            catalog
                .schema("default")
                .unwrap()
                .table_names()
                .contains(&"later".to_string())
        );
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.default.later").await,
            4
        );
        assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.newschema.t").await, 1);
        assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.lake.sales").await, 5);
        assert_eq!(
            scalar(&ctx, "SELECT max(year) FROM fs.lake.sales").await,
            2026
        );

        // A changed file is re-inferred.
        write(dir.path(), "default/later.csv", "x,y\n1,2\n");
        assert_eq!(scalar(&ctx, "SELECT sum(y) FROM fs.default.later").await, 2);
    }

    #[tokio::test]
    async fn factory_takes_root_and_validates_it() {
        let dir = lake().await;
        let factory = FilesystemConnectorFactory;
        assert_eq!(factory.name(), "filesystem");

        let text = format!(
            "connector.name=filesystem\nfilesystem.root={}\nother.key=1\n",
            dir.path().display()
        );
        let mut properties =
            PropertyMap::parse(Path::new("etc/catalog/fs.properties"), &text, &|_| None).unwrap();
        let created = factory.create("fs", &mut properties).unwrap();
        assert_eq!(created.connector_name(), "filesystem");
        assert!(!properties.contains(ROOT_PROPERTY));
        assert!(properties.contains("other.key"));

        let mut properties =
            PropertyMap::parse(Path::new("etc/catalog/fs.properties"), "a=b\n", &|_| None).unwrap();
        let err = factory.create("fs", &mut properties).unwrap_err();
        assert!(matches!(
            err,
            ConnectorError::Config(PropertiesError::Missing { .. })
        ));
        assert_eq!(
            err.to_string(),
            "etc/catalog/fs.properties: missing required property 'filesystem.root'"
        );

        let missing = dir.path().join("nope");
        let text = format!("filesystem.root={}\n", missing.display());
        let mut properties =
            PropertyMap::parse(Path::new("etc/catalog/fs.properties"), &text, &|_| None).unwrap();
        let err = factory.create("fs", &mut properties).unwrap_err();
        assert!(matches!(
            err,
            ConnectorError::Config(PropertiesError::Invalid { .. })
        ));
        let message = err.to_string();
        assert!(
            message.starts_with("etc/catalog/fs.properties:1: property 'filesystem.root'"),
            "{message}"
        );
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );

        let file = dir.path().join("stray.csv");
        let text = format!("filesystem.root={}\n", file.display());
        let mut properties =
            PropertyMap::parse(Path::new("fs.properties"), &text, &|_| None).unwrap();
        let message = factory
            .create("fs", &mut properties)
            .unwrap_err()
            .to_string();
        assert!(message.contains("is not a directory"), "{message}");

        let err = FilesystemConnector::new("fs", &missing).unwrap_err();
        assert!(matches!(err, ConnectorError::External(_)));
        assert!(err.to_string().contains("Catalog 'fs'"), "{err}");
    }

    /// Asserts that `message` names no server path: neither the lake's root (in any form)
    /// nor anything under `/tmp`.
    fn assert_no_paths(message: &str, root: &Path) {
        let root = root.to_str().unwrap();
        assert!(!message.contains(root), "{message}");
        assert!(!message.contains(root.trim_start_matches('/')), "{message}");
        assert!(!message.contains("/tmp"), "{message}");
        assert!(!message.contains("file:"), "{message}");
    }

    #[tokio::test]
    async fn bad_files_fail_only_their_table() {
        let dir = lake().await;
        let root = dir.path();
        write(root, "default/ragged.csv", "a,b\n1,2\n3,4,5\n6\n");
        write(root, "default/broken.parquet", "this is not parquet");
        write(root, "default/garbage.json", "{\"a\": 1}\n{not json\n");
        write(root, "default/dup.csv", "a\n1\n");
        write(root, "default/dup.json", "{\"a\":1}\n");
        write(root, "lake/mixed/one.csv", "a\n1\n");
        write(root, "lake/mixed/two.jsonl", "{\"a\":1}\n");
        write(root, "lake/uneven/year=2024/a.csv", "a\n1\n");
        write(root, "lake/uneven/b.csv", "a\n1\n");
        write(root, "lake/nameless/=1/a.csv", "a\n1\n");
        write_parquet(root, "lake/conflict/a.parquet", "SELECT 1 AS x").await;
        write_parquet(root, "lake/conflict/b.parquet", "SELECT 'a' AS x").await;
        write(root, "lake/half/year=2024/x.parquet", "not parquet either");
        let connector = connector(root);
        let ctx = context(&connector);

        let default = connector.catalog().schema("default").unwrap();
        for table in ["broken", "dup", "garbage", "people", "ragged"] {
            assert!(
                default.table_names().contains(&table.to_string()),
                "{table}"
            );
        }

        for (sql, needle) in [
            (
                "SELECT * FROM fs.default.ragged",
                "Catalog 'fs' (filesystem connector): cannot read table 'default.ragged': the \
                 file is not valid CSV: Encountered unequal lengths between records on CSV file. \
                 Expected 2 records, found 3 records at line 3",
            ),
            (
                "SELECT * FROM fs.default.broken",
                "cannot read table 'default.broken': the file is not valid Parquet",
            ),
            (
                "SELECT * FROM fs.default.garbage",
                "cannot read table 'default.garbage': the file is not valid JSON: Not valid JSON",
            ),
            (
                "SELECT * FROM fs.default.dup",
                "table name 'default.dup' is ambiguous: it matches 'dup.csv', 'dup.json'",
            ),
            (
                "SELECT * FROM fs.lake.mixed",
                "the directory mixes file types: 'one.csv' (CSV) and 'two.jsonl' (JSON)",
            ),
            (
                "SELECT * FROM fs.lake.uneven",
                "inconsistent partition folders: 'b.csv' is under [] but 'year=2024/a.csv' is \
                 under [\"year\"]",
            ),
            (
                "SELECT * FROM fs.lake.nameless",
                "partition folder '=1' has no column name (in '=1/a.csv')",
            ),
            (
                "SELECT * FROM fs.lake.conflict",
                "a file of the table cannot be read as Parquet: Arrow error: Schema error: Fail \
                 to merge schema field 'x'",
            ),
            (
                "SELECT * FROM fs.lake.half",
                "cannot read table 'lake.half': a file of the table is not valid Parquet",
            ),
        ] {
            let message = match query(&ctx, sql).await {
                Ok(batches) => panic!("{sql} succeeded: {batches:?}"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(needle), "{sql}: {message}");
            assert!(!message.contains('\n'), "{sql}: {message}");
            assert_no_paths(&message, root);
        }

        // The other tables are unaffected.
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.default.people").await,
            3
        );
        assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.lake.sales").await, 4);
    }

    #[tokio::test]
    async fn scan_errors_have_a_message_without_paths() {
        let dir = lake().await;
        let root = dir.path();
        write(root, "default/gone.csv", "x\n1\n");
        let mut late = String::new();
        for i in 0..1100 {
            late.push_str(&format!("{{\"a\":{i}}}\n"));
        }
        late.push_str("{oops\n");
        write(root, "default/late.json", &late);
        let connector = connector(root);
        let ctx = context(&connector);

        // A file removed between planning and execution: DataFusion's error names its path,
        // the message for clients does not.
        let plan = ctx
            .sql("SELECT * FROM fs.default.gone")
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        std::fs::remove_file(root.join("default/gone.csv")).unwrap();
        let error = datafusion::physical_plan::collect(plan, ctx.task_ctx())
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains(root.to_str().unwrap()),
            "{error}"
        );
        let message = storage_error::client_message(&error).unwrap();
        assert_eq!(message, "A data file of the query was not found");

        // A malformed record past the rows read to infer the schema fails the scan.
        let error = query(&ctx, "SELECT * FROM fs.default.late")
            .await
            .unwrap_err();
        let message = storage_error::client_message(&error).unwrap();
        assert!(
            message.starts_with("A data file of the query is not valid JSON: "),
            "{message}"
        );
        assert_no_paths(&message, root);
    }

    #[tokio::test]
    async fn parquet_footers_are_checked_before_the_reader_trusts_them() {
        let dir = lake().await;
        let root = dir.path();
        // A footer claiming more metadata than the file holds made the reader panic.
        let mut lying = b"PAR1 this is not a parquet file ".to_vec();
        lying.extend_from_slice(&u32::MAX.to_le_bytes());
        lying.extend_from_slice(b"PAR1");
        std::fs::write(root.join("default/lying.parquet"), &lying).unwrap();
        std::fs::write(
            root.join("default/fil.parquet"),
            b"PAR1 this is not a parquet file PAR1",
        )
        .unwrap();
        std::fs::write(root.join("default/short.parquet"), b"PAR1PAR1").unwrap();
        write(root, "lake/parts/a.parquet", "PAR1 garbage PAR1");
        let connector = connector(root);
        let ctx = context(&connector);
        for (table, subject) in [
            ("default.lying", "the file"),
            ("default.fil", "the file"),
            ("default.short", "the file"),
            ("lake.parts", "a file of the table"),
        ] {
            let message = query(&ctx, &format!("SELECT * FROM fs.{table}"))
                .await
                .unwrap_err()
                .to_string();
            assert!(
                message.contains(&format!(
                    "cannot read table '{table}': {subject} is not valid Parquet"
                )),
                "{message}"
            );
            assert_no_paths(&message, root);
        }
        // Valid files pass the check.
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.default.numbers").await,
            2
        );
    }

    #[test]
    fn panics_are_described() {
        let text: Box<dyn std::any::Any + Send> = Box::new("boom");
        assert_eq!(panic_message(text.as_ref()), "boom");
        let owned: Box<dyn std::any::Any + Send> = Box::new(String::from("bang"));
        assert_eq!(panic_message(owned.as_ref()), "bang");
        let other: Box<dyn std::any::Any + Send> = Box::new(7);
        assert_eq!(panic_message(other.as_ref()), "(no message)");
    }

    #[test]
    fn scrub_removes_the_root_in_every_form() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("a b");
        std::fs::create_dir(&root).unwrap();
        let connector = connector(&root);
        let shared = &connector.catalog.shared;
        let path = shared.root.to_str().unwrap().to_string();
        let url = file_url(&shared.root, false).unwrap().as_str().to_string();
        for text in [
            format!("Object at location {path}/s/t.csv not found"),
            format!(
                "Object at location {}/s/t.csv not found",
                path.trim_start_matches('/')
            ),
            format!("Error reading {url}s/t.csv"),
            format!("at {}", url.trim_start_matches("file://")),
            "see /srv/other/place.csv".to_string(),
        ] {
            let scrubbed = shared.scrub(&text);
            assert_no_paths(&scrubbed, &shared.root);
            assert!(
                !scrubbed.contains("a b") && !scrubbed.contains("a%20b"),
                "{scrubbed}"
            );
        }
    }

    #[tokio::test]
    async fn rejects_writes() {
        let dir = lake().await;
        let connector = connector(dir.path());
        let ctx = context(&connector);
        for (sql, needle) in [
            (
                "CREATE TABLE fs.default.t AS SELECT 1 AS x",
                "does not support creating tables",
            ),
            (
                "CREATE TABLE fs.default.t (x INT)",
                "does not support creating tables",
            ),
            (
                "INSERT INTO fs.default.people VALUES (4, 'dan')",
                "does not support inserts",
            ),
            (
                "CREATE SCHEMA fs.newschema",
                "does not support creating schemas",
            ),
        ] {
            let message = match query(&ctx, sql).await {
                Ok(_) => panic!("{sql} succeeded"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(needle), "{sql}: {message}");
            assert!(
                message.contains("Catalog 'fs' (filesystem connector)"),
                "{message}"
            );
        }
        // DataFusion's own DROP TABLE reports any deregistration failure as a missing table,
        // so the provider's message is checked directly.
        let catalog = connector.catalog();
        let message = catalog
            .schema("default")
            .unwrap()
            .deregister_table("people")
            .unwrap_err()
            .to_string();
        assert!(
            message
                .contains("Catalog 'fs' (filesystem connector) does not support dropping tables"),
            "{message}"
        );
        let message = catalog
            .deregister_schema("default", true)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("does not support dropping schemas"),
            "{message}"
        );
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.default.people").await,
            3
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(
            data_file("a.parquet"),
            Some(("a", ".parquet", Format::Parquet))
        );
        assert_eq!(data_file("A.B.CSV"), Some(("A.B", ".CSV", Format::Csv)));
        assert_eq!(data_file("x.ndjson").map(|f| f.2), Some(Format::Json));
        assert_eq!(data_file(".csv"), None);
        assert_eq!(data_file("x.csv.gz"), None);
        assert_eq!(partition_type(&["2024", "-3"]), DataType::Int64);
        assert_eq!(partition_type(&["2024", "07"]), DataType::Utf8);
        assert_eq!(partition_type(&["us"]), DataType::Utf8);
        let url = file_url(Path::new("/data/a b[1]*/x=1/"), true).unwrap();
        assert_eq!(url.as_str(), "file:///data/a%20b%5B1%5D%2A/x%3D1/");
        assert!(url.get_glob().is_none());
    }
}
