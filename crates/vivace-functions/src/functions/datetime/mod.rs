//! Trino's date and time functions that DataFusion lacks or gives other semantics:
//! `date_add`, `date_diff`, `date_format`/`date_parse` (MySQL specifiers),
//! `format_datetime`/`parse_datetime` (Joda-Time patterns), `from_unixtime`, `to_unixtime`,
//! the ISO 8601 functions, `at_timezone`, `with_timezone`, `current_timezone` and
//! `last_day_of_month`.
//!
//! Values are read as wall-clock time plus, for `timestamp with time zone`, the instant; the
//! zone of a result is part of its Arrow type, so it travels with the plan to workers. The
//! session zone is read only while planning (`with_updated_config`, `simplify`).

use std::str::FromStr;
use std::sync::Arc;

use arrow::array::timezone::Tz;
use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type, TimeUnit};
use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, Months, NaiveDate, NaiveDateTime, Offset,
    TimeDelta, TimeZone, Timelike,
};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result as DfResult, ScalarValue, exec_err, not_impl_err, plan_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::datetime_text::{self, Piece, PrintZone};
use super::{invalid_argument, is_text, text_array};

mod arithmetic;
mod kernels;
#[cfg(test)]
mod tests;
mod values;

use arithmetic::*;
use kernels::*;
use values::*;
pub(super) use values::{Column, Moment, Shape, read};

/// The date/time functions, one variant each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Function {
    DateAdd,
    DateDiff,
    DateFormat,
    DateParse,
    FormatDatetime,
    ParseDatetime,
    FromUnixtime,
    FromUnixtimeNanos,
    ToUnixtime,
    FromIso8601Timestamp,
    FromIso8601TimestampNanos,
    FromIso8601Date,
    ToIso8601,
    AtTimezone,
    WithTimezone,
    CurrentTimezone,
    CurrentTimestamp,
    LocalTimestamp,
    DateTrunc,
    LastDayOfMonth,
}

const FUNCTIONS: [Function; 20] = [
    Function::DateAdd,
    Function::DateDiff,
    Function::DateFormat,
    Function::DateParse,
    Function::FormatDatetime,
    Function::ParseDatetime,
    Function::FromUnixtime,
    Function::FromUnixtimeNanos,
    Function::ToUnixtime,
    Function::FromIso8601Timestamp,
    Function::FromIso8601TimestampNanos,
    Function::FromIso8601Date,
    Function::ToIso8601,
    Function::AtTimezone,
    Function::WithTimezone,
    Function::CurrentTimezone,
    Function::CurrentTimestamp,
    Function::LocalTimestamp,
    Function::DateTrunc,
    Function::LastDayOfMonth,
];

impl Function {
    fn name(self) -> &'static str {
        match self {
            Function::DateAdd => "date_add",
            Function::DateDiff => "date_diff",
            Function::DateFormat => "date_format",
            Function::DateParse => "date_parse",
            Function::FormatDatetime => "format_datetime",
            Function::ParseDatetime => "parse_datetime",
            Function::FromUnixtime => "from_unixtime",
            Function::FromUnixtimeNanos => "from_unixtime_nanos",
            Function::ToUnixtime => "to_unixtime",
            Function::FromIso8601Timestamp => "from_iso8601_timestamp",
            Function::FromIso8601TimestampNanos => "from_iso8601_timestamp_nanos",
            Function::FromIso8601Date => "from_iso8601_date",
            Function::ToIso8601 => "to_iso8601",
            Function::AtTimezone => "at_timezone",
            Function::WithTimezone => "with_timezone",
            Function::CurrentTimezone => "current_timezone",
            Function::CurrentTimestamp => "current_timestamp",
            Function::LocalTimestamp => "localtimestamp",
            Function::DateTrunc => "date_trunc",
            Function::LastDayOfMonth => "last_day_of_month",
        }
    }

    /// Trino's signatures, for the error that names them.
    fn expected(self) -> &'static str {
        match self {
            Function::DateAdd => "date_add(varchar, bigint, date|time|timestamp)",
            Function::DateDiff => "date_diff(varchar, T, T) with T date, time or timestamp",
            Function::DateFormat => "date_format(timestamp, varchar)",
            Function::DateParse => "date_parse(varchar, varchar)",
            Function::FormatDatetime => "format_datetime(timestamp, varchar)",
            Function::ParseDatetime => "parse_datetime(varchar, varchar)",
            Function::FromUnixtime => {
                "from_unixtime(double), from_unixtime(double, varchar), from_unixtime(double, bigint, bigint)"
            }
            Function::FromUnixtimeNanos => "from_unixtime_nanos(bigint)",
            Function::ToUnixtime => "to_unixtime(timestamp)",
            Function::FromIso8601Timestamp => "from_iso8601_timestamp(varchar)",
            Function::FromIso8601TimestampNanos => "from_iso8601_timestamp_nanos(varchar)",
            Function::FromIso8601Date => "from_iso8601_date(varchar)",
            Function::ToIso8601 => "to_iso8601(date|timestamp)",
            Function::AtTimezone => "at_timezone(timestamp with time zone, varchar)",
            Function::WithTimezone => "with_timezone(timestamp, varchar)",
            Function::CurrentTimezone => "current_timezone()",
            Function::CurrentTimestamp => "current_timestamp()",
            Function::LocalTimestamp => "localtimestamp()",
            Function::DateTrunc => "date_trunc(varchar, date|time|timestamp)",
            Function::LastDayOfMonth => "last_day_of_month(date|timestamp)",
        }
    }
}

/// One date/time function; `session_zone` is the planning session's zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DateTimeUdf {
    function: Function,
    session_zone: String,
    signature: Signature,
}

/// The date/time functions, for the session zone in `config`.
pub(super) fn datetime_functions(config: &ConfigOptions) -> Vec<Arc<ScalarUDF>> {
    FUNCTIONS
        .iter()
        .map(|&function| Arc::new(ScalarUDF::from(DateTimeUdf::new(function, config))))
        .collect()
}

impl DateTimeUdf {
    fn new(function: Function, config: &ConfigOptions) -> Self {
        let volatility = if matches!(
            function,
            Function::CurrentTimezone | Function::CurrentTimestamp | Function::LocalTimestamp
        ) {
            Volatility::Stable
        } else {
            Volatility::Immutable
        };
        DateTimeUdf {
            function,
            session_zone: session_zone(config),
            signature: Signature::user_defined(volatility),
        }
    }

    fn mismatch<T>(&self, types: &[DataType]) -> DfResult<T> {
        super::unexpected_parameters(self.function.name(), types, self.function.expected())
    }
}

/// The session's zone while planning; UTC when the session has none.
fn session_zone(config: &ConfigOptions) -> String {
    config
        .execution
        .time_zone
        .clone()
        .unwrap_or_else(|| "UTC".to_string())
}

impl ScalarUDFImpl for DateTimeUdf {
    fn name(&self) -> &str {
        self.function.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        Some(ScalarUDF::from(DateTimeUdf::new(self.function, config)))
    }

    fn coerce_types(&self, types: &[DataType]) -> DfResult<Vec<DataType>> {
        match coerce(self.function, types) {
            Some(coerced) => Ok(coerced),
            None => self.mismatch(types),
        }
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        plan_err!("{} is typed by its arguments", self.name())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        let types: Vec<&DataType> = args.arg_fields.iter().map(|f| f.data_type()).collect();
        let constant = |i: usize| args.scalar_arguments.get(i).copied().flatten();
        let session = || Some(Arc::from(self.session_zone.as_str()));
        let data_type = match self.function {
            Function::DateAdd => match types.get(2) {
                Some(t) => (*t).clone(),
                None => return self.mismatch(&[]),
            },
            Function::DateDiff => DataType::Int64,
            Function::DateFormat
            | Function::FormatDatetime
            | Function::ToIso8601
            | Function::CurrentTimezone => DataType::Utf8,
            Function::DateParse | Function::LocalTimestamp => {
                DataType::Timestamp(TimeUnit::Millisecond, None)
            }
            Function::CurrentTimestamp => DataType::Timestamp(TimeUnit::Millisecond, session()),
            Function::DateTrunc => match types.get(1) {
                Some(t) => (*t).clone(),
                None => return self.mismatch(&[]),
            },
            Function::ParseDatetime => DataType::Timestamp(TimeUnit::Millisecond, session()),
            Function::FromUnixtime => {
                let zone = match types.len() {
                    2 => Some(constant_zone(self.function, constant(1))?),
                    3 => Some(constant_offset(constant(1), constant(2))?),
                    _ => session(),
                };
                DataType::Timestamp(TimeUnit::Millisecond, zone)
            }
            Function::FromUnixtimeNanos => DataType::Timestamp(TimeUnit::Nanosecond, session()),
            Function::ToUnixtime => DataType::Float64,
            Function::FromIso8601Timestamp | Function::FromIso8601TimestampNanos => {
                let unit = if self.function == Function::FromIso8601Timestamp {
                    TimeUnit::Millisecond
                } else {
                    TimeUnit::Nanosecond
                };
                // A constant keeps the offset it names; anything else shows in the session zone.
                let written = constant_text(constant(0))
                    .and_then(|text| datetime_text::parse_iso_timestamp(&text))
                    .and_then(|(_, offset)| offset)
                    .map(|offset| zone_of_offset(offset.local_minus_utc()));
                DataType::Timestamp(unit, written.or_else(session))
            }
            Function::FromIso8601Date | Function::LastDayOfMonth => DataType::Date32,
            Function::AtTimezone | Function::WithTimezone => {
                let unit = match types.first() {
                    Some(DataType::Timestamp(unit, _)) => *unit,
                    _ => TimeUnit::Millisecond,
                };
                DataType::Timestamp(unit, Some(constant_zone(self.function, constant(1))?))
            }
        };
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }

    fn simplify(
        &self,
        mut args: Vec<Expr>,
        info: &SimplifyContext,
    ) -> DfResult<ExprSimplifyResult> {
        let zone = session_zone(info.config_options());
        match self.function {
            Function::CurrentTimezone => Ok(ExprSimplifyResult::Simplified(Expr::Literal(
                ScalarValue::Utf8(Some(zone)),
                None,
            ))),
            // The statement's start, the same everywhere in it, to the millisecond.
            Function::CurrentTimestamp | Function::LocalTimestamp => {
                let Some(start) = info.query_execution_start_time() else {
                    return Ok(ExprSimplifyResult::Original(args));
                };
                let millis = start.timestamp_millis();
                let value = if self.function == Function::CurrentTimestamp {
                    ScalarValue::TimestampMillisecond(Some(millis), Some(Arc::from(zone.as_str())))
                } else {
                    let tz = parse_zone(&zone)?;
                    let local = tz.from_utc_datetime(&start.naive_utc()).naive_local();
                    ScalarValue::TimestampMillisecond(
                        Some(local.and_utc().timestamp_millis()),
                        None,
                    )
                };
                Ok(ExprSimplifyResult::Simplified(Expr::Literal(value, None)))
            }
            // Trino reads a timestamp without a zone in the session zone where a function
            // needs an instant.
            Function::ToUnixtime | Function::AtTimezone | Function::FormatDatetime => {
                let Some(first) = args.first() else {
                    return Ok(ExprSimplifyResult::Original(args));
                };
                let DataType::Timestamp(unit, None) = info.get_data_type(first)? else {
                    return Ok(ExprSimplifyResult::Original(args));
                };
                args[0] = Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(args[0].clone()),
                    DataType::Timestamp(unit, Some(Arc::from(zone.as_str()))),
                ));
                let udf = Arc::new(ScalarUDF::from(self.clone()));
                Ok(ExprSimplifyResult::Simplified(Expr::ScalarFunction(
                    ScalarFunction::new_udf(udf, args),
                )))
            }
            _ => Ok(ExprSimplifyResult::Original(args)),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let (arrays, rows, all_scalar) = super::argument_arrays(&args)?;
        let result_type = args.return_field.data_type();
        let result = match self.function {
            Function::DateAdd => date_add(&arrays)?,
            Function::DateDiff => date_diff(&arrays)?,
            Function::DateFormat => format(&arrays, datetime_text::compile_mysql)?,
            Function::FormatDatetime => format(&arrays, datetime_text::compile_joda)?,
            Function::DateParse => parse(&arrays, datetime_text::compile_mysql, result_type)?,
            Function::ParseDatetime => parse(&arrays, datetime_text::compile_joda, result_type)?,
            Function::FromUnixtime => from_unixtime(&arrays, result_type)?,
            Function::FromUnixtimeNanos => from_unixtime_nanos(&arrays, result_type)?,
            Function::ToUnixtime => to_unixtime(&arrays)?,
            Function::FromIso8601Timestamp | Function::FromIso8601TimestampNanos => {
                from_iso8601_timestamp(&arrays, result_type)?
            }
            Function::FromIso8601Date => from_iso8601_date(&arrays)?,
            Function::ToIso8601 => to_iso8601(&arrays)?,
            Function::AtTimezone => match arrays.first() {
                Some(values) => arrow::compute::cast(values, result_type)?,
                None => return exec_err!("at_timezone takes two arguments"),
            },
            Function::WithTimezone => with_timezone(&arrays, result_type)?,
            Function::CurrentTimezone => {
                let zone = StringArray::from(vec![self.session_zone.as_str(); rows]);
                Arc::new(zone)
            }
            Function::CurrentTimestamp | Function::LocalTimestamp => {
                return exec_err!("{} is replaced by a constant while planning", self.name());
            }
            Function::DateTrunc => date_trunc(&arrays)?,
            Function::LastDayOfMonth => last_day_of_month(&arrays)?,
        };
        super::columnar(result, all_scalar)
    }
}

// ---------------------------------------------------------------------------------------------
// Argument types

fn is_integer(t: &DataType) -> bool {
    t.is_integer() || *t == DataType::Null
}

fn is_number(t: &DataType) -> bool {
    t.is_numeric() || *t == DataType::Null
}

/// A date, time or timestamp type as functions take it (`Date64` becomes `Date32`).
fn temporal(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Date32 | DataType::Date64 => Some(DataType::Date32),
        DataType::Timestamp(..) | DataType::Time32(_) | DataType::Time64(_) => Some(t.clone()),
        DataType::Null => Some(DataType::Timestamp(TimeUnit::Millisecond, None)),
        _ => None,
    }
}

/// A timestamp type; a date is read as its midnight.
fn timestamp(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Timestamp(..) => Some(t.clone()),
        DataType::Date32 | DataType::Date64 | DataType::Null => {
            Some(DataType::Timestamp(TimeUnit::Millisecond, None))
        }
        _ => None,
    }
}

/// The argument types a call is run with, or `None` when Trino has no such signature.
fn coerce(function: Function, types: &[DataType]) -> Option<Vec<DataType>> {
    let text = DataType::Utf8;
    match (function, types) {
        (Function::DateAdd, [unit, value, x]) if is_text(unit) && is_integer(value) => {
            Some(vec![text, DataType::Int64, temporal(x)?])
        }
        (Function::DateDiff, [unit, a, b]) if is_text(unit) => {
            let (a, b) = (temporal(a)?, temporal(b)?);
            let common = match (&a, &b) {
                (DataType::Date32, DataType::Date32) => a,
                (DataType::Timestamp(..), _) if timestamp(&b).is_some() => a,
                (_, DataType::Timestamp(..)) if timestamp(&a).is_some() => b,
                (
                    DataType::Time32(_) | DataType::Time64(_),
                    DataType::Time32(_) | DataType::Time64(_),
                ) => DataType::Time64(TimeUnit::Nanosecond),
                _ => return None,
            };
            Some(vec![text, common.clone(), common])
        }
        (Function::DateFormat | Function::FormatDatetime, [x, pattern]) if is_text(pattern) => {
            Some(vec![timestamp(x)?, text])
        }
        (Function::DateParse | Function::ParseDatetime, [value, pattern])
            if is_text(value) && is_text(pattern) =>
        {
            Some(vec![text.clone(), text])
        }
        (Function::FromUnixtime, [x]) if is_number(x) => Some(vec![DataType::Float64]),
        (Function::FromUnixtime, [x, zone]) if is_number(x) && is_text(zone) => {
            Some(vec![DataType::Float64, text])
        }
        (Function::FromUnixtime, [x, hours, minutes])
            if is_number(x) && is_integer(hours) && is_integer(minutes) =>
        {
            Some(vec![DataType::Float64, DataType::Int64, DataType::Int64])
        }
        (Function::FromUnixtimeNanos, [x]) if is_number(x) => Some(vec![DataType::Int64]),
        (Function::ToUnixtime | Function::LastDayOfMonth, [x]) => match (function, temporal(x)?) {
            (Function::LastDayOfMonth, DataType::Date32) => Some(vec![DataType::Date32]),
            (_, t) => Some(vec![timestamp(&t)?]),
        },
        (
            Function::FromIso8601Timestamp
            | Function::FromIso8601TimestampNanos
            | Function::FromIso8601Date,
            [x],
        ) if is_text(x) => Some(vec![text]),
        (Function::ToIso8601, [x]) => match temporal(x)? {
            DataType::Date32 => Some(vec![DataType::Date32]),
            t => Some(vec![timestamp(&t)?]),
        },
        (Function::AtTimezone | Function::WithTimezone, [x, zone]) if is_text(zone) => {
            Some(vec![timestamp(x)?, text])
        }
        (Function::CurrentTimezone | Function::CurrentTimestamp | Function::LocalTimestamp, []) => {
            Some(vec![])
        }
        (Function::DateTrunc, [unit, x]) if is_text(unit) => Some(vec![text, temporal(x)?]),
        _ => None,
    }
}

fn constant_text(value: Option<&ScalarValue>) -> Option<String> {
    match value? {
        ScalarValue::Utf8(text) | ScalarValue::LargeUtf8(text) | ScalarValue::Utf8View(text) => {
            text.clone()
        }
        _ => None,
    }
}

/// The zone a constant argument names, in Trino's spelling.
fn constant_zone(function: Function, value: Option<&ScalarValue>) -> DfResult<Arc<str>> {
    match value {
        Some(scalar) => match constant_text(Some(scalar)) {
            Some(text) => canonical_zone(&text).map_err(invalid_argument),
            None => plan_err!("{} needs a time zone", function.name()),
        },
        None => not_impl_err!(
            "{} with a time zone that is not a constant is not supported",
            function.name()
        ),
    }
}

/// `America/New_York` as the zone database spells it, `+05:30` for offsets, `UTC` for `Z`.
fn canonical_zone(text: &str) -> Result<Arc<str>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("Z") || text.eq_ignore_ascii_case("UTC") {
        return Ok(Arc::from("UTC"));
    }
    if let Some(zone) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|zone| zone.name().eq_ignore_ascii_case(text))
    {
        return Ok(Arc::from(zone.name()));
    }
    if let Ok(offset) = FixedOffset::from_str(text) {
        return Ok(zone_of_offset(offset.local_minus_utc()));
    }
    Err(format!("Time zone not supported: {text}"))
}

fn zone_of_offset(seconds: i32) -> Arc<str> {
    if seconds == 0 {
        Arc::from("UTC")
    } else {
        Arc::from(datetime_text::offset_text(seconds, true))
    }
}

/// The zone of `from_unixtime(x, hours, minutes)`.
fn constant_offset(
    hours: Option<&ScalarValue>,
    minutes: Option<&ScalarValue>,
) -> DfResult<Arc<str>> {
    let integer = |value: Option<&ScalarValue>| match value?.cast_to(&DataType::Int64) {
        Ok(ScalarValue::Int64(Some(v))) => Some(v),
        _ => None,
    };
    let (Some(hours), Some(minutes)) = (integer(hours), integer(minutes)) else {
        return not_impl_err!(
            "from_unixtime with an offset that is not a constant is not supported"
        );
    };
    let minutes_total = hours
        .checked_mul(60)
        .and_then(|h| h.checked_add(minutes))
        .filter(|t| (-18 * 60..=18 * 60).contains(t));
    match minutes_total.and_then(|t| i32::try_from(t * 60).ok()) {
        Some(seconds) => Ok(zone_of_offset(seconds)),
        None => Err(invalid_argument(format!(
            "Invalid offset of {hours} hours and {minutes} minutes"
        ))),
    }
}
