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

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fmt::Write as _;
use std::fs::DirEntry;
use std::io;
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
use parking_lot::Mutex;
use vivace_common::{PropertiesError, PropertyMap};

use crate::{Connector, ConnectorError, ConnectorFactory, ConnectorResult};

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

impl ConnectorFactory for FilesystemConnectorFactory {
    fn name(&self) -> &'static str {
        CONNECTOR_NAME
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
        let fail = |message: String| {
            external(format!(
                "{}: cannot read table '{schema}.{table}' from '{}': {message}",
                self.prefix(),
                location.display()
            ))
        };
        let Some(layout) = source.layout().map_err(fail)? else {
            return Ok(None);
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
                let schema = options
                    .infer_schema(&self.inference, &url)
                    .await
                    .map_err(|e| fail(one_line(&e)))?;
                self.remember_schema(location, layout.files, Arc::clone(&schema));
                schema
            }
        };
        for (column, _) in &layout.partitions {
            if file_schema.field_with_name(column).is_ok() {
                return Err(fail(format!(
                    "partition column '{column}' is also a column of the files"
                )));
            }
        }

        let list_cache_key = layout.directory.then(|| TableScopedPath {
            table: url.get_table_ref().clone(),
            path: url.prefix().clone(),
        });
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(file_schema);
        let inner = ListingTable::try_new(config).map_err(|e| fail(one_line(&e)))?;
        Ok(Some(Arc::new(FilesystemTable {
            catalog: self.catalog.clone(),
            inner,
            list_cache_key,
        })))
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
/// `context: error`).
fn one_line(error: &DataFusionError) -> String {
    error
        .to_string()
        .replace("\ncaused by\n", ": ")
        .replace('\n', " ")
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
                    .map(|c| format!("'{}'", c.path().display()))
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
    fn layout(&self) -> Result<Option<Layout>, String> {
        match self {
            TableSource::File {
                path,
                extension,
                format,
            } => {
                let metadata =
                    std::fs::metadata(path).map_err(|e| format!("cannot access the file: {e}"))?;
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

/// Lists a directory table, checking that its files share one format and one partition layout.
fn directory_layout(dir: &Path) -> Result<Option<Layout>, String> {
    let mut files = Vec::new();
    collect_files(dir, &mut Vec::new(), &mut files)?;
    files.sort_by(|a, b| a.stamp.path.cmp(&b.stamp.path));
    let Some(first) = files.first() else {
        return Ok(None);
    };

    if let Some(other) = files.iter().find(|f| f.extension != first.extension) {
        return Err(format!(
            "the directory mixes file types: '{}' ({}) and '{}' ({}); all files of a table must \
             have the same format and extension",
            first.stamp.path.display(),
            first.format.name(),
            other.stamp.path.display(),
            other.format.name()
        ));
    }

    let keys = |file: &FoundFile| -> Result<Vec<String>, String> {
        let mut keys: Vec<String> = Vec::new();
        for folder in &file.folders {
            let key = folder.split_once('=').map_or("", |(k, _)| k);
            if key.is_empty() {
                return Err(format!(
                    "partition folder '{folder}' has no column name (in '{}')",
                    file.stamp.path.display()
                ));
            }
            if keys.iter().any(|k| k == key) {
                return Err(format!(
                    "partition column '{key}' appears twice in '{}'",
                    file.stamp.path.display()
                ));
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
            return Err(format!(
                "inconsistent partition folders: '{}' is under {:?} but '{}' is under {:?}",
                first.stamp.path.display(),
                first_keys,
                file.stamp.path.display(),
                file_keys
            ));
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

/// Collects the data files of `dir` and of its `key=value` folders, as DataFusion's listing
/// reads them (other subdirectories are ignored).
fn collect_files(
    dir: &Path,
    folders: &mut Vec<String>,
    out: &mut Vec<FoundFile>,
) -> Result<(), String> {
    if folders.len() > MAX_PARTITION_DEPTH {
        return Err(format!(
            "partition folders nest deeper than {MAX_PARTITION_DEPTH} levels at '{}'",
            dir.display()
        ));
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list directory '{}': {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list directory '{}': {e}", dir.display()))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        match entry_kind(&entry) {
            Some(EntryKind::Directory) if name.contains('=') => {
                folders.push(name);
                collect_files(&entry.path(), folders, out)?;
                folders.pop();
            }
            Some(EntryKind::File) => {
                let Some((_, extension, format)) = data_file(&name) else {
                    continue;
                };
                let path = entry.path();
                let metadata = std::fs::metadata(&path)
                    .map_err(|e| format!("cannot access '{}': {e}", path.display()))?;
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
fn file_url(path: &Path, directory: bool) -> Result<ListingTableUrl, String> {
    let text = path
        .to_str()
        .ok_or_else(|| "the path is not valid UTF-8".to_string())?;
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
    ListingTableUrl::parse(&url).map_err(|e| format!("invalid location '{url}': {e}"))
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
            ("SELECT * FROM fs.default.ragged", "ragged.csv"),
            ("SELECT * FROM fs.default.broken", "broken.parquet"),
            ("SELECT * FROM fs.default.garbage", "garbage.json"),
            ("SELECT * FROM fs.default.dup", "ambiguous"),
            ("SELECT * FROM fs.lake.mixed", "mixes file types"),
            (
                "SELECT * FROM fs.lake.uneven",
                "inconsistent partition folders",
            ),
        ] {
            let message = match query(&ctx, sql).await {
                Ok(batches) => panic!("{sql} succeeded: {batches:?}"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(needle), "{sql}: {message}");
            assert!(!message.contains('\n'), "{sql}: {message}");
        }
        let message = query(&ctx, "SELECT * FROM fs.lake.mixed")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(&root.join("lake/mixed").display().to_string()),
            "{message}"
        );

        // The other tables are unaffected.
        assert_eq!(
            scalar(&ctx, "SELECT count(*) FROM fs.default.people").await,
            3
        );
        assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.lake.sales").await, 4);
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
