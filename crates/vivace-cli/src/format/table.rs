//! Formats for people: ALIGNED, VERTICAL and MARKDOWN tables.

use serde_json::Value;
use unicode_width::UnicodeWidthStr;
use vivace_protocol::Column;

use super::value::{ValueStyle, value_text};

/// Whether a column's values are right-aligned.
fn numeric(column: &Column) -> bool {
    matches!(
        column.type_signature.raw_type.as_str(),
        "tinyint" | "smallint" | "integer" | "bigint" | "real" | "double" | "decimal"
    )
}

fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

fn texts(columns: &[Column], row: &[Value]) -> Vec<String> {
    columns
        .iter()
        .zip(row)
        .map(|(column, value)| value_text(value, &column.type_signature, ValueStyle::Table))
        .collect()
}

fn pad(text: &str, to: usize, right_align: bool) -> String {
    let fill = " ".repeat(to.saturating_sub(width(text)));
    if right_align {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

/// The Trino CLI's aligned table: centred header, `-+-` separator, numbers right-aligned,
/// a `+` closing every line of a multi-line value but its last, and a `(N rows)` footer.
pub(super) fn aligned(columns: &[Column], rows: &[Vec<Value>]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|row| texts(columns, row)).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let values = cells
                .iter()
                .filter_map(|row| row.get(i))
                .flat_map(|text| text.split('\n'))
                .map(width);
            values.chain([1, width(&column.name)]).max().unwrap_or(1)
        })
        .collect();
    let mut out = String::new();
    let header: Vec<String> = columns
        .iter()
        .zip(&widths)
        .map(|(column, &w)| {
            let room = w.saturating_sub(width(&column.name));
            format!(
                "{}{}{}",
                " ".repeat(room / 2 + 1),
                column.name,
                " ".repeat(room - room / 2 + 1)
            )
        })
        .collect();
    out.push_str(&header.join("|"));
    out.push('\n');
    let separator: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    out.push_str(&separator.join("+"));
    out.push('\n');
    // A single row has no continuation markers (the Trino CLI prints it in one batch).
    let markers = cells.len() > 1;
    for row in &cells {
        let lines: Vec<Vec<&str>> = row.iter().map(|text| text.split('\n').collect()).collect();
        let height = lines.iter().map(Vec::len).max().unwrap_or(1);
        for line in 0..height {
            let parts: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, column)| {
                    let value_lines = &lines[i];
                    let text = value_lines.get(line).copied().unwrap_or("");
                    let end = if markers && line + 1 < value_lines.len() {
                        "+"
                    } else {
                        " "
                    };
                    format!(" {}{end}", pad(text, widths[i], numeric(column)))
                })
                .collect();
            out.push_str(&parts.join("|"));
            out.push('\n');
        }
    }
    out.push_str(&match rows.len() {
        1 => "(1 row)\n".to_string(),
        n => format!("({n} rows)\n"),
    });
    out
}

/// One `-[ RECORD n ]` block per row, `name | value` lines; `(no rows)` when empty.
pub(super) fn vertical(columns: &[Column], rows: &[Vec<Value>]) -> String {
    if rows.is_empty() {
        return "(no rows)\n".to_string();
    }
    let cells: Vec<Vec<String>> = rows.iter().map(|row| texts(columns, row)).collect();
    let names_width = columns.iter().map(|c| width(&c.name)).max().unwrap_or(0);
    let values_width = cells
        .iter()
        .flatten()
        .flat_map(|text| text.split('\n'))
        .map(width)
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (number, row) in cells.iter().enumerate() {
        let mut header = format!("-[ RECORD {} ]", number + 1);
        if names_width + 1 >= header.len() {
            header = format!("{header:-<w$}+", w = names_width + 1);
        }
        out.push_str(&format!(
            "{header:-<w$}\n",
            w = names_width + values_width + 3
        ));
        for (column, text) in columns.iter().zip(row) {
            for (i, line) in text.split('\n').enumerate() {
                let label = if i == 0 { column.name.as_str() } else { "" };
                out.push_str(&format!("{} | {line}\n", pad(label, names_width, false)));
            }
        }
    }
    out
}

/// A Markdown table: cells padded to the column's alignment, `--:` under numeric columns,
/// Markdown's special characters escaped in values and newlines written as `<br>`.
pub(super) fn markdown(columns: &[Column], rows: &[Vec<Value>]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            texts(columns, row)
                .iter()
                .map(|t| markdown_escape(t))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let values = cells.iter().filter_map(|row| row.get(i)).map(|t| width(t));
            values.chain([1, width(&column.name)]).max().unwrap_or(1)
        })
        .collect();
    let line = |texts: Vec<&str>| {
        let parts: Vec<String> = texts
            .iter()
            .zip(columns.iter().zip(&widths))
            .map(|(text, (column, &w))| {
                if numeric(column) {
                    format!("{} ", pad(text, w + 1, true))
                } else {
                    format!(" {}", pad(text, w + 1, false))
                }
            })
            .collect();
        format!("|{}|\n", parts.join("|"))
    };
    let mut out = line(columns.iter().map(|c| c.name.as_str()).collect());
    let rule: Vec<String> = columns
        .iter()
        .zip(&widths)
        .map(|(column, &w)| {
            format!(
                " {}{}",
                "-".repeat(w),
                if numeric(column) { ":" } else { " " }
            )
        })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for row in &cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("<br>"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '(' | ')' | '#' | '+'
            | '!' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::format::OutputFormat;
    use crate::format::tests::{column, sample};

    #[test]
    fn aligned_table() {
        let (columns, rows) = sample();
        assert_eq!(
            OutputFormat::Aligned.render(&columns, &rows),
            " id | name  \n----+-------\n  1 | alice \n  2 | NULL  \n(2 rows)\n"
        );
        assert_eq!(
            OutputFormat::Aligned.render(&columns, &rows[..1]),
            " id | name  \n----+-------\n  1 | alice \n(1 row)\n"
        );
        assert_eq!(
            OutputFormat::Aligned.render(&columns, &[]),
            " id | name \n----+------\n(0 rows)\n"
        );
    }

    #[test]
    fn aligned_multi_line_and_wide_values() {
        let columns = vec![column("n", "integer"), column("text", "varchar")];
        let rows = vec![
            vec![json!(1), json!("one\ntwo")],
            vec![json!(22), json!("日本")],
        ];
        assert_eq!(
            OutputFormat::Aligned.render(&columns, &rows),
            " n  | text \n----+------\n  1 | one +\n    | two  \n 22 | 日本 \n(2 rows)\n"
        );
    }

    #[test]
    fn vertical_records() {
        let (columns, rows) = sample();
        assert_eq!(
            OutputFormat::Vertical.render(&columns, &rows),
            "-[ RECORD 1 ]\nid   | 1\nname | alice\n-[ RECORD 2 ]\nid   | 2\nname | NULL\n"
        );
        assert_eq!(OutputFormat::Vertical.render(&columns, &[]), "(no rows)\n");
        let long = vec![column("a_rather_long_column_name", "varchar")];
        assert_eq!(
            OutputFormat::Vertical.render(&long, &[vec![json!("v")]]),
            "-[ RECORD 1 ]-------------+--\na_rather_long_column_name | v\n"
        );
    }

    #[test]
    fn markdown_table() {
        let (columns, rows) = sample();
        assert_eq!(
            OutputFormat::Markdown.render(&columns, &rows),
            "| id | name  |\n| --:| ----- |\n|  1 | alice |\n|  2 | NULL  |\n"
        );
        let odd = vec![vec![json!(3), json!("a|b\n*c*")]];
        assert_eq!(
            OutputFormat::Markdown.render(&columns, &odd),
            "| id | name          |\n| --:| ------------- |\n|  3 | a\\|b<br>\\*c\\* |\n"
        );
    }
}
