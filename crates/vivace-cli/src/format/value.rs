//! One value as text, as the Trino CLI prints it: `NULL`, `[a, b]` for arrays, `{k=v}` for maps,
//! `{name=v}` for rows, hex for varbinary, Java's spelling of doubles.

use base64::Engine as _;
use serde_json::Value;
use vivace_protocol::types::{ClientTypeSignature, TypeArgument};

/// Where the text goes: tables and JSON keep binary values in lines of 16 bytes; CSV and TSV
/// put them on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueStyle {
    /// Tables (ALIGNED, VERTICAL, MARKDOWN).
    Table,
    /// CSV and TSV.
    OneLine,
}

/// The text of a non-null value of type `sig`; `NULL` for null (CSV and TSV check for null
/// themselves and print nothing).
pub fn value_text(value: &Value, sig: &ClientTypeSignature, style: ValueStyle) -> String {
    match value {
        Value::Null => "NULL".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match sig.raw_type.as_str() {
            "double" | "real" => n.as_f64().map(java_double).unwrap_or_else(|| n.to_string()),
            _ => n.to_string(),
        },
        Value::String(s) => match sig.raw_type.as_str() {
            "varbinary" => binary_text(s, style),
            _ => s.clone(),
        },
        Value::Array(items) => match sig.raw_type.as_str() {
            "row" => {
                let fields: Vec<String> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let (name, field_sig) = row_field(sig, i);
                        let text = value_text(item, &field_sig, style);
                        match name {
                            Some(name) => format!("{name}={text}"),
                            None => text,
                        }
                    })
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
            _ => {
                let element = type_argument(sig, 0);
                let texts: Vec<String> = items
                    .iter()
                    .map(|item| value_text(item, &element, style))
                    .collect();
                format!("[{}]", texts.join(", "))
            }
        },
        Value::Object(entries) => {
            let value_sig = type_argument(sig, 1);
            let texts: Vec<String> = entries
                .iter()
                .map(|(key, item)| format!("{key}={}", value_text(item, &value_sig, style)))
                .collect();
            format!("{{{}}}", texts.join(", "))
        }
    }
}

/// The `index`-th type argument (an array's element, a map's value), or `unknown`.
fn type_argument(sig: &ClientTypeSignature, index: usize) -> ClientTypeSignature {
    match sig.arguments.get(index) {
        Some(TypeArgument::Type(inner)) => inner.clone(),
        _ => unknown(),
    }
}

/// A row field's name and type.
fn row_field(sig: &ClientTypeSignature, index: usize) -> (Option<String>, ClientTypeSignature) {
    match sig.arguments.get(index) {
        Some(TypeArgument::NamedType(field)) => (
            field.field_name.as_ref().map(|name| name.name.clone()),
            field.type_signature.clone(),
        ),
        Some(TypeArgument::Type(inner)) => (None, inner.clone()),
        _ => (None, unknown()),
    }
}

fn unknown() -> ClientTypeSignature {
    ClientTypeSignature {
        raw_type: "unknown".to_string(),
        arguments: Vec::new(),
    }
}

/// varbinary arrives as base64: lowercase hex pairs, 16 bytes a line in tables.
fn binary_text(base64_text: &str, style: ValueStyle) -> String {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(base64_text) else {
        return base64_text.to_string();
    };
    let per_line = match style {
        ValueStyle::Table => 16,
        ValueStyle::OneLine => usize::MAX,
    };
    bytes
        .chunks(per_line.min(bytes.len().max(1)))
        .map(|chunk| {
            chunk
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Java's `Double.toString`: the shortest digits that round-trip, `1.0` rather than `1`, and
/// `1.0E10` / `1.5E-5` outside [10^-3, 10^7).
fn java_double(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = format!("{value}");
        return if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        };
    }
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::format::tests::{row_type, sig};

    fn text(value: Value, raw: &str) -> String {
        value_text(&value, &sig(raw, Vec::new()), ValueStyle::Table)
    }

    #[test]
    fn scalars() {
        assert_eq!(text(Value::Null, "varchar"), "NULL");
        assert_eq!(text(json!(true), "boolean"), "true");
        assert_eq!(text(json!(42), "bigint"), "42");
        assert_eq!(text(json!("12.50"), "decimal"), "12.50");
        assert_eq!(
            text(json!("2024-01-02 03:04:05.000"), "timestamp"),
            "2024-01-02 03:04:05.000"
        );
    }

    #[test]
    fn doubles_are_spelt_as_java_does() {
        assert_eq!(text(json!(4.5), "double"), "4.5");
        assert_eq!(text(json!(1.0), "double"), "1.0");
        assert_eq!(text(json!(0.0), "double"), "0.0");
        assert_eq!(text(json!(1e10), "double"), "1.0E10");
        assert_eq!(text(json!(-1.5e-5), "double"), "-1.5E-5");
        assert_eq!(text(json!(1234567.25), "double"), "1234567.25");
        assert_eq!(text(json!("NaN"), "double"), "NaN");
    }

    #[test]
    fn nested_values() {
        let array = sig(
            "array",
            vec![TypeArgument::Type(sig("integer", Vec::new()))],
        );
        assert_eq!(
            value_text(&json!([1, null, 3]), &array, ValueStyle::Table),
            "[1, NULL, 3]"
        );
        let map = sig(
            "map",
            vec![
                TypeArgument::Type(sig("varchar", Vec::new())),
                TypeArgument::Type(sig("double", Vec::new())),
            ],
        );
        assert_eq!(
            value_text(&json!({"a": 1.0}), &map, ValueStyle::Table),
            "{a=1.0}"
        );
        let row = row_type(&[("x", "integer"), ("y", "varchar")]);
        assert_eq!(
            value_text(&json!([7, "seven"]), &row, ValueStyle::Table),
            "{x=7, y=seven}"
        );
    }

    #[test]
    fn binary_is_hex_in_lines_of_sixteen() {
        let bytes: Vec<u8> = (0u8..18).collect();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let table = value_text(
            &json!(encoded),
            &sig("varbinary", Vec::new()),
            ValueStyle::Table,
        );
        assert_eq!(
            table,
            "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n10 11"
        );
        let one_line = value_text(
            &json!(encoded),
            &sig("varbinary", Vec::new()),
            ValueStyle::OneLine,
        );
        assert!(!one_line.contains('\n'));
        assert_eq!(
            value_text(&json!(""), &sig("varbinary", Vec::new()), ValueStyle::Table),
            ""
        );
    }
}
