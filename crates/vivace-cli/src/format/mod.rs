//! Result output formats, as the Trino CLI names and prints them (`--output-format`).
//!
//! Every format renders a whole result: the columns with their types and the rows as the
//! protocol sent them (JSON values). Column types decide alignment and value text.

mod delimited;
mod table;
mod value;

use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use vivace_protocol::Column;

pub use value::{ValueStyle, value_text};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A table with a centred header, a separator and a `(N rows)` footer.
    Aligned,
    /// One `-[ RECORD n ]` block per row.
    Vertical,
    /// Quoted comma-separated values, no header.
    Csv,
    /// Quoted comma-separated values with a header.
    CsvHeader,
    /// Unquoted comma-separated values, no header.
    CsvUnquoted,
    /// Unquoted comma-separated values with a header.
    CsvHeaderUnquoted,
    /// Tab-separated values, no header.
    Tsv,
    /// Tab-separated values with a header.
    TsvHeader,
    /// One JSON object per row.
    Json,
    /// A Markdown table.
    Markdown,
    /// Nothing (the query still runs to the end).
    Null,
}

impl OutputFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [OutputFormat; 11] = [
        OutputFormat::Aligned,
        OutputFormat::Vertical,
        OutputFormat::Csv,
        OutputFormat::CsvHeader,
        OutputFormat::CsvUnquoted,
        OutputFormat::CsvHeaderUnquoted,
        OutputFormat::Tsv,
        OutputFormat::TsvHeader,
        OutputFormat::Json,
        OutputFormat::Markdown,
        OutputFormat::Null,
    ];

    /// The Trino CLI's name of the format.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Aligned => "ALIGNED",
            OutputFormat::Vertical => "VERTICAL",
            OutputFormat::Csv => "CSV",
            OutputFormat::CsvHeader => "CSV_HEADER",
            OutputFormat::CsvUnquoted => "CSV_UNQUOTED",
            OutputFormat::CsvHeaderUnquoted => "CSV_HEADER_UNQUOTED",
            OutputFormat::Tsv => "TSV",
            OutputFormat::TsvHeader => "TSV_HEADER",
            OutputFormat::Json => "JSON",
            OutputFormat::Markdown => "MARKDOWN",
            OutputFormat::Null => "NULL",
        }
    }

    /// Whether the format can print rows page by page (each row on its own); the tables
    /// need every row first to size their columns.
    pub fn streams(self) -> bool {
        !matches!(
            self,
            OutputFormat::Aligned | OutputFormat::Vertical | OutputFormat::Markdown
        )
    }

    /// Renders one page of a streamed result; the header (of formats that have one) only
    /// when `first`. Only for formats that [`OutputFormat::streams`].
    pub fn render_page(self, columns: &[Column], rows: &[Vec<Value>], first: bool) -> String {
        match self {
            OutputFormat::Csv => delimited::csv(columns, rows, false, true),
            OutputFormat::CsvHeader => delimited::csv(columns, rows, first, true),
            OutputFormat::CsvUnquoted => delimited::csv(columns, rows, false, false),
            OutputFormat::CsvHeaderUnquoted => delimited::csv(columns, rows, first, false),
            OutputFormat::Tsv => delimited::tsv(columns, rows, false),
            OutputFormat::TsvHeader => delimited::tsv(columns, rows, first),
            _ => self.render(columns, rows),
        }
    }

    /// Renders a whole result.
    pub fn render(self, columns: &[Column], rows: &[Vec<Value>]) -> String {
        match self {
            OutputFormat::Aligned => table::aligned(columns, rows),
            OutputFormat::Vertical => table::vertical(columns, rows),
            OutputFormat::Markdown => table::markdown(columns, rows),
            OutputFormat::Csv => delimited::csv(columns, rows, false, true),
            OutputFormat::CsvHeader => delimited::csv(columns, rows, true, true),
            OutputFormat::CsvUnquoted => delimited::csv(columns, rows, false, false),
            OutputFormat::CsvHeaderUnquoted => delimited::csv(columns, rows, true, false),
            OutputFormat::Tsv => delimited::tsv(columns, rows, false),
            OutputFormat::TsvHeader => delimited::tsv(columns, rows, true),
            OutputFormat::Json => delimited::json_lines(columns, rows),
            OutputFormat::Null => String::new(),
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OutputFormat {
    type Err = String;

    /// Case-insensitive, as the Trino CLI accepts them.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OutputFormat::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = OutputFormat::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown output format '{text}' (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use vivace_protocol::Column;
    use vivace_protocol::types::{
        ClientTypeSignature, NamedTypeSignature, RowFieldName, TypeArgument,
    };

    use super::*;

    pub(crate) fn sig(raw: &str, arguments: Vec<TypeArgument>) -> ClientTypeSignature {
        ClientTypeSignature {
            raw_type: raw.to_string(),
            arguments,
        }
    }

    pub(crate) fn column(name: &str, raw: &str) -> Column {
        Column {
            name: name.to_string(),
            type_name: raw.to_string(),
            type_signature: sig(raw, Vec::new()),
        }
    }

    pub(crate) fn row_type(fields: &[(&str, &str)]) -> ClientTypeSignature {
        sig(
            "row",
            fields
                .iter()
                .map(|(name, raw)| {
                    TypeArgument::NamedType(NamedTypeSignature {
                        field_name: Some(RowFieldName {
                            name: name.to_string(),
                        }),
                        type_signature: sig(raw, Vec::new()),
                    })
                })
                .collect(),
        )
    }

    /// id bigint, name varchar: (1, alice), (2, NULL).
    pub(crate) fn sample() -> (Vec<Column>, Vec<Vec<Value>>) {
        (
            vec![column("id", "bigint"), column("name", "varchar")],
            vec![
                vec![Value::from(1), Value::from("alice")],
                vec![Value::from(2), Value::Null],
            ],
        )
    }

    #[test]
    fn names_parse_case_insensitively() {
        assert_eq!("csv_header".parse(), Ok(OutputFormat::CsvHeader));
        assert_eq!("Aligned".parse(), Ok(OutputFormat::Aligned));
        let err = "XML".parse::<OutputFormat>().unwrap_err();
        assert!(err.starts_with("unknown output format 'XML' (expected one of ALIGNED, VERTICAL"));
        for format in OutputFormat::ALL {
            assert_eq!(format.name().parse(), Ok(format));
        }
    }

    #[test]
    fn streamed_pages_print_the_header_once() {
        let (columns, rows) = sample();
        let first = OutputFormat::CsvHeader.render_page(&columns, &rows[..1], true);
        let second = OutputFormat::CsvHeader.render_page(&columns, &rows[1..], false);
        assert_eq!(
            first + &second,
            OutputFormat::CsvHeader.render(&columns, &rows)
        );
        assert!(!OutputFormat::Aligned.streams());
        assert!(OutputFormat::Json.streams());
    }

    #[test]
    fn null_format_prints_nothing() {
        let (columns, rows) = sample();
        assert_eq!(OutputFormat::Null.render(&columns, &rows), "");
    }
}
