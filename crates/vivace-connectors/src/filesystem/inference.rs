//! Schema inference with its cache of inferred schemas, and what a client may be told when a
//! file cannot be read.

use super::*;

/// A private session used only for schema inference: `SchemaProvider::table` receives no
/// session. Its file-listing cache is off so that new files are always seen.
pub(super) fn inference_state(catalog: &str) -> ConnectorResult<SessionState> {
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
pub(super) struct Shared {
    pub(super) catalog: String,
    pub(super) root: PathBuf,
    pub(super) inference: SessionState,
    /// Inferred file schemas by table location, valid while the files are unchanged.
    pub(super) schemas: Mutex<HashMap<PathBuf, CachedSchema>>,
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
pub(super) struct CachedSchema {
    pub(super) files: Vec<FileStamp>,
    pub(super) schema: SchemaRef,
}

/// A data file's identity for schema caching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileStamp {
    pub(super) path: PathBuf,
    pub(super) len: u64,
    pub(super) modified: Option<SystemTime>,
}

impl Shared {
    pub(super) fn prefix(&self) -> String {
        format!("Catalog '{}' ({CONNECTOR_NAME} connector)", self.catalog)
    }

    /// Schema directories by lower-cased name; each name's directories are sorted.
    pub(super) fn schema_dirs(&self) -> BTreeMap<String, Vec<String>> {
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
    pub(super) fn resolve_schema(&self, name: &str) -> Option<(String, PathBuf)> {
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
    pub(super) async fn load_table(
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
    pub(super) fn unreadable(
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
    pub(super) fn read_reason(
        &self,
        subject: &str,
        format: Format,
        error: &DataFusionError,
    ) -> String {
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
    pub(super) fn scrub(&self, text: &str) -> String {
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

    pub(super) fn cached_schema(&self, location: &Path, files: &[FileStamp]) -> Option<SchemaRef> {
        let schemas = self.schemas.lock();
        let cached = schemas.get(location)?;
        (cached.files == files).then(|| Arc::clone(&cached.schema))
    }

    pub(super) fn remember_schema(
        &self,
        location: &Path,
        files: Vec<FileStamp>,
        schema: SchemaRef,
    ) {
        let mut schemas = self.schemas.lock();
        if schemas.len() >= MAX_CACHED_SCHEMAS && !schemas.contains_key(location) {
            schemas.clear();
        }
        schemas.insert(location.to_path_buf(), CachedSchema { files, schema });
    }
}

/// A DataFusion error's message on one line (`context\ncaused by\nerror` becomes
/// `context: error`), for the server log.
pub(super) fn one_line(error: &DataFusionError) -> String {
    error
        .to_string()
        .replace("\ncaused by\n", ": ")
        .replace('\n', " ")
}

/// What a panic said, if it said it with a string.
pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// The bytes at both ends of a Parquet file: `PAR1` first; last, the footer's metadata length
/// and `PAR1` (`PARE` when the footer is encrypted).
pub(super) const PARQUET_MAGIC: &[u8; 4] = b"PAR1";
pub(super) const PARQUET_ENCRYPTED_MAGIC: &[u8; 4] = b"PARE";

/// Checks that a Parquet file's footer fits in the file before a reader trusts it (some
/// versions of the Parquet reader panic on a metadata length larger than the file).
pub(super) fn check_parquet_footer(file: &FileStamp, subject: &str) -> Result<(), Unreadable> {
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
pub(super) fn root_message(error: &DataFusionError) -> String {
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
pub(super) struct Unreadable {
    /// For the client: names no server path.
    pub(super) reason: String,
    /// For the server log: may name paths and the underlying error.
    pub(super) detail: String,
}

impl Unreadable {
    /// A problem whose reason names no path, so that it is also the detail.
    pub(super) fn plain(reason: String) -> Self {
        Unreadable {
            detail: reason.clone(),
            reason,
        }
    }

    pub(super) fn io(reason: String, path: &Path, error: &io::Error) -> Self {
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
pub(super) fn external(message: String) -> DataFusionError {
    DataFusionError::External(Box::new(ConnectorError::External(message)))
}
