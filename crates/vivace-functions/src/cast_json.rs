//! `CAST(json AS T)`: reads JSON values into Trino types as Trino does. Arrays become
//! `array(T)`, objects become `map(K, V)` (keys read from their text) or `row(...)` (fields
//! matched by name, ignoring case); a JSON array also becomes a `row` by position. Scalars
//! convert between JSON's kinds as Trino allows (`true` is 1, `"12"` is 12, `1.5` rounds to
//! 2 as a bigint), and JSON `null` is SQL NULL.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, ListArray, MapArray, StringArray, StructArray, new_null_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Fields};
use serde_json::Value;

/// Converts JSON texts to `target`; with `safe` (`TRY_CAST`), a value that does not convert
/// becomes NULL, otherwise it is an error naming it.
pub(crate) fn cast_json(
    texts: &StringArray,
    target: &DataType,
    target_name: &str,
    safe: bool,
) -> Result<ArrayRef, String> {
    let parsed: Vec<Option<Value>> = texts
        .iter()
        .map(|text| match text {
            None => Ok(None),
            Some(text) => serde_json::from_str::<Value>(text)
                .map(|v| (!v.is_null()).then_some(v))
                .map_err(|e| format!("Cannot cast to {target_name}: invalid JSON '{text}': {e}")),
        })
        .collect::<Result<_, _>>()?;
    let all: Vec<Option<&Value>> = parsed.iter().map(Option::as_ref).collect();
    if !safe {
        return build(&all, target, false)
            .map_err(|e| format!("Cannot cast to {target_name}. {e}"));
    }
    let rows = all
        .iter()
        .map(|value| {
            build(std::slice::from_ref(value), target, false)
                .unwrap_or_else(|_| new_null_array(target, 1))
        })
        .collect::<Vec<_>>();
    if rows.is_empty() {
        return Ok(new_null_array(target, 0));
    }
    let refs: Vec<&dyn Array> = rows.iter().map(|a| a.as_ref()).collect();
    arrow::compute::concat(&refs).map_err(|e| e.to_string())
}

/// Whether a nested field holds `json` values, which keep their JSON text.
fn is_json(field: &Field) -> bool {
    crate::types::trino_type_of_field(field) == vivace_protocol::TrinoType::Json
}

/// An Arrow array of `target` from JSON values (`None` is NULL); `json` when the values stay
/// JSON text.
#[recursive::recursive]
fn build(values: &[Option<&Value>], target: &DataType, json: bool) -> Result<ArrayRef, String> {
    if json {
        let texts: StringArray = values.iter().map(|v| v.map(Value::to_string)).collect();
        return Ok(Arc::new(texts));
    }
    match target {
        DataType::List(field) => {
            let mut offsets = vec![0i32];
            let mut children = Vec::new();
            for value in values {
                match value {
                    None => {}
                    Some(Value::Array(items)) => children.extend(items.iter().map(non_null)),
                    Some(other) => return Err(expected("a json array", other)),
                }
                offsets.push(i32::try_from(children.len()).map_err(|e| e.to_string())?);
            }
            let child = build(&children, field.data_type(), is_json(field))?;
            let list = ListArray::try_new(
                Arc::clone(field),
                OffsetBuffer::new(offsets.into()),
                child,
                nulls(values),
            )
            .map_err(|e| e.to_string())?;
            Ok(Arc::new(list))
        }
        DataType::Map(entries, sorted) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(format!("unexpected map layout {entries}"));
            };
            let (Some(key_field), Some(value_field)) = (kv.first(), kv.get(1)) else {
                return Err(format!("unexpected map layout {entries}"));
            };
            let mut offsets = vec![0i32];
            let mut keys = Vec::new();
            let mut items = Vec::new();
            for value in values {
                match value {
                    None => {}
                    Some(Value::Object(object)) => {
                        for (key, item) in object {
                            keys.push(Some(Value::String(key.clone())));
                            items.push(non_null(item));
                        }
                    }
                    Some(other) => return Err(expected("a json object", other)),
                }
                offsets.push(i32::try_from(keys.len()).map_err(|e| e.to_string())?);
            }
            let key_refs: Vec<Option<&Value>> = keys.iter().map(Option::as_ref).collect();
            let keys = build(&key_refs, key_field.data_type(), false)?;
            if keys.null_count() > 0 {
                return Err("map key cannot be null".into());
            }
            let items = build(&items, value_field.data_type(), is_json(value_field))?;
            let entries_array = StructArray::try_new(kv.clone(), vec![keys, items], None)
                .map_err(|e| e.to_string())?;
            let map = MapArray::try_new(
                Arc::clone(entries),
                OffsetBuffer::new(offsets.into()),
                entries_array,
                nulls(values),
                *sorted,
            )
            .map_err(|e| e.to_string())?;
            Ok(Arc::new(map))
        }
        DataType::Struct(fields) => build_row(values, fields),
        DataType::Boolean => {
            let converted = values
                .iter()
                .map(|value| value.map(to_boolean).transpose())
                .collect::<Result<BooleanArray, String>>()?;
            Ok(Arc::new(converted))
        }
        DataType::Null => Ok(new_null_array(target, values.len())),
        scalar => {
            let integer = scalar.is_integer();
            let texts = values
                .iter()
                .map(|value| value.map(|v| scalar_text(v, integer)).transpose())
                .collect::<Result<StringArray, String>>()?;
            let options = CastOptions {
                safe: false,
                ..CastOptions::default()
            };
            cast_with_options(&texts, scalar, &options).map_err(|e| e.to_string())
        }
    }
}

fn build_row(values: &[Option<&Value>], fields: &Fields) -> Result<ArrayRef, String> {
    let mut columns: Vec<Vec<Option<&Value>>> =
        vec![Vec::with_capacity(values.len()); fields.len()];
    for value in values {
        match value {
            None => columns.iter_mut().for_each(|c| c.push(None)),
            Some(Value::Object(object)) => {
                for (field, column) in fields.iter().zip(columns.iter_mut()) {
                    let found = object
                        .iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(field.name()))
                        .and_then(|(_, v)| non_null(v));
                    column.push(found);
                }
            }
            Some(Value::Array(items)) => {
                if items.len() != fields.len() {
                    return Err(format!(
                        "Expected a json array of {} elements, but got {}",
                        fields.len(),
                        items.len()
                    ));
                }
                for (item, column) in items.iter().zip(columns.iter_mut()) {
                    column.push(non_null(item));
                }
            }
            Some(other) => return Err(expected("a json array or object", other)),
        }
    }
    let arrays = fields
        .iter()
        .zip(&columns)
        .map(|(field, column)| build(column, field.data_type(), is_json(field)))
        .collect::<Result<Vec<_>, _>>()?;
    let row =
        StructArray::try_new(fields.clone(), arrays, nulls(values)).map_err(|e| e.to_string())?;
    Ok(Arc::new(row))
}

fn non_null(value: &Value) -> Option<&Value> {
    (!value.is_null()).then_some(value)
}

fn nulls(values: &[Option<&Value>]) -> Option<NullBuffer> {
    let buffer: NullBuffer = values.iter().map(Option::is_some).collect();
    (buffer.null_count() > 0).then_some(buffer)
}

fn expected(what: &str, got: &Value) -> String {
    format!("Expected {what}, but got {got}")
}

fn to_boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => Ok(n.as_f64().is_some_and(|v| v != 0.0)),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(format!("Cannot cast '{other}' to boolean")),
    }
}

/// A JSON scalar as text for Arrow's cast; numbers bound for integers round half up.
fn scalar_text(value: &Value, integer: bool) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(if integer {
            u8::from(*b).to_string()
        } else {
            b.to_string()
        }),
        Value::Number(n) if integer && !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(v) if v.is_finite() => Ok(format!("{:.0}", v.abs().round().copysign(v))),
            _ => Err(format!("Cannot cast '{n}' to an integer")),
        },
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("Expected a json scalar, but got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, Int64Array};
    use arrow::datatypes::Int64Type;

    use super::*;

    fn texts(values: &[Option<&str>]) -> StringArray {
        values.iter().copied().collect()
    }

    #[test]
    fn arrays_of_numbers() {
        let target = DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)));
        let out = cast_json(
            &texts(&[Some("[1, 2.5, \"3\", null, true]"), None, Some("null")]),
            &target,
            "array(bigint)",
            false,
        )
        .expect("cast");
        let list = out.as_list::<i32>();
        assert!(list.is_null(1) && list.is_null(2));
        let first = list.value(0);
        let first: &Int64Array = first.as_primitive::<Int64Type>();
        assert_eq!(
            first.iter().collect::<Vec<_>>(),
            vec![Some(1), Some(3), Some(3), None, Some(1)]
        );
    }

    #[test]
    fn rows_by_name_and_position() {
        let fields = Fields::from(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]);
        let target = DataType::Struct(fields);
        let out = cast_json(
            &texts(&[
                Some("{\"A\": 1, \"b\": \"x\"}"),
                Some("[2, \"y\"]"),
                Some("{\"b\": 3}"),
            ]),
            &target,
            "row(a bigint, b varchar)",
            false,
        )
        .expect("cast");
        let row = out.as_struct();
        let a = row.column(0).as_primitive::<Int64Type>();
        let b = row.column(1).as_string::<i32>();
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![Some(1), Some(2), None]);
        assert_eq!(
            b.iter().collect::<Vec<_>>(),
            vec![Some("x"), Some("y"), Some("3")]
        );
    }

    #[test]
    fn errors_and_try() {
        let target = DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)));
        let error = cast_json(
            &texts(&[Some("{\"a\": 1}")]),
            &target,
            "array(bigint)",
            false,
        )
        .expect_err("an object is not an array");
        assert_eq!(
            error,
            "Cannot cast to array(bigint). Expected a json array, but got {\"a\":1}"
        );
        let out = cast_json(
            &texts(&[Some("{\"a\": 1}"), Some("[1]")]),
            &target,
            "array(bigint)",
            true,
        )
        .expect("try");
        assert!(out.is_null(0) && !out.is_null(1));
    }
}
