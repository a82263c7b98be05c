//! How a directory lays out tables: formats by extension, hidden names, partition folders, and
//! the files of one table.

use super::*;

/// A supported file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Parquet,
    Csv,
    Json,
}

impl Format {
    pub(super) fn name(self) -> &'static str {
        match self {
            Format::Parquet => "Parquet",
            Format::Csv => "CSV",
            Format::Json => "JSON",
        }
    }

    pub(super) fn file_format(self) -> Arc<dyn FileFormat> {
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
pub(super) fn data_file(name: &str) -> Option<(&str, &str, Format)> {
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
pub(super) enum EntryKind {
    File,
    Directory,
}

/// Whether an entry is a file or a directory, following symbolic links.
pub(super) fn entry_kind(entry: &DirEntry) -> Option<EntryKind> {
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
pub(super) fn visible_name(entry: &DirEntry) -> Option<String> {
    let name = entry.file_name().into_string().ok()?;
    let hidden = name.starts_with('.') || name.starts_with('_');
    (!hidden && !name.is_empty() && !name.chars().any(char::is_control)).then_some(name)
}

/// Where a table's data lives.
#[derive(Debug, Clone)]
pub(super) enum TableSource {
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
    pub(super) fn path(&self) -> &Path {
        match self {
            TableSource::File { path, .. } | TableSource::Directory { path } => path,
        }
    }

    /// Lists the table's files; `None` if it no longer holds any.
    pub(super) fn layout(&self) -> Result<Option<Layout>, Unreadable> {
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
pub(super) fn table_sources(
    dir: &Path,
    only: Option<&str>,
) -> io::Result<BTreeMap<String, Vec<TableSource>>> {
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
pub(super) fn holds_data(dir: &Path, depth: usize) -> bool {
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
pub(super) struct Layout {
    pub(super) directory: bool,
    pub(super) format: Format,
    /// The extension every file has, as spelt (`.parquet`).
    pub(super) extension: String,
    /// Partition columns from `key=value` folders, outermost first.
    pub(super) partitions: Vec<(String, DataType)>,
    pub(super) files: Vec<FileStamp>,
}

/// A data file found in a directory table.
#[derive(Debug)]
pub(super) struct FoundFile {
    pub(super) stamp: FileStamp,
    /// The `key=value` folders between the table directory and the file.
    pub(super) folders: Vec<String>,
    pub(super) extension: String,
    pub(super) format: Format,
}

pub(super) fn stamp(path: PathBuf, metadata: &std::fs::Metadata) -> FileStamp {
    FileStamp {
        path,
        len: metadata.len(),
        modified: metadata.modified().ok(),
    }
}

/// A file's path relative to its table's directory, for messages.
pub(super) fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .ok()
        .and_then(Path::to_str)
        .map_or_else(|| "?".to_string(), str::to_string)
}

/// Lists a directory table, checking that its files share one format and one partition layout.
pub(super) fn directory_layout(dir: &Path) -> Result<Option<Layout>, Unreadable> {
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
pub(super) fn collect_files(
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
pub(super) fn partition_type(values: &[&str]) -> DataType {
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
pub(super) fn file_url(path: &Path, directory: bool) -> Result<ListingTableUrl, Unreadable> {
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
