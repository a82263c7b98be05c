//! Errors from reading stored data, as clients may see them.
//!
//! Reading data files fails with errors that embed server internals: object-store errors name
//! the object's path (`Object at location srv/lake/t.parquet not found`), local-file errors
//! the file (`Unable to open file /srv/lake/t.parquet: ...`), DataFusion adds contexts such
//! as `Error when processing CSV file srv/lake/t.csv`, and Parquet wraps all of these. This
//! module recognises such errors, whatever wraps them, and says what went wrong without any
//! path: which file it was is for the server log. The text of a malformed CSV or JSON record
//! is kept, since it quotes the data the client asked for, not the server.

use std::error::Error as StdError;
use std::io;

use arrow::error::ArrowError;
use datafusion::common::DataFusionError;
use datafusion::object_store;
use datafusion::parquet::errors::ParquetError;

/// Longest data detail kept in a message, in characters.
const MAX_DETAIL_CHARS: usize = 300;

/// How deep wrapped errors are followed.
const MAX_DEPTH: usize = 32;

/// What went wrong reading stored data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageProblem {
    /// A file or object does not exist (any more).
    NotFound,
    /// The server may not read it.
    PermissionDenied,
    /// It is not a valid Parquet file.
    NotParquet,
    /// A CSV record is malformed; the reader's message, without paths.
    BadCsv(String),
    /// A JSON record is malformed; the reader's message, without paths.
    BadJson(String),
    /// Any other failure to read it.
    Unreadable,
}

impl StorageProblem {
    /// The problem as a sentence about `subject` (`the file`, `a data file`, ...).
    pub fn describe(&self, subject: &str) -> String {
        match self {
            StorageProblem::NotFound => format!("{subject} was not found"),
            StorageProblem::PermissionDenied => {
                format!("{subject} cannot be read: permission denied")
            }
            StorageProblem::NotParquet => format!("{subject} is not valid Parquet"),
            StorageProblem::BadCsv(detail) => format!("{subject} is not valid CSV: {detail}"),
            StorageProblem::BadJson(detail) => format!("{subject} is not valid JSON: {detail}"),
            StorageProblem::Unreadable => format!("{subject} cannot be read"),
        }
    }
}

/// The storage problem behind `error`, if reading stored data is what failed.
pub fn storage_problem(error: &DataFusionError) -> Option<StorageProblem> {
    datafusion_problem(error, 0)
}

/// A message for clients when `error` comes from reading stored data (`None` otherwise: the
/// error is not about storage and is classified as usual). It names no path; log `error`
/// itself on the server for the detail.
pub fn client_message(error: &DataFusionError) -> Option<String> {
    storage_problem(error).map(|problem| {
        let mut text = problem.describe("a data file of the query");
        if let Some(first) = text.get(..1) {
            text.replace_range(..1, &first.to_uppercase());
        }
        text
    })
}

fn datafusion_problem(error: &DataFusionError, depth: usize) -> Option<StorageProblem> {
    if depth > MAX_DEPTH {
        return None;
    }
    match error {
        DataFusionError::Context(_, inner) => datafusion_problem(inner, depth + 1),
        DataFusionError::Shared(inner) => datafusion_problem(inner, depth + 1),
        DataFusionError::Diagnostic(_, inner) => datafusion_problem(inner, depth + 1),
        DataFusionError::Collection(errors) => {
            errors.iter().find_map(|e| datafusion_problem(e, depth + 1))
        }
        DataFusionError::ArrowError(arrow, _) => arrow_problem(arrow, depth + 1),
        DataFusionError::ParquetError(parquet) => parquet_problem(parquet, depth + 1),
        DataFusionError::ObjectStore(store) => Some(object_store_problem(store)),
        DataFusionError::IoError(e) => Some(io_problem(e)),
        DataFusionError::External(inner) => external_problem(inner.as_ref(), depth + 1),
        _ => None,
    }
}

fn external_problem(error: &(dyn StdError + 'static), depth: usize) -> Option<StorageProblem> {
    if depth > MAX_DEPTH {
        return None;
    }
    if let Some(e) = error.downcast_ref::<DataFusionError>() {
        datafusion_problem(e, depth)
    } else if let Some(e) = error.downcast_ref::<ArrowError>() {
        arrow_problem(e, depth)
    } else if let Some(e) = error.downcast_ref::<ParquetError>() {
        parquet_problem(e, depth)
    } else if let Some(e) = error.downcast_ref::<object_store::Error>() {
        Some(object_store_problem(e))
    } else {
        error.downcast_ref::<io::Error>().map(io_problem)
    }
}

fn arrow_problem(error: &ArrowError, depth: usize) -> Option<StorageProblem> {
    match error {
        ArrowError::CsvError(message) => Some(StorageProblem::BadCsv(data_detail(message))),
        ArrowError::JsonError(message) => Some(StorageProblem::BadJson(data_detail(message))),
        ArrowError::ParquetError(_) => Some(StorageProblem::NotParquet),
        ArrowError::IoError(_, e) => Some(io_problem(e)),
        ArrowError::ExternalError(inner) => external_problem(inner.as_ref(), depth + 1),
        _ => None,
    }
}

fn parquet_problem(error: &ParquetError, depth: usize) -> Option<StorageProblem> {
    match error {
        // Reading through the object store: what failed is the store, not the format.
        ParquetError::External(inner) => {
            Some(external_problem(inner.as_ref(), depth + 1).unwrap_or(StorageProblem::Unreadable))
        }
        _ => Some(StorageProblem::NotParquet),
    }
}

fn object_store_problem(error: &object_store::Error) -> StorageProblem {
    match error {
        object_store::Error::NotFound { .. } => StorageProblem::NotFound,
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => StorageProblem::PermissionDenied,
        object_store::Error::Generic { source, .. } => match source_io_error(source.as_ref()) {
            Some(e) => io_problem(e),
            None => StorageProblem::Unreadable,
        },
        _ => StorageProblem::Unreadable,
    }
}

/// The first `io::Error` in an error's source chain.
fn source_io_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    let mut current: Option<&'a (dyn StdError + 'static)> = Some(error);
    for _ in 0..MAX_DEPTH {
        let error = current?;
        if let Some(io) = error.downcast_ref::<io::Error>() {
            return Some(io);
        }
        current = error.source();
    }
    None
}

fn io_problem(error: &io::Error) -> StorageProblem {
    match error.kind() {
        io::ErrorKind::NotFound => StorageProblem::NotFound,
        io::ErrorKind::PermissionDenied => StorageProblem::PermissionDenied,
        _ => StorageProblem::Unreadable,
    }
}

/// A reader's message about a malformed record, with anything that looks like a path
/// replaced by `<path>`, on one line and shortened.
pub(crate) fn data_detail(message: &str) -> String {
    let one_line = message.replace(['\n', '\r'], " ");
    let scrubbed = strip_paths(&one_line);
    if scrubbed.chars().count() > MAX_DETAIL_CHARS {
        format!(
            "{}...",
            scrubbed.chars().take(MAX_DETAIL_CHARS).collect::<String>()
        )
    } else {
        scrubbed
    }
}

/// Replaces each whitespace-separated word that looks like a file path or URL (`/a/b`,
/// `file:///a`, `s3://b/k`, `C:\a`) with `<path>`, keeping surrounding quotes and
/// punctuation.
pub fn strip_paths(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let start = word
            .find(|c: char| !matches!(c, '\'' | '"' | '(' | '[' | '`' | '<'))
            .unwrap_or(word.len());
        let core = &word[start..];
        let end = core
            .rfind(|c: char| {
                !matches!(
                    c,
                    '\'' | '"' | ')' | ']' | '`' | '>' | ',' | ';' | ':' | '.'
                )
            })
            .map_or(0, |i| {
                i + core[i..].chars().next().map_or(1, char::len_utf8)
            });
        let (path, tail) = core.split_at(end);
        if looks_like_path(path) {
            out.push_str(&word[..start]);
            out.push_str("<path>");
            out.push_str(tail);
        } else {
            out.push_str(word);
        }
    }
    out
}

fn looks_like_path(word: &str) -> bool {
    let url = word.find("://").is_some_and(|at| {
        at > 0
            && word[..at]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
    });
    let absolute = word.starts_with('/') && word[1..].contains('/');
    let windows = word.len() > 3
        && word.as_bytes()[0].is_ascii_alphabetic()
        && &word.as_bytes()[1..3] == b":\\";
    url || absolute || windows || word.starts_with("~/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(e: impl StdError + Send + Sync + 'static) -> Box<dyn StdError + Send + Sync> {
        Box::new(e)
    }

    fn not_found() -> object_store::Error {
        object_store::Error::NotFound {
            path: "srv/lake/tenant_a/t.parquet".to_string(),
            source: boxed(io::Error::new(io::ErrorKind::NotFound, "gone")),
        }
    }

    #[test]
    fn object_store_errors_lose_their_paths() {
        let error = DataFusionError::Context(
            "Error when processing CSV file srv/lake/tenant_a/t.csv".to_string(),
            Box::new(DataFusionError::ObjectStore(Box::new(not_found()))),
        );
        assert!(error.to_string().contains("srv/lake"));
        assert_eq!(storage_problem(&error), Some(StorageProblem::NotFound));
        let message = client_message(&error).unwrap();
        assert_eq!(message, "A data file of the query was not found");

        let generic = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: boxed(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "Unable to open file /srv/lake/x: denied",
            )),
        };
        let error = DataFusionError::External(boxed(ArrowError::ExternalError(boxed(generic))));
        assert_eq!(
            storage_problem(&error),
            Some(StorageProblem::PermissionDenied)
        );
    }

    #[test]
    fn parquet_errors_say_not_valid_parquet_or_unreadable() {
        let error = DataFusionError::ParquetError(Box::new(ParquetError::General(
            "Invalid Parquet file. Corrupt footer".to_string(),
        )));
        assert_eq!(storage_problem(&error), Some(StorageProblem::NotParquet));
        let error =
            DataFusionError::ParquetError(Box::new(ParquetError::External(boxed(not_found()))));
        assert_eq!(storage_problem(&error), Some(StorageProblem::NotFound));
        let error =
            DataFusionError::ParquetError(Box::new(ParquetError::External(boxed(std::fmt::Error))));
        assert_eq!(storage_problem(&error), Some(StorageProblem::Unreadable));
    }

    #[test]
    fn csv_and_json_keep_the_record_detail_without_paths() {
        let error = DataFusionError::ArrowError(
            Box::new(ArrowError::CsvError(
                "incorrect number of fields for line 3, expected 2 got 3 in /srv/lake/t.csv"
                    .to_string(),
            )),
            None,
        );
        let message = client_message(&error).unwrap();
        assert_eq!(
            message,
            "A data file of the query is not valid CSV: incorrect number of fields for line 3, \
             expected 2 got 3 in <path>"
        );
        let error = DataFusionError::External(boxed(ArrowError::JsonError(
            "expected value at line 2\ncolumn 1".to_string(),
        )));
        assert_eq!(
            storage_problem(&error),
            Some(StorageProblem::BadJson(
                "expected value at line 2 column 1".to_string()
            ))
        );
        let long = "x".repeat(1000);
        assert_eq!(data_detail(&long).chars().count(), MAX_DETAIL_CHARS + 3);
    }

    #[test]
    fn other_errors_are_not_storage_errors() {
        for error in [
            DataFusionError::Plan("Table 'x' not found".to_string()),
            DataFusionError::ArrowError(Box::new(ArrowError::DivideByZero), None),
            DataFusionError::External(boxed(std::fmt::Error)),
            DataFusionError::Execution("bad".to_string()),
        ] {
            assert_eq!(storage_problem(&error), None, "{error}");
            assert_eq!(client_message(&error), None);
        }
        let mut deep = DataFusionError::ObjectStore(Box::new(not_found()));
        for _ in 0..100 {
            deep = DataFusionError::Context("c".to_string(), Box::new(deep));
        }
        assert_eq!(storage_problem(&deep), None);
    }

    #[test]
    fn paths_are_stripped() {
        for (text, expected) in [
            ("at '/srv/lake/a.csv'", "at '<path>'"),
            ("at /srv/lake/a.csv: bad", "at <path>: bad"),
            ("(file:///srv/lake/a.csv).", "(<path>)."),
            ("see s3://bucket/key", "see <path>"),
            ("C:\\data\\x.csv", "<path>"),
            ("a/b and 1/2 and /root", "a/b and 1/2 and /root"),
            ("value '2024/01/02' ok", "value '2024/01/02' ok"),
            ("", ""),
            ("é /a/é", "é <path>"),
        ] {
            assert_eq!(strip_paths(text), expected, "{text}");
        }
    }
}
