//! Noticing that a file changed without reading it: its modification time and size.

use std::path::Path;
use std::time::SystemTime;

/// A version of a file; `None` when it cannot be read.
pub(crate) type FileVersion = Option<(SystemTime, u64)>;

/// The file's current version.
pub(crate) fn file_version(path: &Path) -> FileVersion {
    std::fs::metadata(path)
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())))
}
