//! Arrow values to the protocol's JSON values, as Trino's JSON encoder writes them.
//!
//! Encoding is column-wise: each column is downcast once and every value written; nested
//! columns encode their child arrays once and split them by offsets.

use std::fmt::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, DecimalType,
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc};
use serde_json::{Number, Value};
use vivace_protocol::TrinoType;

/// Options that change how values are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct EncodeOptions {
    /// The client did not announce `PARAMETRIC_DATETIME`: times and timestamps are rounded to
    /// milliseconds.
    pub legacy_datetime: bool,
}

/// Encodes a batch into rows of JSON values; `types` gives each column's Trino type.
pub fn encode_batch(
    batch: &RecordBatch,
    types: &[TrinoType],
    options: EncodeOptions,
) -> Result<Vec<Vec<Value>>, String> {
    let columns = batch
        .columns()
        .iter()
        .zip(types)
        .map(|(column, trino_type)| encode_column(column, trino_type, options))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows: Vec<Vec<Value>> = (0..batch.num_rows())
        .map(|_| Vec::with_capacity(columns.len()))
        .collect();
    for column in columns {
        for (row, value) in rows.iter_mut().zip(column) {
            row.push(value);
        }
    }
    Ok(rows)
}

/// Encodes every value of one column.
#[recursive::recursive]
pub fn encode_column(
    array: &ArrayRef,
    trino_type: &TrinoType,
    options: EncodeOptions,
) -> Result<Vec<Value>, String> {
    let len = array.len();
    let nulls = array.logical_nulls();
    let is_null = |i: usize| nulls.as_ref().is_some_and(|n| n.is_null(i));
    macro_rules! each {
        ($typed:expr, |$v:ident| $body:expr) => {{
            let typed = $typed;
            (0..len)
                .map(|i| {
                    if is_null(i) {
                        Value::Null
                    } else {
                        let $v = typed.value(i);
                        $body
                    }
                })
                .collect()
        }};
    }
    let values: Vec<Value> = match array.data_type() {
        DataType::Null => vec![Value::Null; len],
        DataType::Boolean => each!(array.as_boolean(), |v| Value::Bool(v)),
        DataType::Int8 => each!(array.as_primitive::<Int8Type>(), |v| Value::from(v)),
        DataType::Int16 => each!(array.as_primitive::<Int16Type>(), |v| Value::from(v)),
        DataType::Int32 => each!(array.as_primitive::<Int32Type>(), |v| Value::from(v)),
        DataType::Int64 => each!(array.as_primitive::<Int64Type>(), |v| Value::from(v)),
        DataType::UInt8 => each!(array.as_primitive::<UInt8Type>(), |v| Value::from(v)),
        DataType::UInt16 => each!(array.as_primitive::<UInt16Type>(), |v| Value::from(v)),
        DataType::UInt32 => each!(array.as_primitive::<UInt32Type>(), |v| Value::from(v)),
        DataType::UInt64 => each!(array.as_primitive::<UInt64Type>(), |v| Value::String(
            v.to_string()
        )),
        DataType::Float16 => each!(array.as_primitive::<Float16Type>(), |v| real(v.to_f32())),
        DataType::Float32 => each!(array.as_primitive::<Float32Type>(), |v| real(v)),
        DataType::Float64 => each!(array.as_primitive::<Float64Type>(), |v| double(v)),
        DataType::Decimal128(p, s) => {
            each!(array.as_primitive::<Decimal128Type>(), |v| Value::String(
                Decimal128Type::format_decimal(v, *p, *s)
            ))
        }
        DataType::Decimal256(p, s) => {
            each!(array.as_primitive::<Decimal256Type>(), |v| Value::String(
                Decimal256Type::format_decimal(v, *p, *s)
            ))
        }
        DataType::Utf8 => encode_strings(array.as_string::<i32>().iter(), trino_type),
        DataType::LargeUtf8 => encode_strings(array.as_string::<i64>().iter(), trino_type),
        DataType::Utf8View => encode_strings(array.as_string_view().iter(), trino_type),
        DataType::Binary => each!(array.as_binary::<i32>(), |v| base64(v)),
        DataType::LargeBinary => each!(array.as_binary::<i64>(), |v| base64(v)),
        DataType::BinaryView => each!(array.as_binary_view(), |v| base64(v)),
        DataType::FixedSizeBinary(_) => each!(array.as_fixed_size_binary(), |v| base64(v)),
        DataType::Date32 => each!(array.as_primitive::<Date32Type>(), |v| date(
            Date32Type::to_naive_date_opt(v)
        )),
        DataType::Date64 => each!(array.as_primitive::<Date64Type>(), |v| date(
            Date64Type::to_naive_date_opt(v)
        )),
        DataType::Time32(TimeUnit::Second) => {
            let p = time_precision(trino_type, 0, options);
            each!(array.as_primitive::<Time32SecondType>(), |v| time(
                i64::from(v) * 1_000_000_000,
                p
            ))
        }
        DataType::Time32(_) => {
            let p = time_precision(trino_type, 3, options);
            each!(array.as_primitive::<Time32MillisecondType>(), |v| time(
                i64::from(v) * 1_000_000,
                p
            ))
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            let p = time_precision(trino_type, 6, options);
            each!(array.as_primitive::<Time64MicrosecondType>(), |v| time(
                v * 1_000,
                p
            ))
        }
        DataType::Time64(_) => {
            let p = time_precision(trino_type, 9, options);
            each!(array.as_primitive::<Time64NanosecondType>(), |v| time(v, p))
        }
        DataType::Timestamp(unit, tz) => {
            let zone = tz.as_deref().map(Zone::parse).transpose()?;
            let default_precision = crate::types::unit_precision(*unit);
            let p = time_precision(trino_type, default_precision, options);
            let write = |nanos: i128| timestamp(nanos, p, zone.as_ref());
            match unit {
                TimeUnit::Second => {
                    each!(array.as_primitive::<TimestampSecondType>(), |v| write(
                        i128::from(v) * 1_000_000_000
                    ))
                }
                TimeUnit::Millisecond => {
                    each!(array.as_primitive::<TimestampMillisecondType>(), |v| write(
                        i128::from(v) * 1_000_000
                    ))
                }
                TimeUnit::Microsecond => {
                    each!(array.as_primitive::<TimestampMicrosecondType>(), |v| write(
                        i128::from(v) * 1_000
                    ))
                }
                TimeUnit::Nanosecond => {
                    each!(array.as_primitive::<TimestampNanosecondType>(), |v| write(
                        i128::from(v)
                    ))
                }
            }
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            each!(array.as_primitive::<IntervalYearMonthType>(), |v| {
                year_month(v)
            })
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            each!(array.as_primitive::<IntervalDayTimeType>(), |v| day_second(
                i128::from(v.days) * 86_400_000_000_000 + i128::from(v.milliseconds) * 1_000_000
            ))
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let year_to_month = matches!(trino_type, TrinoType::IntervalYearToMonth);
            each!(array.as_primitive::<IntervalMonthDayNanoType>(), |v| {
                if year_to_month {
                    year_month(v.months)
                } else {
                    day_second(
                        i128::from(v.months) * 30 * 86_400_000_000_000
                            + i128::from(v.days) * 86_400_000_000_000
                            + i128::from(v.nanoseconds),
                    )
                }
            })
        }
        DataType::Duration(unit) => match unit {
            TimeUnit::Second => each!(array.as_primitive::<DurationSecondType>(), |v| {
                day_second(i128::from(v) * 1_000_000_000)
            }),
            TimeUnit::Millisecond => {
                each!(array.as_primitive::<DurationMillisecondType>(), |v| {
                    day_second(i128::from(v) * 1_000_000)
                })
            }
            TimeUnit::Microsecond => {
                each!(array.as_primitive::<DurationMicrosecondType>(), |v| {
                    day_second(i128::from(v) * 1_000)
                })
            }
            TimeUnit::Nanosecond => each!(array.as_primitive::<DurationNanosecondType>(), |v| {
                day_second(i128::from(v))
            }),
        },
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let offsets: Vec<usize> = list.offsets().iter().map(|o| *o as usize).collect();
            nested_lists(list.values(), &offsets, len, &is_null, trino_type, options)?
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let offsets: Vec<usize> = list.offsets().iter().map(|o| *o as usize).collect();
            nested_lists(list.values(), &offsets, len, &is_null, trino_type, options)?
        }
        DataType::FixedSizeList(_, size) => {
            let list = array.as_fixed_size_list();
            let size = *size as usize;
            let offsets: Vec<usize> = (0..=len).map(|i| (list.offset() + i) * size).collect();
            nested_lists(list.values(), &offsets, len, &is_null, trino_type, options)?
        }
        DataType::Map(_, _) => {
            let map = array.as_map();
            let (key_type, value_type) = match trino_type {
                TrinoType::Map(k, v) => ((**k).clone(), (**v).clone()),
                _ => (TrinoType::VARCHAR, TrinoType::Unknown),
            };
            let keys = encode_column(map.keys(), &key_type, options)?;
            let values = encode_column(map.values(), &value_type, options)?;
            let offsets = map.value_offsets();
            (0..len)
                .map(|i| {
                    if is_null(i) {
                        return Value::Null;
                    }
                    let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                    let object = (start..end)
                        .map(|j| (map_key_text(&keys[j]), values[j].clone()))
                        .collect();
                    Value::Object(object)
                })
                .collect()
        }
        DataType::Struct(_) => {
            let row = array.as_struct();
            let field_types: Vec<TrinoType> = match trino_type {
                TrinoType::Row(fields) => fields.iter().map(|f| f.field_type.clone()).collect(),
                _ => vec![TrinoType::Unknown; row.num_columns()],
            };
            let children = row
                .columns()
                .iter()
                .zip(
                    field_types
                        .iter()
                        .chain(std::iter::repeat(&TrinoType::Unknown)),
                )
                .map(|(child, t)| encode_column(child, t, options))
                .collect::<Result<Vec<_>, _>>()?;
            (0..len)
                .map(|i| {
                    if is_null(i) {
                        Value::Null
                    } else {
                        Value::Array(children.iter().map(|c| c[i].clone()).collect())
                    }
                })
                .collect()
        }
        DataType::Dictionary(_, value_type) => {
            let plain = arrow::compute::cast(array, value_type).map_err(|e| e.to_string())?;
            encode_column(&plain, trino_type, options)?
        }
        other => {
            let plain = arrow::compute::cast(array, &DataType::Utf8)
                .map_err(|_| format!("Type {other} cannot be sent to clients"))?;
            encode_column(&plain, &TrinoType::VARCHAR, options)?
        }
    };
    Ok(values)
}

fn nested_lists(
    values: &ArrayRef,
    offsets: &[usize],
    len: usize,
    is_null: &dyn Fn(usize) -> bool,
    trino_type: &TrinoType,
    options: EncodeOptions,
) -> Result<Vec<Value>, String> {
    let element_type = match trino_type {
        TrinoType::Array(element) => (**element).clone(),
        _ => TrinoType::Unknown,
    };
    // Encode only the referenced range of the child array.
    let first = offsets.first().copied().unwrap_or(0);
    let last = offsets.get(len).copied().unwrap_or(first);
    let slice: ArrayRef = values.slice(first, last - first);
    let encoded = encode_column(&Arc::clone(&slice), &element_type, options)?;
    Ok((0..len)
        .map(|i| {
            if is_null(i) {
                Value::Null
            } else {
                Value::Array(encoded[offsets[i] - first..offsets[i + 1] - first].to_vec())
            }
        })
        .collect())
}

fn encode_strings<'a>(
    values: impl Iterator<Item = Option<&'a str>>,
    trino_type: &TrinoType,
) -> Vec<Value> {
    match trino_type {
        TrinoType::Char(n) => values
            .map(|v| {
                v.map_or(Value::Null, |s| {
                    let width = s.chars().count();
                    let mut padded = s.to_string();
                    padded.extend(std::iter::repeat_n(
                        ' ',
                        (*n as usize).saturating_sub(width),
                    ));
                    Value::String(padded)
                })
            })
            .collect(),
        _ => values
            .map(|v| v.map_or(Value::Null, |s| Value::String(s.to_string())))
            .collect(),
    }
}

fn map_key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

fn special_float(v: f64) -> Option<Value> {
    if v.is_nan() {
        Some(Value::String("NaN".into()))
    } else if v == f64::INFINITY {
        Some(Value::String("Infinity".into()))
    } else if v == f64::NEG_INFINITY {
        Some(Value::String("-Infinity".into()))
    } else {
        None
    }
}

fn double(v: f64) -> Value {
    special_float(v)
        .or_else(|| Number::from_f64(v).map(Value::Number))
        .unwrap_or(Value::Null)
}

/// A `real` is written with its shortest decimal form (`1.1`, not `1.100000023841858`).
fn real(v: f32) -> Value {
    if let Some(special) = special_float(f64::from(v)) {
        return special;
    }
    let shortest: f64 = v.to_string().parse().unwrap_or(f64::from(v));
    double(shortest)
}

fn base64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn date(value: Option<NaiveDate>) -> Value {
    value.map_or(Value::Null, |d| Value::String(format_date(d)))
}

fn format_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    let year = d.year();
    if (0..=9999).contains(&year) {
        d.format("%Y-%m-%d").to_string()
    } else {
        format!("{year:+05}-{:02}-{:02}", d.month(), d.day())
    }
}

fn time_precision(trino_type: &TrinoType, default: u32, options: EncodeOptions) -> u32 {
    if options.legacy_datetime {
        return 3;
    }
    match trino_type {
        TrinoType::Time { precision, .. } | TrinoType::Timestamp { precision, .. } => *precision,
        _ => default,
    }
}

/// Rounds nanoseconds to `precision` fraction digits (half up), returning nanoseconds.
fn round_nanos(nanos: i128, precision: u32) -> i128 {
    if precision >= 9 {
        return nanos;
    }
    let unit = 10_i128.pow(9 - precision);
    (nanos + unit / 2).div_euclid(unit) * unit
}

fn push_fraction(out: &mut String, nanos_of_second: u32, precision: u32) {
    if precision == 0 {
        return;
    }
    let digits = format!("{nanos_of_second:09}");
    out.push('.');
    let shown = precision.min(9) as usize;
    out.push_str(&digits[..shown]);
    for _ in 9..precision {
        out.push('0');
    }
}

fn time(nanos_of_day: i64, precision: u32) -> Value {
    let rounded = round_nanos(i128::from(nanos_of_day), precision).rem_euclid(86_400_000_000_000);
    let seconds = (rounded / 1_000_000_000) as u32;
    let fraction = (rounded % 1_000_000_000) as u32;
    let Some(t) = NaiveTime::from_num_seconds_from_midnight_opt(seconds, fraction) else {
        return Value::Null;
    };
    let mut out = t.format("%H:%M:%S").to_string();
    push_fraction(&mut out, fraction, precision);
    Value::String(out)
}

/// A time zone attached to timestamp values.
#[derive(Debug, Clone)]
enum Zone {
    Named(chrono_tz::Tz),
    Fixed(chrono::FixedOffset, String),
}

impl Zone {
    fn parse(text: &str) -> Result<Zone, String> {
        if let Ok(tz) = text.parse::<chrono_tz::Tz>() {
            return Ok(Zone::Named(tz));
        }
        let offset: chrono::FixedOffset = text
            .parse()
            .map_err(|_| format!("Unknown time zone '{text}'"))?;
        Ok(Zone::Fixed(offset, format_offset(offset.local_minus_utc())))
    }
}

fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.abs();
    format!("{sign}{:02}:{:02}", seconds / 3600, (seconds % 3600) / 60)
}

fn timestamp(nanos: i128, precision: u32, zone: Option<&Zone>) -> Value {
    let rounded = round_nanos(nanos, precision);
    let seconds = rounded.div_euclid(1_000_000_000);
    let fraction = rounded.rem_euclid(1_000_000_000) as u32;
    let Ok(seconds) = i64::try_from(seconds) else {
        return Value::Null;
    };
    let Some(utc) = DateTime::<Utc>::from_timestamp(seconds, fraction) else {
        return Value::Null;
    };
    let (local, zone_text): (NaiveDateTime, Option<String>) = match zone {
        None => (utc.naive_utc(), None),
        Some(Zone::Named(tz)) => {
            let local = tz.from_utc_datetime(&utc.naive_utc());
            let name = match tz.name() {
                "Etc/UTC" | "UTC" | "Etc/GMT" | "GMT" | "Z" => "UTC".to_string(),
                name => name.to_string(),
            };
            let _ = local.offset().fix();
            (local.naive_local(), Some(name))
        }
        Some(Zone::Fixed(offset, text)) => {
            let local = offset.from_utc_datetime(&utc.naive_utc());
            let text = if offset.local_minus_utc() == 0 {
                "UTC".to_string()
            } else {
                text.clone()
            };
            (local.naive_local(), Some(text))
        }
    };
    let mut out = format_date(local.date());
    let _ = write!(
        out,
        " {:02}:{:02}:{:02}",
        local.hour(),
        local.minute(),
        local.second()
    );
    push_fraction(&mut out, fraction, precision);
    if let Some(zone) = zone_text {
        out.push(' ');
        out.push_str(&zone);
    }
    Value::String(out)
}

fn year_month(months: i32) -> Value {
    let sign = if months < 0 { "-" } else { "" };
    let months = i64::from(months).abs();
    Value::String(format!("{sign}{}-{}", months / 12, months % 12))
}

fn day_second(nanos: i128) -> Value {
    let sign = if nanos < 0 { "-" } else { "" };
    let millis = nanos.abs() / 1_000_000;
    let days = millis / 86_400_000;
    let rest = millis % 86_400_000;
    Value::String(format!(
        "{sign}{days} {:02}:{:02}:{:02}.{:03}",
        rest / 3_600_000,
        (rest / 60_000) % 60,
        (rest / 1000) % 60,
        rest % 1000
    ))
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        Decimal128Array, Float32Array, Float64Array, Int32Array, ListArray, StringArray,
        StructArray, TimestampMicrosecondArray,
    };
    use arrow::datatypes::{Field, Int32Type as I32};
    use serde_json::json;

    use super::*;

    fn encode(array: ArrayRef, trino_type: &str) -> Vec<Value> {
        encode_column(
            &array,
            &TrinoType::parse(trino_type).unwrap(),
            EncodeOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn numbers_and_special_floats() {
        let doubles = Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(f64::NAN),
            Some(f64::NEG_INFINITY),
            None,
        ]));
        assert_eq!(
            serde_json::to_string(&encode(doubles, "double")).unwrap(),
            r#"[1.0,"NaN","-Infinity",null]"#
        );
        let reals = Arc::new(Float32Array::from(vec![1.1f32]));
        assert_eq!(
            serde_json::to_string(&encode(reals, "real")).unwrap(),
            "[1.1]"
        );
        let decimals = Arc::new(
            Decimal128Array::from(vec![12345, -50])
                .with_precision_and_scale(10, 2)
                .unwrap(),
        );
        assert_eq!(
            encode(decimals, "decimal(10, 2)"),
            vec![json!("123.45"), json!("-0.50")]
        );
    }

    #[test]
    fn char_pads_and_timestamps_format() {
        let chars = Arc::new(StringArray::from(vec!["ab"]));
        assert_eq!(encode(chars, "char(5)"), vec![json!("ab   ")]);
        let ts = Arc::new(TimestampMicrosecondArray::from(vec![1_706_704_496_789_000]));
        assert_eq!(
            encode(Arc::clone(&ts) as ArrayRef, "timestamp(3)"),
            vec![json!("2024-01-31 12:34:56.789")]
        );
        let zoned = Arc::new(
            TimestampMicrosecondArray::from(vec![1_706_704_496_789_000])
                .with_timezone("America/New_York"),
        );
        assert_eq!(
            encode(zoned, "timestamp(6) with time zone"),
            vec![json!("2024-01-31 07:34:56.789000 America/New_York")]
        );
        assert_eq!(time(45_296_789_000_000, 3), json!("12:34:56.789"),);
        assert_eq!(
            day_second(-(86_400_000_000_000 + 1_000_000)),
            json!("-1 00:00:00.001")
        );
        assert_eq!(year_month(14), json!("1-2"));
    }

    #[test]
    fn nested_values() {
        let list = Arc::new(ListArray::from_iter_primitive::<I32, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
            Some(vec![]),
        ]));
        assert_eq!(
            encode(list, "array(integer)"),
            vec![json!([1, null]), Value::Null, json!([])]
        );
        let row = Arc::new(StructArray::from(vec![
            (
                Arc::new(Field::new("x", DataType::Int32, true)),
                Arc::new(Int32Array::from(vec![7])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("y", DataType::Utf8, true)),
                Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
            ),
        ]));
        assert_eq!(
            encode(row, "row(x integer, y varchar)"),
            vec![json!([7, "a"])]
        );
    }
}
