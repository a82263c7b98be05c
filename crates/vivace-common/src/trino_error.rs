//! An error that already knows its Trino code, and positions in SQL text.

use std::fmt;

use crate::ErrorCode;

/// A 1-based position in the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLocation {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl SqlLocation {
    /// The position of byte `offset` in `sql` (clamped to its length; columns count
    /// characters).
    pub fn of_offset(sql: &str, offset: usize) -> SqlLocation {
        let mut end = offset.min(sql.len());
        while !sql.is_char_boundary(end) {
            end -= 1;
        }
        let before = &sql[..end];
        let line = before.matches('\n').count() as u32 + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
        SqlLocation { line, column }
    }
}

/// A failure with its Trino error code, a message for the user and, when known, where in the
/// SQL text it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrinoError {
    /// The Trino error code.
    pub code: ErrorCode,
    /// The message, without a location prefix.
    pub message: String,
    /// Where in the SQL text, if known.
    pub location: Option<SqlLocation>,
}

impl TrinoError {
    /// An error with no location.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        TrinoError {
            code,
            message: message.into(),
            location: None,
        }
    }

    /// An error at a position in the SQL text.
    pub fn at(code: ErrorCode, message: impl Into<String>, location: Option<SqlLocation>) -> Self {
        TrinoError {
            code,
            message: message.into(),
            location,
        }
    }
}

impl fmt::Display for TrinoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TrinoError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let sql = "SELECT\n  é, x";
        assert_eq!(
            SqlLocation::of_offset(sql, 0),
            SqlLocation { line: 1, column: 1 }
        );
        assert_eq!(
            SqlLocation::of_offset(sql, 9),
            SqlLocation { line: 2, column: 3 }
        );
        // Inside the two bytes of `é`: the column of `é`.
        assert_eq!(
            SqlLocation::of_offset(sql, 10),
            SqlLocation { line: 2, column: 3 }
        );
        assert_eq!(
            SqlLocation::of_offset(sql, 1_000),
            SqlLocation { line: 2, column: 7 }
        );
    }
}
