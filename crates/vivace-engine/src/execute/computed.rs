//! Results the engine computes itself (`SHOW SESSION`, `DESCRIBE`, `EXPLAIN`, row counts) as
//! Arrow batches, so that every result reaches the server the same way.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::Value;
use vivace_common::ErrorCode;
use vivace_protocol::TrinoType;

use crate::error::{EngineError, EngineResult};

/// `rows` (each as long as `fields`) as one batch of the given column types. Only the types
/// such results use are built; any other is an internal error.
pub(super) fn batch(
    fields: &[(String, TrinoType)],
    rows: &[Vec<Value>],
) -> EngineResult<RecordBatch> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(fields.len());
    let mut schema = Vec::with_capacity(fields.len());
    for (index, (name, trino_type)) in fields.iter().enumerate() {
        let cells = rows
            .iter()
            .map(|row| row.get(index).unwrap_or(&Value::Null));
        let (data_type, column) = column(trino_type, cells)
            .ok_or_else(|| unexpected(format!("column '{name}' of type {trino_type:?}")))?;
        schema.push(Field::new(name, data_type, true));
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(schema)), columns)
        .map_err(|e| unexpected(e.to_string()))
}

/// One column of `trino_type` from `cells`; `None` for a type or value it does not build.
fn column<'a>(
    trino_type: &TrinoType,
    cells: impl Iterator<Item = &'a Value>,
) -> Option<(DataType, ArrayRef)> {
    match trino_type {
        TrinoType::Varchar(_) => {
            let mut out = StringBuilder::new();
            for cell in cells {
                match cell {
                    Value::Null => out.append_null(),
                    Value::String(text) => out.append_value(text),
                    _ => return None,
                }
            }
            Some((DataType::Utf8, Arc::new(out.finish())))
        }
        TrinoType::Bigint => {
            let mut out = Int64Builder::new();
            for cell in cells {
                match cell {
                    Value::Null => out.append_null(),
                    value => out.append_value(value.as_i64()?),
                }
            }
            Some((DataType::Int64, Arc::new(out.finish())))
        }
        TrinoType::Integer => {
            let mut out = Int32Builder::new();
            for cell in cells {
                match cell {
                    Value::Null => out.append_null(),
                    value => out.append_value(i32::try_from(value.as_i64()?).ok()?),
                }
            }
            Some((DataType::Int32, Arc::new(out.finish())))
        }
        TrinoType::Boolean => {
            let mut out = BooleanBuilder::new();
            for cell in cells {
                match cell {
                    Value::Null => out.append_null(),
                    value => out.append_value(value.as_bool()?),
                }
            }
            Some((DataType::Boolean, Arc::new(out.finish())))
        }
        _ => None,
    }
}

fn unexpected(what: String) -> EngineError {
    EngineError::new(
        ErrorCode::GENERIC_INTERNAL_ERROR,
        format!("cannot build a computed result: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use vivace_functions::encode::{EncodeOptions, encode_batch};

    use super::*;

    #[test]
    fn computed_rows_encode_back_to_the_same_values() {
        let fields = vec![
            ("name".to_string(), TrinoType::VARCHAR),
            ("size".to_string(), TrinoType::Bigint),
            ("position".to_string(), TrinoType::Integer),
            ("aliased".to_string(), TrinoType::Boolean),
        ];
        let rows = vec![
            vec![
                Value::from("a"),
                Value::from(8),
                Value::from(1),
                Value::from(true),
            ],
            vec![Value::Null, Value::Null, Value::Null, Value::Null],
        ];
        let batch = batch(&fields, &rows).expect("batch");
        let types: Vec<TrinoType> = fields.iter().map(|(_, t)| t.clone()).collect();
        let encoded = encode_batch(&batch, &types, EncodeOptions::default()).expect("encode");
        assert_eq!(encoded, rows);
    }

    #[test]
    fn an_unbuilt_type_or_a_mismatched_value_is_an_internal_error() {
        let date = [("d".to_string(), TrinoType::Date)];
        let error = batch(&date, &[vec![Value::from("2024-01-01")]]).expect_err("date");
        assert!(error.to_string().contains("column 'd'"), "{error}");
        let text = [("n".to_string(), TrinoType::Bigint)];
        assert!(batch(&text, &[vec![Value::from("x")]]).is_err());
    }
}
