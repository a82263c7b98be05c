//! `__trino_cast(value, 'type', try)`: casts to a Trino type with Trino's semantics, and tags
//! the result with the exact type (`varchar(5)`, `char(3)`, `json`, `uuid`, `time(6)`, ...).
//! The SQL front end rewrites `CAST`, `TRY_CAST` and typed literals into calls of it.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, StringBuilder, StructArray, TimestampMicrosecondBuilder,
    TimestampMillisecondBuilder, TimestampNanosecondBuilder,
};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, FieldRef, TimeUnit};
use chrono::{NaiveDateTime, TimeZone};
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use vivace_protocol::TrinoType;
use vivace_sql::literals::split_zone;

use crate::encode::{EncodeOptions, encode_column};
use crate::types::{tagged_field, trino_type_of_field};

/// The function's name.
pub use vivace_sql::internal_functions::TRINO_CAST;

#[derive(Debug, PartialEq, Eq, Hash)]
struct TrinoCast {
    signature: Signature,
}

/// The `__trino_cast` function.
pub fn trino_cast_udf() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(TrinoCast {
        signature: Signature::variadic_any(Volatility::Immutable),
    }))
}

fn literal_text(value: Option<&ScalarValue>) -> Option<String> {
    match value? {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

fn normalize_zone(zone: &str) -> String {
    if zone.eq_ignore_ascii_case("Z") || zone == "Etc/UTC" {
        "UTC".to_string()
    } else {
        zone.to_string()
    }
}

impl ScalarUDFImpl for TrinoCast {
    fn name(&self) -> &str {
        TRINO_CAST
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        plan_err!("{TRINO_CAST} is typed by its arguments")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        let Some(type_text) = literal_text(args.scalar_arguments.get(1).copied().flatten()) else {
            return plan_err!("{TRINO_CAST} needs a constant type name");
        };
        let target = TrinoType::parse(&type_text).map_err(DataFusionError::Plan)?;
        // A literal with its own zone keeps it, as does a value that already has a zone;
        // anything else gets UTC.
        let source_zone = match args.arg_fields.first().map(|f| f.data_type()) {
            Some(DataType::Timestamp(_, Some(zone))) => Some(zone.to_string()),
            _ => None,
        };
        let zone = literal_text(args.scalar_arguments.first().copied().flatten())
            .and_then(|text| split_zone(&text).map(|(_, zone)| normalize_zone(zone)))
            .or(source_zone)
            .unwrap_or_else(|| "UTC".to_string());
        Ok(Arc::new(tagged_field(TRINO_CAST, &target, &zone)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let Some(ColumnarValue::Scalar(type_value)) = args.args.get(1) else {
            return exec_err!("{TRINO_CAST} needs a constant type name");
        };
        let Some(type_text) = literal_text(Some(type_value)) else {
            return exec_err!("{TRINO_CAST} needs a constant type name");
        };
        let target = TrinoType::parse(&type_text).map_err(DataFusionError::Execution)?;
        let safe = matches!(
            args.args.get(2),
            Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))))
        );
        let is_scalar = matches!(args.args.first(), Some(ColumnarValue::Scalar(_)));
        let input = match args.args.first() {
            Some(value) => value.to_array(rows.max(1))?,
            None => return exec_err!("{TRINO_CAST} needs a value"),
        };
        let source_type = args
            .arg_fields
            .first()
            .map(|f| trino_type_of_field(f))
            .unwrap_or(TrinoType::Unknown);
        let output = convert(
            &input,
            &source_type,
            &target,
            args.return_field.data_type(),
            safe,
        )?;
        crate::functions::columnar(output, is_scalar)
    }
}

fn invalid(message: String) -> DataFusionError {
    DataFusionError::ArrowError(Box::new(arrow::error::ArrowError::CastError(message)), None)
}

/// Maps each string of `input` through `f`; `None` from `f` is an invalid value.
fn map_strings(
    input: &ArrayRef,
    safe: bool,
    what: &str,
    f: impl Fn(&str) -> Option<String>,
) -> DfResult<ArrayRef> {
    let text = cast_with_options(input, &DataType::Utf8, &CastOptions::default())?;
    let text = text.as_string::<i32>();
    let mut out = StringBuilder::new();
    for value in text.iter() {
        match value {
            None => out.append_null(),
            Some(s) => match f(s) {
                Some(v) => out.append_value(v),
                None if safe => out.append_null(),
                None => return Err(invalid(format!("Cannot cast '{s}' to {what}"))),
            },
        }
    }
    Ok(Arc::new(out.finish()))
}

#[recursive::recursive]
fn convert(
    input: &ArrayRef,
    source: &TrinoType,
    target: &TrinoType,
    target_arrow: &DataType,
    safe: bool,
) -> DfResult<ArrayRef> {
    let options = CastOptions {
        safe,
        ..CastOptions::default()
    };
    if *source == TrinoType::Json && *target != TrinoType::Json {
        let texts = cast_with_options(input, &DataType::Utf8, &CastOptions::default())?;
        let converted = crate::cast_json::cast_json(
            texts.as_string::<i32>(),
            target_arrow,
            &target.to_string(),
            safe,
        )
        .map_err(invalid)?;
        return match target {
            // The text then fits the declared length as any varchar does.
            TrinoType::Varchar(Some(_)) | TrinoType::Char(_) => {
                convert(&converted, &TrinoType::VARCHAR, target, target_arrow, safe)
            }
            _ => Ok(converted),
        };
    }
    match target {
        TrinoType::Varchar(Some(n)) | TrinoType::Char(n) => {
            let n = *n as usize;
            map_strings(input, safe, "varchar", |s| {
                Some(s.chars().take(n).collect())
            })
        }
        TrinoType::Json => {
            if matches!(source, TrinoType::Varchar(_) | TrinoType::Char(_)) {
                map_strings(input, safe, "json", |s| serde_json::to_string(s).ok())
            } else if *source == TrinoType::Json {
                Ok(Arc::clone(input))
            } else {
                let values = encode_column(input, source, EncodeOptions::default())
                    .map_err(DataFusionError::Execution)?;
                let mut out = StringBuilder::new();
                for value in values {
                    if value.is_null() {
                        out.append_null();
                    } else {
                        out.append_value(value.to_string());
                    }
                }
                Ok(Arc::new(out.finish()))
            }
        }
        TrinoType::Uuid => map_strings(input, safe, "uuid", |s| {
            uuid::Uuid::parse_str(s.trim())
                .ok()
                .map(|u| u.hyphenated().to_string())
        }),
        TrinoType::IpAddress => map_strings(input, safe, "ipaddress", |s| {
            s.trim()
                .parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| ip.to_string())
        }),
        TrinoType::Time {
            precision,
            with_time_zone: true,
        } => {
            let p = *precision;
            map_strings(input, safe, "time with time zone", move |s| {
                let (local, zone) = split_zone(s)?;
                let time = chrono::NaiveTime::parse_from_str(local, "%H:%M:%S%.f").ok()?;
                let offset: chrono::FixedOffset = zone.parse().ok()?;
                let nanos = time.format("%9f").to_string();
                let fraction = if p == 0 {
                    String::new()
                } else {
                    format!(".{}", &nanos[..(p as usize).min(9)])
                };
                Some(format!(
                    "{}{fraction}{}",
                    time.format("%H:%M:%S"),
                    offset_text(offset.local_minus_utc())
                ))
            })
        }
        TrinoType::Timestamp {
            with_time_zone: true,
            ..
        } if matches!(
            input.data_type(),
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        ) =>
        {
            zoned_timestamps(input, target_arrow, safe)
        }
        TrinoType::Row(_) => match (input.data_type(), target_arrow) {
            (DataType::Struct(from), DataType::Struct(to)) if from.len() == to.len() => {
                let row = input.as_struct();
                let columns = row
                    .columns()
                    .iter()
                    .zip(to.iter())
                    .map(|(column, field)| {
                        cast_with_options(column, field.data_type(), &options).map_err(Into::into)
                    })
                    .collect::<DfResult<Vec<ArrayRef>>>()?;
                Ok(Arc::new(StructArray::try_new(
                    to.clone(),
                    columns,
                    row.nulls().cloned(),
                )?))
            }
            _ => Ok(cast_with_options(input, target_arrow, &options)?),
        },
        _ => Ok(cast_with_options(input, target_arrow, &options)?),
    }
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.abs();
    format!("{sign}{:02}:{:02}", seconds / 3600, (seconds % 3600) / 60)
}

/// Text with a zone (`2024-01-31 12:34:56.789 America/New_York`) to instants.
fn zoned_timestamps(input: &ArrayRef, target: &DataType, safe: bool) -> DfResult<ArrayRef> {
    let DataType::Timestamp(unit, zone) = target else {
        return exec_err!("expected a timestamp type");
    };
    let default_zone = zone.as_deref().unwrap_or("UTC").to_string();
    let text = cast_with_options(input, &DataType::Utf8, &CastOptions::default())?;
    let text = text.as_string::<i32>();
    let parse = |s: &str| -> Option<i64> {
        let (local, zone) = split_zone(s).unwrap_or((s.trim(), default_zone.as_str()));
        let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M"))
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(local, "%Y-%m-%d")
                    .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
            })
            .ok()?;
        let zone = normalize_zone(zone);
        let utc = if let Ok(tz) = zone.parse::<chrono_tz::Tz>() {
            tz.from_local_datetime(&naive).earliest()?.naive_utc()
        } else {
            let offset: chrono::FixedOffset = zone.parse().ok()?;
            offset.from_local_datetime(&naive).earliest()?.naive_utc()
        };
        let utc = utc.and_utc();
        match unit {
            TimeUnit::Second => Some(utc.timestamp()),
            TimeUnit::Millisecond => Some(utc.timestamp_millis()),
            TimeUnit::Microsecond => Some(utc.timestamp_micros()),
            TimeUnit::Nanosecond => utc.timestamp_nanos_opt(),
        }
    };
    let mut values = Vec::with_capacity(text.len());
    for value in text.iter() {
        values.push(match value {
            None => None,
            Some(s) => match parse(s) {
                Some(v) => Some(v),
                None if safe => None,
                None => return Err(invalid(format!("Value cannot be cast to timestamp: {s}"))),
            },
        });
    }
    let zone = zone.clone();
    Ok(match unit {
        TimeUnit::Millisecond | TimeUnit::Second => {
            let mut b = TimestampMillisecondBuilder::new();
            b.extend(values);
            Arc::new(b.finish().with_timezone_opt(zone))
        }
        TimeUnit::Microsecond => {
            let mut b = TimestampMicrosecondBuilder::new();
            b.extend(values);
            Arc::new(b.finish().with_timezone_opt(zone))
        }
        TimeUnit::Nanosecond => {
            let mut b = TimestampNanosecondBuilder::new();
            b.extend(values);
            Arc::new(b.finish().with_timezone_opt(zone))
        }
    })
}
