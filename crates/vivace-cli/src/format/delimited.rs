//! CSV, TSV and JSON lines: one line per row, for programs to read.

use serde_json::Value;
use vivace_protocol::Column;
use vivace_protocol::types::{ClientTypeSignature, TypeArgument};

use super::value::{ValueStyle, value_text};

/// CSV as the Trino CLI writes it (opencsv): `,` between fields, `\n` after each row, every
/// field in quotes when `quoted`, a `"` in a value doubled, NULL an empty field.
pub(super) fn csv(columns: &[Column], rows: &[Vec<Value>], header: bool, quoted: bool) -> String {
    let field = |text: &str| {
        let text = text.replace('"', "\"\"");
        if quoted { format!("\"{text}\"") } else { text }
    };
    let mut out = String::new();
    if header {
        let names: Vec<String> = columns.iter().map(|c| field(&c.name)).collect();
        out.push_str(&names.join(","));
        out.push('\n');
    }
    for row in rows {
        let fields: Vec<String> = cells(columns, row).iter().map(|text| field(text)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// TSV: tabs between fields, NULL empty, and `\0 \b \f \n \r \t \\` escaped.
pub(super) fn tsv(columns: &[Column], rows: &[Vec<Value>], header: bool) -> String {
    let mut out = String::new();
    if header {
        let names: Vec<String> = columns.iter().map(|c| tsv_escape(&c.name)).collect();
        out.push_str(&names.join("\t"));
        out.push('\n');
    }
    for row in rows {
        let fields: Vec<String> = cells(columns, row)
            .iter()
            .map(|text| tsv_escape(text))
            .collect();
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    out
}

/// One JSON object per row, keys in column order. Nested values stay JSON (rows become
/// objects), where the Trino CLI fails; varbinary is hex text.
pub(super) fn json_lines(columns: &[Column], rows: &[Vec<Value>]) -> String {
    let mut out = String::new();
    for row in rows {
        let members: Vec<String> = columns
            .iter()
            .zip(row)
            .map(|(column, value)| {
                format!(
                    "{}:{}",
                    Value::from(column.name.as_str()),
                    json_value(value, &column.type_signature)
                )
            })
            .collect();
        out.push('{');
        out.push_str(&members.join(","));
        out.push_str("}\n");
    }
    out
}

/// A row's values as CSV/TSV text: empty for NULL, else the value's one-line text.
fn cells(columns: &[Column], row: &[Value]) -> Vec<String> {
    columns
        .iter()
        .zip(row)
        .map(|(column, value)| match value {
            Value::Null => String::new(),
            value => value_text(value, &column.type_signature, ValueStyle::OneLine),
        })
        .collect()
}

fn tsv_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

fn json_value(value: &Value, sig: &ClientTypeSignature) -> Value {
    match (value, sig.raw_type.as_str()) {
        (Value::String(_), "varbinary") => Value::from(value_text(value, sig, ValueStyle::OneLine)),
        (Value::Array(items), "row") => {
            let mut object = serde_json::Map::new();
            for (i, item) in items.iter().enumerate() {
                let (name, field_sig) = match sig.arguments.get(i) {
                    Some(TypeArgument::NamedType(field)) => (
                        field
                            .field_name
                            .as_ref()
                            .map(|n| n.name.clone())
                            .unwrap_or_else(|| format!("field{i}")),
                        field.type_signature.clone(),
                    ),
                    _ => (format!("field{i}"), sig.clone()),
                };
                object.insert(name, json_value(item, &field_sig));
            }
            Value::Object(object)
        }
        (Value::Array(items), _) => {
            let element = match sig.arguments.first() {
                Some(TypeArgument::Type(inner)) => inner.clone(),
                _ => sig.clone(),
            };
            Value::Array(
                items
                    .iter()
                    .map(|item| json_value(item, &element))
                    .collect(),
            )
        }
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::format::OutputFormat;
    use crate::format::tests::{column, sample};

    #[test]
    fn csv_family() {
        let (columns, rows) = sample();
        assert_eq!(
            OutputFormat::Csv.render(&columns, &rows),
            "\"1\",\"alice\"\n\"2\",\"\"\n"
        );
        assert_eq!(
            OutputFormat::CsvHeader.render(&columns, &rows),
            "\"id\",\"name\"\n\"1\",\"alice\"\n\"2\",\"\"\n"
        );
        assert_eq!(
            OutputFormat::CsvUnquoted.render(&columns, &rows),
            "1,alice\n2,\n"
        );
        assert_eq!(
            OutputFormat::CsvHeaderUnquoted.render(&columns, &rows),
            "id,name\n1,alice\n2,\n"
        );
        let quote = vec![vec![json!(3), json!("say \"hi\"\nbye")]];
        assert_eq!(
            OutputFormat::Csv.render(&columns, &quote),
            "\"3\",\"say \"\"hi\"\"\nbye\"\n"
        );
    }

    #[test]
    fn tsv_escapes() {
        let (columns, rows) = sample();
        assert_eq!(OutputFormat::Tsv.render(&columns, &rows), "1\talice\n2\t\n");
        assert_eq!(
            OutputFormat::TsvHeader.render(&columns, &rows),
            "id\tname\n1\talice\n2\t\n"
        );
        let odd = vec![vec![json!(3), json!("a\tb\\c\nd")]];
        assert_eq!(
            OutputFormat::Tsv.render(&columns, &odd),
            "3\ta\\tb\\\\c\\nd\n"
        );
    }

    #[test]
    fn json_lines_keep_column_order_and_types() {
        let (mut columns, mut rows) = sample();
        assert_eq!(
            OutputFormat::Json.render(&columns, &rows),
            "{\"id\":1,\"name\":\"alice\"}\n{\"id\":2,\"name\":null}\n"
        );
        columns.insert(0, column("z", "double"));
        rows[0].insert(0, json!(1.5));
        rows[1].insert(0, json!("NaN"));
        assert_eq!(
            OutputFormat::Json.render(&columns, &rows),
            "{\"z\":1.5,\"id\":1,\"name\":\"alice\"}\n{\"z\":\"NaN\",\"id\":2,\"name\":null}\n"
        );
    }
}
