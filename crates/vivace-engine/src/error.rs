//! The engine's error type, and the classification of DataFusion errors into Trino codes.

use arrow::error::ArrowError;
use datafusion::common::{DataFusionError, SchemaError};
pub(crate) use vivace_common::SqlLocation;
use vivace_common::{ErrorCode, PropertiesError, TrinoError};
use vivace_spi::ConnectorError;

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A query-level error with a known Trino code.
    #[error("{message}")]
    Query {
        /// The Trino error code.
        code: ErrorCode,
        /// The message, without a location prefix.
        message: String,
        /// Where in the SQL text, if known.
        location: Option<SqlLocation>,
    },
    /// An error from DataFusion, classified by [`classify`].
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// An error from a connector.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// A configuration error.
    #[error(transparent)]
    Config(#[from] PropertiesError),
}

impl From<TrinoError> for EngineError {
    fn from(error: TrinoError) -> Self {
        EngineError::Query {
            code: error.code,
            message: error.message,
            location: error.location,
        }
    }
}

/// Result of engine operations.
pub type EngineResult<T> = Result<T, EngineError>;

impl EngineError {
    /// A query error with no location.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EngineError::Query {
            code,
            message: message.into(),
            location: None,
        }
    }

    /// A query error at a position in the SQL text.
    pub fn at(code: ErrorCode, message: impl Into<String>, location: Option<SqlLocation>) -> Self {
        EngineError::Query {
            code,
            message: message.into(),
            location,
        }
    }

    /// The code, message and location reported to the client.
    pub fn to_failure(&self, sql: &str) -> QueryFailure {
        let (code, message, location) = match self {
            EngineError::Query {
                code,
                message,
                location,
            } => (*code, message.clone(), *location),
            EngineError::DataFusion(e) => classify(e, sql),
            EngineError::Connector(e) => (e.error_code(), e.to_string(), None),
            EngineError::Config(e) => (ErrorCode::GENERIC_USER_ERROR, e.to_string(), None),
        };
        QueryFailure::new(code, message, location)
    }
}

/// Why a query failed, ready for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFailure {
    /// The Trino error code.
    pub code: ErrorCode,
    /// The message, prefixed with `line L:C: ` when the location is known.
    pub message: String,
    /// Where in the SQL text.
    pub location: Option<SqlLocation>,
}

impl QueryFailure {
    /// A failure; the location, if any, is prefixed to the message as Trino does.
    pub fn new(code: ErrorCode, message: String, location: Option<SqlLocation>) -> Self {
        let message = match location {
            Some(l) if !message.starts_with("line ") => {
                format!("line {}:{}: {message}", l.line, l.column)
            }
            _ => message,
        };
        QueryFailure {
            code,
            message,
            location,
        }
    }
}

impl From<ArrowError> for EngineError {
    fn from(e: ArrowError) -> Self {
        EngineError::DataFusion(DataFusionError::from(e))
    }
}

/// Maps a DataFusion error to a Trino code, a message without DataFusion's prefixes, and a
/// location when DataFusion or the parser knows one.
pub(crate) fn classify(
    error: &DataFusionError,
    sql: &str,
) -> (ErrorCode, String, Option<SqlLocation>) {
    // Storage failures name files and object-store locations: the client gets a description
    // without them, the server log the detail.
    if let Some(message) = vivace_spi::storage_error::client_message(error) {
        tracing::warn!("query failed reading stored data: {error}");
        return (ErrorCode::GENERIC_EXTERNAL, message, None);
    }
    let mut location = None;
    let mut current = error;
    loop {
        match current {
            DataFusionError::Context(_, inner) => current = inner,
            DataFusionError::Shared(inner) => current = inner,
            DataFusionError::Diagnostic(diagnostic, inner) => {
                if location.is_none() {
                    location = diagnostic.span.and_then(|span| {
                        (span.start.line > 0).then_some(SqlLocation {
                            line: span.start.line as u32,
                            column: span.start.column as u32,
                        })
                    });
                }
                current = inner;
            }
            DataFusionError::External(inner) => match inner.downcast_ref::<DataFusionError>() {
                Some(df) => current = df,
                None if inner.is::<EngineError>()
                    || inner.is::<TrinoError>()
                    || inner.is::<ConnectorError>() =>
                {
                    return typed_external(inner.as_ref(), sql, location);
                }
                None => match inner.downcast_ref::<ArrowError>() {
                    Some(arrow) => return with_location(classify_arrow(arrow), location),
                    None => {
                        return (ErrorCode::GENERIC_EXTERNAL, inner.to_string(), location);
                    }
                },
            },
            DataFusionError::Collection(errors) if !errors.is_empty() => current = &errors[0],
            _ => break,
        }
    }
    let (code, message) = match current {
        DataFusionError::SQL(parser_error, _) => {
            let text = parser_error.to_string();
            let (message, parsed_location) = vivace_sql::parse::split_location(&text);
            location = location.or(parsed_location);
            (ErrorCode::SYNTAX_ERROR, message)
        }
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound { field, .. } => {
                let name = field.name.clone();
                location = location.or_else(|| find_word(sql, &name));
                (
                    ErrorCode::COLUMN_NOT_FOUND,
                    format!("Column '{name}' cannot be resolved"),
                )
            }
            SchemaError::AmbiguousReference { field } => (
                ErrorCode::AMBIGUOUS_NAME,
                format!("Column '{}' is ambiguous", field.name),
            ),
            SchemaError::DuplicateQualifiedField { .. }
            | SchemaError::DuplicateUnqualifiedField { .. } => {
                (ErrorCode::DUPLICATE_COLUMN_NAME, schema_error.to_string())
            }
        },
        DataFusionError::ArrowError(arrow, _) => classify_arrow(arrow),
        DataFusionError::ResourcesExhausted(message) => (
            ErrorCode::EXCEEDED_LOCAL_MEMORY_LIMIT,
            format!("Query exceeded per-node memory limit: {message}"),
        ),
        DataFusionError::NotImplemented(message) => (ErrorCode::NOT_SUPPORTED, message.clone()),
        DataFusionError::Plan(message) | DataFusionError::Execution(message) => {
            classify_message(message)
        }
        DataFusionError::Configuration(message) => {
            (ErrorCode::INVALID_SESSION_PROPERTY, message.clone())
        }
        DataFusionError::ObjectStore(e) => (ErrorCode::GENERIC_EXTERNAL, e.to_string()),
        DataFusionError::ParquetError(e) => (ErrorCode::GENERIC_EXTERNAL, e.to_string()),
        DataFusionError::IoError(e) => (ErrorCode::GENERIC_EXTERNAL, e.to_string()),
        // DataFusion's own text adds a request to file a bug with DataFusion: not for clients.
        DataFusionError::Internal(message) => (
            ErrorCode::GENERIC_INTERNAL_ERROR,
            format!("Internal error: {message}"),
        ),
        other => (ErrorCode::GENERIC_INTERNAL_ERROR, other.to_string()),
    };
    (code, message, location)
}

/// An [`EngineError`], [`TrinoError`] or [`ConnectorError`] that travelled through DataFusion
/// keeps its code.
fn typed_external(
    inner: &(dyn std::error::Error + Send + Sync + 'static),
    sql: &str,
    location: Option<SqlLocation>,
) -> (ErrorCode, String, Option<SqlLocation>) {
    if let Some(engine) = inner.downcast_ref::<EngineError>() {
        let failure = engine.to_failure(sql);
        return (failure.code, failure.message, failure.location.or(location));
    }
    if let Some(trino) = inner.downcast_ref::<TrinoError>() {
        return (
            trino.code,
            trino.message.clone(),
            trino.location.or(location),
        );
    }
    match inner.downcast_ref::<ConnectorError>() {
        Some(connector) => (connector.error_code(), connector.to_string(), location),
        None => (ErrorCode::GENERIC_EXTERNAL, inner.to_string(), location),
    }
}

impl EngineError {
    /// This error as a DataFusion error that [`classify`] reads back with its code.
    pub fn into_datafusion(self) -> DataFusionError {
        DataFusionError::External(Box::new(self))
    }
}

fn with_location(
    (code, message): (ErrorCode, String),
    location: Option<SqlLocation>,
) -> (ErrorCode, String, Option<SqlLocation>) {
    (code, message, location)
}

fn classify_arrow(error: &ArrowError) -> (ErrorCode, String) {
    match error {
        ArrowError::DivideByZero => (ErrorCode::DIVISION_BY_ZERO, "Division by zero".into()),
        ArrowError::CastError(m) => (ErrorCode::INVALID_CAST_ARGUMENT, m.clone()),
        ArrowError::ParseError(m) => (ErrorCode::INVALID_CAST_ARGUMENT, m.clone()),
        ArrowError::ArithmeticOverflow(m) => (ErrorCode::NUMERIC_VALUE_OUT_OF_RANGE, m.clone()),
        ArrowError::ComputeError(m) if has_phrase_of(m, ErrorCode::NUMERIC_VALUE_OUT_OF_RANGE) => {
            (ErrorCode::NUMERIC_VALUE_OUT_OF_RANGE, m.clone())
        }
        ArrowError::InvalidArgumentError(m) => (ErrorCode::INVALID_FUNCTION_ARGUMENT, m.clone()),
        ArrowError::MemoryError(m) => (ErrorCode::EXCEEDED_LOCAL_MEMORY_LIMIT, m.clone()),
        ArrowError::ExternalError(inner) => match inner.downcast_ref::<DataFusionError>() {
            Some(df) => {
                let (code, message, _) = classify(df, "");
                (code, message)
            }
            None => (ErrorCode::GENERIC_EXTERNAL, inner.to_string()),
        },
        other => (ErrorCode::GENERIC_INTERNAL_ERROR, other.to_string()),
    }
}

/// How a phrase must appear in a lower-cased message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phrase {
    StartsWith(&'static str),
    Contains(&'static str),
}

/// The one list of error text Vivace reads: DataFusion's plan and execution errors carry only
/// a message, and these phrases of it (checked in order, lower-cased) pick the Trino code.
/// Every other error is classified by its type. Each phrase has a sample message in the test
/// `every_message_phrase_picks_its_code`.
const MESSAGE_PHRASES: &[(Phrase, ErrorCode)] = &[
    (
        Phrase::Contains("divide by zero"),
        ErrorCode::DIVISION_BY_ZERO,
    ),
    (
        Phrase::Contains("division by zero"),
        ErrorCode::DIVISION_BY_ZERO,
    ),
    (
        Phrase::StartsWith("invalid function"),
        ErrorCode::FUNCTION_NOT_FOUND,
    ),
    (
        Phrase::Contains("no function matches"),
        ErrorCode::FUNCTION_NOT_FOUND,
    ),
    (
        Phrase::Contains("cannot be cast"),
        ErrorCode::INVALID_CAST_ARGUMENT,
    ),
    (
        Phrase::Contains("cast error"),
        ErrorCode::INVALID_CAST_ARGUMENT,
    ),
    (
        Phrase::Contains("cannot infer common"),
        ErrorCode::TYPE_MISMATCH,
    ),
    (Phrase::Contains("type coercion"), ErrorCode::TYPE_MISMATCH),
    (
        Phrase::Contains("failed to coerce"),
        ErrorCode::TYPE_MISMATCH,
    ),
    (
        Phrase::Contains("unique expression names"),
        ErrorCode::DUPLICATE_COLUMN_NAME,
    ),
    (
        Phrase::Contains("must appear in the group by"),
        ErrorCode::EXPRESSION_NOT_AGGREGATE,
    ),
    (
        Phrase::Contains("projection references non-aggregate"),
        ErrorCode::EXPRESSION_NOT_AGGREGATE,
    ),
    (
        Phrase::Contains("overflow"),
        ErrorCode::NUMERIC_VALUE_OUT_OF_RANGE,
    ),
];

impl Phrase {
    fn is_in(self, lower: &str) -> bool {
        match self {
            Phrase::StartsWith(start) => lower.starts_with(start),
            Phrase::Contains(part) => lower.contains(part),
        }
    }
}

/// The first phrase of [`MESSAGE_PHRASES`] that `message` contains.
fn matching_phrase(message: &str) -> Option<(Phrase, ErrorCode)> {
    let lower = message.to_ascii_lowercase();
    MESSAGE_PHRASES
        .iter()
        .copied()
        .find(|(phrase, _)| phrase.is_in(&lower))
}

/// Whether `message` contains any phrase of [`MESSAGE_PHRASES`] that means `code`.
fn has_phrase_of(message: &str, code: ErrorCode) -> bool {
    let lower = message.to_ascii_lowercase();
    MESSAGE_PHRASES
        .iter()
        .any(|(phrase, meant)| *meant == code && phrase.is_in(&lower))
}

/// A plan or execution error's code, from its text.
fn classify_message(message: &str) -> (ErrorCode, String) {
    // Vivace's functions name their signatures; DataFusion wraps that in its coercion report.
    if let Some(start) = message.find("Unexpected parameters (") {
        let own = &message[start..];
        let end = own.find(". No function matches").unwrap_or(own.len());
        return (ErrorCode::FUNCTION_NOT_FOUND, own[..end].to_string());
    }
    match matching_phrase(message) {
        Some((_, ErrorCode::DIVISION_BY_ZERO)) => {
            (ErrorCode::DIVISION_BY_ZERO, "Division by zero".into())
        }
        Some((_, code)) => (code, message.to_string()),
        None => (ErrorCode::GENERIC_USER_ERROR, message.to_string()),
    }
}

/// The position of the first whole-word, case-insensitive occurrence of `word` in `sql`.
pub(crate) fn find_word(sql: &str, word: &str) -> Option<SqlLocation> {
    if word.is_empty() {
        return None;
    }
    let haystack = sql.to_lowercase();
    let needle = word.to_lowercase();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut search_from = 0;
    while let Some(found) = haystack[search_from..].find(&needle) {
        let start = search_from + found;
        let end = start + needle.len();
        let before = haystack[..start].chars().next_back();
        let after = haystack[end..].chars().next();
        if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
            return Some(SqlLocation::of_offset(sql, start));
        }
        search_from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_phrase_picks_its_code() {
        // One message per phrase, worded as DataFusion words it; each must be picked by its
        // own phrase, and every phrase must have a message here.
        let samples = [
            ("Divide by zero error", ErrorCode::DIVISION_BY_ZERO),
            ("Division by zero", ErrorCode::DIVISION_BY_ZERO),
            (
                "Invalid function 'nosuchfn'.\nDid you mean 'unhex'?",
                ErrorCode::FUNCTION_NOT_FOUND,
            ),
            (
                "Internal error: No function matches the given name and argument types \
                 'abs(Utf8)'. You might need to add explicit type casts.",
                ErrorCode::FUNCTION_NOT_FOUND,
            ),
            (
                "Expression 'x' of type Utf8 cannot be cast to Int64",
                ErrorCode::INVALID_CAST_ARGUMENT,
            ),
            (
                "Cast error: Cannot cast string 'abc' to value of Int64 type",
                ErrorCode::INVALID_CAST_ARGUMENT,
            ),
            (
                "Cannot infer common argument type for comparison operation Utf8 = Int64",
                ErrorCode::TYPE_MISMATCH,
            ),
            (
                "Error during type coercion of CASE branches: Utf8 and Int64",
                ErrorCode::TYPE_MISMATCH,
            ),
            (
                "Failed to coerce arguments to satisfy a call to 'abs' function",
                ErrorCode::TYPE_MISMATCH,
            ),
            (
                "Projections require unique expression names but the expression \"a\" at \
                 position 0 and \"a\" at position 1 have the same name.",
                ErrorCode::DUPLICATE_COLUMN_NAME,
            ),
            (
                "Column in SELECT must be in GROUP BY or an aggregate function: column \"a\" \
                 must appear in the GROUP BY clause or must be part of an aggregate function",
                ErrorCode::EXPRESSION_NOT_AGGREGATE,
            ),
            (
                "Projection references non-aggregate values: Expression t.a could not be \
                 resolved from available columns: count(*)",
                ErrorCode::EXPRESSION_NOT_AGGREGATE,
            ),
            (
                "Overflow happened on: 9223372036854775807 + 1",
                ErrorCode::NUMERIC_VALUE_OUT_OF_RANGE,
            ),
        ];
        let mut covered = Vec::new();
        for (message, code) in samples {
            let (phrase, picked) = matching_phrase(message).expect(message);
            assert_eq!(picked, code, "{message}");
            assert_eq!(classify_message(message).0, code, "{message}");
            covered.push(phrase);
        }
        for (phrase, _) in MESSAGE_PHRASES {
            assert!(covered.contains(phrase), "{phrase:?} has no sample message");
        }
        let plain = "Schema contains no field named x";
        assert_eq!(matching_phrase(plain), None);
        assert_eq!(classify_message(plain).0, ErrorCode::GENERIC_USER_ERROR);
        let overflow = ArrowError::ComputeError("Overflow happened on: 1 * 2".into());
        assert_eq!(
            classify_arrow(&overflow).0,
            ErrorCode::NUMERIC_VALUE_OUT_OF_RANGE
        );
        let cast_overflow = ArrowError::ComputeError("Cast error: value overflows Int8".into());
        assert_eq!(
            classify_arrow(&cast_overflow).0,
            ErrorCode::NUMERIC_VALUE_OUT_OF_RANGE
        );
        let other = ArrowError::ComputeError("Unsupported data type".into());
        assert_eq!(classify_arrow(&other).0, ErrorCode::GENERIC_INTERNAL_ERROR);
    }

    #[test]
    fn parser_locations_are_extracted() {
        let (message, location) = vivace_sql::parse::split_location(
            "sql parser error: Expected: end of statement, found: x at Line: 2, Column: 5",
        );
        assert_eq!(message, "Expected: end of statement, found: x");
        assert_eq!(location, Some(SqlLocation { line: 2, column: 5 }));
    }

    #[test]
    fn failures_prefix_location() {
        let failure = QueryFailure::new(
            ErrorCode::TABLE_NOT_FOUND,
            "Table 'a.b.c' does not exist".into(),
            Some(SqlLocation {
                line: 1,
                column: 15,
            }),
        );
        assert_eq!(failure.message, "line 1:15: Table 'a.b.c' does not exist");
    }

    #[test]
    fn words_are_located() {
        assert_eq!(
            find_word("SELECT x\nFROM tab", "tab"),
            Some(SqlLocation { line: 2, column: 6 })
        );
        assert_eq!(
            find_word("SELECT table1 FROM t", "t"),
            Some(SqlLocation {
                line: 1,
                column: 20
            })
        );
    }

    #[test]
    fn internal_errors_do_not_ask_clients_to_file_bugs() {
        let error = DataFusionError::Internal("schema mismatch".to_string());
        assert!(error.to_string().contains("bug report"));
        let (code, message, _) = classify(&error, "");
        assert_eq!(code, ErrorCode::GENERIC_INTERNAL_ERROR);
        assert_eq!(message, "Internal error: schema mismatch");
    }

    #[test]
    fn divide_by_zero_is_classified() {
        let error = DataFusionError::ArrowError(Box::new(ArrowError::DivideByZero), None);
        assert_eq!(classify(&error, "").0, ErrorCode::DIVISION_BY_ZERO);
    }

    #[test]
    fn typed_errors_keep_their_code_through_datafusion() {
        let typed = TrinoError::at(
            ErrorCode::TABLE_NOT_FOUND,
            "Table 'a.b.c' does not exist",
            Some(SqlLocation { line: 1, column: 3 }),
        );
        let wrapped = DataFusionError::Context(
            "while planning".to_string(),
            Box::new(DataFusionError::External(Box::new(typed))),
        );
        let (code, message, location) = classify(&wrapped, "");
        assert_eq!(code, ErrorCode::TABLE_NOT_FOUND);
        assert_eq!(message, "Table 'a.b.c' does not exist");
        assert_eq!(location, Some(SqlLocation { line: 1, column: 3 }));
    }

    #[test]
    fn words_after_text_that_lowercases_longer_are_located_safely() {
        // `İ` lowercases to two characters, so offsets in the lowercased text are not offsets
        // in the original; the location must still be a valid position, never a panic.
        let sql = "SELECT 'İİİİ', nosuch FROM t";
        assert!(find_word(sql, "nosuch").is_some());
    }
}
