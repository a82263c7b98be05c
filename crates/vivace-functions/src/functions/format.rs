//! `format(format, args...)`: formats its arguments as Trino does, with Java's
//! `String.format` in the English locale ([`super::java_format`]). Each argument becomes the
//! Java value Trino would pass: integers a `Long`, `real` a `Float`, decimals a `BigDecimal`,
//! dates and times their `java.time` classes, and other types their text.

use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type, Int64Type};
use chrono::TimeZone;
use chrono_tz::OffsetName;
use datafusion::common::{Result as DfResult, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use vivace_protocol::TrinoType;

use super::datetime::{self, Shape};
use super::java_format::{Digits, JavaValue, Zoned, java_format};
use super::{invalid_argument, is_text, text_array};

#[derive(Debug, PartialEq, Eq, Hash)]
struct Format {
    signature: Signature,
}

/// The `format` function.
pub(super) fn format_function() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(Format {
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> DfResult<Vec<DataType>> {
        let nested = |t: &DataType| {
            matches!(
                t,
                DataType::List(_)
                    | DataType::LargeList(_)
                    | DataType::FixedSizeList(..)
                    | DataType::Map(..)
                    | DataType::Struct(_)
            )
        };
        match types {
            [format, args @ ..]
                if is_text(format) && !args.is_empty() && !args.iter().any(nested) =>
            {
                let mut coerced = vec![DataType::Utf8];
                coerced.extend(args.iter().cloned());
                Ok(coerced)
            }
            _ => super::unexpected_parameters(
                "format",
                types,
                "format(varchar, T, ...) where no T is an array, map or row",
            ),
        }
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let (arrays, rows, all_scalar) = super::argument_arrays(&args)?;
        let Some((format_array, value_arrays)) = arrays.split_first() else {
            return exec_err!("format takes a format and arguments");
        };
        let formats = text_array(format_array)?;
        let columns = value_arrays
            .iter()
            .zip(args.arg_fields.iter().skip(1))
            .map(|(array, field)| java_values(array, &crate::types::trino_type_of_field(field)))
            .collect::<DfResult<Vec<_>>>()?;
        let mut out = StringBuilder::new();
        let mut row_values = Vec::with_capacity(columns.len());
        for row in 0..rows {
            if formats.is_null(row) {
                out.append_null();
                continue;
            }
            let format = formats.value(row);
            row_values.clear();
            row_values.extend(columns.iter().map(|column| column[row].clone()));
            match java_format(format, &row_values) {
                Ok(text) => out.append_value(text),
                Err(message) => {
                    return Err(invalid_argument(format!(
                        "Invalid format string: {format} ({message})"
                    )));
                }
            }
        }
        super::columnar(Arc::new(out.finish()), all_scalar)
    }
}

/// One argument column as the Java values Trino's `format` hands to `String.format`.
fn java_values(array: &ArrayRef, trino: &TrinoType) -> DfResult<Vec<JavaValue>> {
    let nulls_or = |array: &ArrayRef, value: &dyn Fn(usize) -> JavaValue| -> Vec<JavaValue> {
        (0..array.len())
            .map(|i| {
                if array.is_null(i) {
                    JavaValue::Null
                } else {
                    value(i)
                }
            })
            .collect()
    };
    Ok(match trino {
        TrinoType::Unknown => vec![JavaValue::Null; array.len()],
        TrinoType::Boolean => {
            let values = arrow::compute::cast(array, &DataType::Boolean)?;
            let values = values.as_boolean();
            nulls_or(array, &|i| JavaValue::Boolean(values.value(i)))
        }
        TrinoType::Tinyint | TrinoType::Smallint | TrinoType::Integer | TrinoType::Bigint => {
            let values = arrow::compute::cast(array, &DataType::Int64)?;
            let values = values.as_primitive::<Int64Type>();
            nulls_or(array, &|i| JavaValue::Long(values.value(i)))
        }
        TrinoType::Real => {
            let values = arrow::compute::cast(array, &DataType::Float32)?;
            let values = values.as_primitive::<Float32Type>();
            nulls_or(array, &|i| JavaValue::Float(values.value(i)))
        }
        TrinoType::Double => {
            let values = arrow::compute::cast(array, &DataType::Float64)?;
            let values = values.as_primitive::<Float64Type>();
            nulls_or(array, &|i| JavaValue::Double(values.value(i)))
        }
        TrinoType::Decimal { scale, .. } => {
            let scale =
                i8::try_from(*scale).map_err(|_| invalid_argument("decimal scale".into()))?;
            let values = arrow::compute::cast(array, &DataType::Decimal128(38, scale))?;
            let values = values.as_primitive::<Decimal128Type>();
            nulls_or(array, &|i| {
                JavaValue::Decimal(Digits::from_unscaled(values.value(i), i32::from(scale)))
            })
        }
        TrinoType::Date
        | TrinoType::Timestamp { .. }
        | TrinoType::Time {
            with_time_zone: false,
            ..
        } if is_temporal(array.data_type()) => temporal_values(array)?,
        TrinoType::Char(length) => {
            let length = *length as usize;
            let text = text_array(array)?;
            nulls_or(array, &|i| {
                let value = text.value(i);
                let pad = length.saturating_sub(value.chars().count());
                JavaValue::Text(format!("{value}{}", " ".repeat(pad)))
            })
        }
        // Everything else goes as its text, as Trino casts it to varchar.
        _ => {
            let text = text_array(array)?;
            nulls_or(array, &|i| JavaValue::Text(text.value(i).to_string()))
        }
    })
}

fn is_temporal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Date32 | DataType::Timestamp(..) | DataType::Time32(_) | DataType::Time64(_)
    )
}

fn temporal_values(array: &ArrayRef) -> DfResult<Vec<JavaValue>> {
    let column = datetime::read(array)?;
    let named_zone = column
        .zone_name
        .as_deref()
        .and_then(|name| chrono_tz::Tz::from_str(name).ok());
    Ok(column
        .values
        .iter()
        .map(|moment| {
            let Some(moment) = moment else {
                return JavaValue::Null;
            };
            match column.shape {
                Shape::Date => JavaValue::Date(moment.local.date()),
                Shape::Time(_) => JavaValue::Time(moment.local.time()),
                Shape::Timestamp(_) => match &column.zone_name {
                    None => JavaValue::DateTime(moment.local),
                    Some(zone) => {
                        let offset = (moment.local - moment.utc).num_seconds() as i32;
                        let abbreviation = named_zone.as_ref().and_then(|tz| {
                            tz.offset_from_utc_datetime(&moment.utc)
                                .abbreviation()
                                .map(str::to_string)
                        });
                        JavaValue::Zoned(Zoned {
                            local: moment.local,
                            offset,
                            zone: zone.to_string(),
                            abbreviation,
                        })
                    }
                },
            }
        })
        .collect())
}
