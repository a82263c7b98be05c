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

// ---------------------------------------------------------------------------------------------
// Reading and writing values

/// One value: its wall-clock time and, for `timestamp with time zone`, its instant (for
/// other types the two are equal). Dates are midnight and times fall on 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Moment {
    pub(super) local: NaiveDateTime,
    pub(super) utc: NaiveDateTime,
}

/// The storage of a date/time Arrow type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Shape {
    Date,
    Timestamp(TimeUnit),
    Time(TimeUnit),
}

/// A date/time column: its shape, its zone and its values.
pub(super) struct Column {
    pub(super) shape: Shape,
    pub(super) zone: Option<Tz>,
    pub(super) zone_name: Option<Arc<str>>,
    pub(super) values: Vec<Option<Moment>>,
}

fn per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

fn epoch() -> NaiveDateTime {
    DateTime::UNIX_EPOCH.naive_utc()
}

fn naive_from_raw(raw: i64, unit: TimeUnit) -> Option<NaiveDateTime> {
    let n = per_second(unit);
    let nanos = raw.rem_euclid(n) * (1_000_000_000 / n);
    DateTime::from_timestamp(raw.div_euclid(n), u32::try_from(nanos).ok()?).map(|d| d.naive_utc())
}

fn raw_from_naive(moment: NaiveDateTime, unit: TimeUnit) -> Option<i64> {
    let utc = moment.and_utc();
    let n = per_second(unit);
    let fraction = i64::from(utc.timestamp_subsec_nanos()) / (1_000_000_000 / n);
    utc.timestamp().checked_mul(n)?.checked_add(fraction)
}

/// The instant of wall-clock time `local` in `zone`: the earlier one when clocks go back, and
/// the time after the gap when they go forward (as Joda-Time does).
fn resolve(zone: &Tz, local: NaiveDateTime) -> Option<NaiveDateTime> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.naive_utc()),
        LocalResult::None => {
            let later = local.checked_add_signed(TimeDelta::hours(1))?;
            match zone.from_local_datetime(&later) {
                LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.naive_utc()),
                LocalResult::None => None,
            }
        }
    }
}

fn parse_zone(name: &str) -> DfResult<Tz> {
    Tz::from_str(name)
        .map_err(|e| invalid_argument(format!("Time zone not supported: {name}: {e}")))
}

pub(super) fn read(array: &ArrayRef) -> DfResult<Column> {
    let (shape, zone_name) = match array.data_type() {
        DataType::Date32 => (Shape::Date, None),
        DataType::Timestamp(unit, zone) => (Shape::Timestamp(*unit), zone.clone()),
        DataType::Time32(unit) | DataType::Time64(unit) => (Shape::Time(*unit), None),
        other => return exec_err!("expected a date/time value, got {other}"),
    };
    let zone = zone_name.as_deref().map(parse_zone).transpose()?;
    let integers = match shape {
        Shape::Date | Shape::Time(TimeUnit::Second | TimeUnit::Millisecond) => {
            let narrow = arrow::compute::cast(array, &DataType::Int32)?;
            arrow::compute::cast(&narrow, &DataType::Int64)?
        }
        _ => arrow::compute::cast(array, &DataType::Int64)?,
    };
    let values = integers
        .as_primitive::<Int64Type>()
        .iter()
        .map(|raw| {
            let raw = raw?;
            let utc = match shape {
                Shape::Date => epoch().checked_add_signed(TimeDelta::try_days(raw)?)?,
                Shape::Timestamp(unit) | Shape::Time(unit) => naive_from_raw(raw, unit)?,
            };
            let local = match &zone {
                Some(zone) => zone.from_utc_datetime(&utc).naive_local(),
                None => utc,
            };
            Some(Moment { local, utc })
        })
        .collect();
    Ok(Column {
        shape,
        zone,
        zone_name,
        values,
    })
}

/// Writes moments back in `column`'s type; a `None` moment is NULL.
fn write(column: &Column, values: &[Option<Moment>], data_type: &DataType) -> DfResult<ArrayRef> {
    let raw: Int64Array = values
        .iter()
        .map(|moment| {
            let moment = (*moment)?;
            match column.shape {
                Shape::Date => Some((moment.local.date() - epoch().date()).num_days()),
                Shape::Time(unit) => {
                    raw_from_naive(epoch().date().and_time(moment.local.time()), unit)
                }
                Shape::Timestamp(unit) => raw_from_naive(moment.utc, unit),
            }
        })
        .collect();
    let raw: ArrayRef = Arc::new(raw);
    let raw = match column.shape {
        Shape::Date | Shape::Time(TimeUnit::Second | TimeUnit::Millisecond) => {
            arrow::compute::cast(&raw, &DataType::Int32)?
        }
        _ => raw,
    };
    Ok(arrow::compute::cast(&raw, data_type)?)
}

/// A moment with new wall-clock time `local`, in `zone`.
fn at_local(zone: Option<&Tz>, local: NaiveDateTime) -> Option<Moment> {
    let utc = match zone {
        Some(zone) => resolve(zone, local)?,
        None => local,
    };
    Some(Moment { local, utc })
}

fn text_values(array: Option<&ArrayRef>) -> DfResult<StringArray> {
    match array {
        Some(array) => text_array(array),
        None => exec_err!("missing text argument"),
    }
}

// ---------------------------------------------------------------------------------------------
// date_add and date_diff

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    /// The unit named by `text` for a value of `shape`, or Trino's error.
    fn for_shape(text: &str, shape: Shape) -> DfResult<Unit> {
        let unit = match text.to_ascii_lowercase().as_str() {
            "millisecond" => Some(Unit::Millisecond),
            "second" => Some(Unit::Second),
            "minute" => Some(Unit::Minute),
            "hour" => Some(Unit::Hour),
            "day" => Some(Unit::Day),
            "week" => Some(Unit::Week),
            "month" => Some(Unit::Month),
            "quarter" => Some(Unit::Quarter),
            "year" => Some(Unit::Year),
            _ => None,
        };
        let (allowed, kind) = match shape {
            Shape::Date => (
                unit.filter(|u| u.months().is_some() || u.days().is_some()),
                "DATE",
            ),
            Shape::Time(_) => (unit.filter(|u| u.millis().is_some()), "TIME"),
            Shape::Timestamp(_) => (unit, "Timestamp"),
        };
        allowed.ok_or_else(|| invalid_argument(format!("'{text}' is not a valid {kind} field")))
    }

    fn millis(self) -> Option<i64> {
        match self {
            Unit::Millisecond => Some(1),
            Unit::Second => Some(1_000),
            Unit::Minute => Some(60_000),
            Unit::Hour => Some(3_600_000),
            _ => None,
        }
    }

    fn days(self) -> Option<i64> {
        match self {
            Unit::Day => Some(1),
            Unit::Week => Some(7),
            _ => None,
        }
    }

    fn months(self) -> Option<i64> {
        match self {
            Unit::Month => Some(1),
            Unit::Quarter => Some(3),
            Unit::Year => Some(12),
            _ => None,
        }
    }
}

fn add_months(local: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let count = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        local.checked_add_months(count)
    } else {
        local.checked_sub_months(count)
    }
}

/// `moment` plus `amount` `unit`s. Units up to hours move the instant; days and longer move
/// the wall-clock time in the value's zone; times wrap around midnight.
fn add(column: &Column, moment: Moment, unit: Unit, amount: i64) -> Option<Moment> {
    if let Some(millis) = unit.millis() {
        let delta = TimeDelta::try_milliseconds(amount.checked_mul(millis)?)?;
        return match (column.shape, &column.zone) {
            (Shape::Time(_), _) => {
                let (time, _) = moment.local.time().overflowing_add_signed(delta);
                at_local(None, epoch().date().and_time(time))
            }
            (_, Some(zone)) => {
                let utc = moment.utc.checked_add_signed(delta)?;
                Some(Moment {
                    local: zone.from_utc_datetime(&utc).naive_local(),
                    utc,
                })
            }
            (_, None) => at_local(None, moment.local.checked_add_signed(delta)?),
        };
    }
    let local = match (unit.days(), unit.months()) {
        (Some(days), _) => moment
            .local
            .checked_add_signed(TimeDelta::try_days(amount.checked_mul(days)?)?)?,
        (_, Some(months)) => add_months(moment.local, amount.checked_mul(months)?)?,
        (None, None) => return None,
    };
    at_local(column.zone.as_ref(), local)
}

/// Whole months from `a` to `b`, counted as Joda-Time does: a month is only complete when
/// adding it to `a` does not pass `b`.
fn months_between(a: NaiveDateTime, b: NaiveDateTime) -> Option<i64> {
    let index = |d: NaiveDateTime| i64::from(d.year()) * 12 + i64::from(d.month0());
    let mut months = index(b) - index(a);
    let shifted = add_months(a, months)?;
    if months > 0 && shifted > b {
        months -= 1;
    } else if months < 0 && shifted < b {
        months += 1;
    }
    Some(months)
}

fn difference(unit: Unit, a: Moment, b: Moment) -> Option<i64> {
    if let Some(millis) = unit.millis() {
        return Some((b.utc - a.utc).num_milliseconds() / millis);
    }
    if let Some(days) = unit.days() {
        return Some((b.local - a.local).num_days() / days);
    }
    Some(months_between(a.local, b.local)? / unit.months()?)
}

/// `moment` cut down to the start of its `unit`, in wall-clock time (weeks start on Monday).
fn truncate(column: &Column, moment: Moment, unit: Unit) -> Option<Moment> {
    let local = moment.local;
    let date = local.date();
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN);
    let cut = match unit {
        Unit::Millisecond => local.with_nanosecond(local.nanosecond() / 1_000_000 * 1_000_000)?,
        Unit::Second => local.with_nanosecond(0)?,
        Unit::Minute => local.with_nanosecond(0)?.with_second(0)?,
        Unit::Hour => local.with_nanosecond(0)?.with_second(0)?.with_minute(0)?,
        Unit::Day => midnight(date),
        Unit::Week => {
            midnight(date - TimeDelta::days(i64::from(date.weekday().num_days_from_monday())))
        }
        Unit::Month => midnight(date.with_day(1)?),
        Unit::Quarter => midnight(NaiveDate::from_ymd_opt(
            date.year(),
            date.month0() / 3 * 3 + 1,
            1,
        )?),
        Unit::Year => midnight(NaiveDate::from_ymd_opt(date.year(), 1, 1)?),
    };
    if unit.millis().is_some() && column.zone.is_some() {
        // Units up to hours cut the instant, which keeps the offset when clocks go back.
        let offset = moment.local - moment.utc;
        return Some(Moment {
            local: cut,
            utc: cut - offset,
        });
    }
    at_local(column.zone.as_ref(), cut)
}

fn date_trunc(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
    let [units, values] = arrays else {
        return exec_err!("date_trunc takes two arguments");
    };
    let units = text_array(units)?;
    let column = read(values)?;
    let mut out = Vec::with_capacity(column.values.len());
    for (row, moment) in column.values.iter().enumerate() {
        let (Some(moment), false) = (moment, units.is_null(row)) else {
            out.push(None);
            continue;
        };
        let unit = Unit::for_shape(units.value(row), column.shape)?;
        out.push(truncate(&column, *moment, unit));
    }
    write(&column, &out, values.data_type())
}

fn date_add(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
    let [units, amounts, values] = arrays else {
        return exec_err!("date_add takes three arguments");
    };
    let units = text_array(units)?;
    let amounts = arrow::compute::cast(amounts, &DataType::Int64)?;
    let amounts = amounts.as_primitive::<Int64Type>();
    let column = read(values)?;
    let mut out = Vec::with_capacity(column.values.len());
    for (row, moment) in column.values.iter().enumerate() {
        if units.is_null(row) || amounts.is_null(row) {
            out.push(None);
            continue;
        }
        let unit = Unit::for_shape(units.value(row), column.shape)?;
        let Some(moment) = moment else {
            out.push(None);
            continue;
        };
        let amount = amounts.value(row);
        match add(&column, *moment, unit, amount) {
            Some(result) => out.push(Some(result)),
            None => {
                return Err(invalid_argument(format!(
                    "date_add: adding {amount} {} is out of range",
                    units.value(row)
                )));
            }
        }
    }
    write(&column, &out, values.data_type())
}

fn date_diff(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
    let [units, first_values, second] = arrays else {
        return exec_err!("date_diff takes three arguments");
    };
    let units = text_array(units)?;
    let first = read(first_values)?;
    // Both in the first value's zone, as Trino counts days and months in it.
    let second = read(&arrow::compute::cast(second, first_values.data_type())?)?;
    let mut out = Int64Array::builder(first.values.len());
    for row in 0..first.values.len() {
        if units.is_null(row) {
            out.append_null();
            continue;
        }
        let unit = Unit::for_shape(units.value(row), first.shape)?;
        match (first.values[row], second.values[row]) {
            (Some(a), Some(b)) => match difference(unit, a, b) {
                Some(value) => out.append_value(value),
                None => {
                    return Err(invalid_argument(
                        "date_diff: value out of range".to_string(),
                    ));
                }
            },
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

// ---------------------------------------------------------------------------------------------
// Patterns

/// Compiled patterns, kept while consecutive rows use the same one.
struct PatternCache {
    compile: fn(&str) -> Result<Vec<Piece>, String>,
    last: Option<(String, Vec<Piece>)>,
}

impl PatternCache {
    fn get(&mut self, pattern: &str) -> DfResult<&[Piece]> {
        let stale = self.last.as_ref().is_none_or(|(text, _)| text != pattern);
        if stale {
            let pieces = (self.compile)(pattern).map_err(invalid_argument)?;
            self.last = Some((pattern.to_string(), pieces));
        }
        match &self.last {
            Some((_, pieces)) => Ok(pieces),
            None => exec_err!("no pattern"),
        }
    }
}

fn format(
    arrays: &[ArrayRef],
    compile: fn(&str) -> Result<Vec<Piece>, String>,
) -> DfResult<ArrayRef> {
    let [values, patterns] = arrays else {
        return exec_err!("formatting takes two arguments");
    };
    let column = read(values)?;
    let patterns = text_array(patterns)?;
    let mut cache = PatternCache {
        compile,
        last: None,
    };
    let mut out = StringBuilder::new();
    for (row, moment) in column.values.iter().enumerate() {
        let (Some(moment), false) = (moment, patterns.is_null(row)) else {
            out.append_null();
            continue;
        };
        let pieces = cache.get(patterns.value(row))?;
        let zone = match (&column.zone, &column.zone_name) {
            (Some(zone), Some(name)) => Some(PrintZone {
                offset_seconds: zone
                    .offset_from_utc_datetime(&moment.utc)
                    .fix()
                    .local_minus_utc(),
                name,
            }),
            _ => None,
        };
        out.append_value(datetime_text::print(pieces, &moment.local, zone));
    }
    Ok(Arc::new(out.finish()))
}

fn parse(
    arrays: &[ArrayRef],
    compile: fn(&str) -> Result<Vec<Piece>, String>,
    result_type: &DataType,
) -> DfResult<ArrayRef> {
    let [texts, patterns] = arrays else {
        return exec_err!("parsing takes two arguments");
    };
    let texts = text_array(texts)?;
    let patterns = text_array(patterns)?;
    let zone = result_zone(result_type)?;
    let mut cache = PatternCache {
        compile,
        last: None,
    };
    let mut out = Vec::with_capacity(texts.len());
    for row in 0..texts.len() {
        if texts.is_null(row) || patterns.is_null(row) {
            out.push(None);
            continue;
        }
        let pieces = cache.get(patterns.value(row))?;
        let parsed = datetime_text::parse(pieces, texts.value(row)).map_err(invalid_argument)?;
        let Some(local) = parsed.local else {
            out.push(None);
            continue;
        };
        let utc = match (&parsed.zone, &zone) {
            (Some(datetime_text::ParsedZone::Offset(offset)), Some(_)) => {
                Some(local - TimeDelta::seconds(i64::from(offset.local_minus_utc())))
            }
            (Some(datetime_text::ParsedZone::Named(name)), Some(_)) => {
                resolve(&parse_zone(name)?, local)
            }
            (None, Some(zone)) => resolve(zone, local),
            (_, None) => Some(local),
        };
        out.push(utc.and_then(|utc| raw_from_naive(utc, TimeUnit::Millisecond)));
    }
    let raw: ArrayRef = Arc::new(Int64Array::from(out));
    Ok(arrow::compute::cast(&raw, result_type)?)
}

fn result_zone(result_type: &DataType) -> DfResult<Option<Tz>> {
    match result_type {
        DataType::Timestamp(_, Some(zone)) => Ok(Some(parse_zone(zone)?)),
        _ => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Unix time, ISO 8601, zones

fn from_unixtime(arrays: &[ArrayRef], result_type: &DataType) -> DfResult<ArrayRef> {
    let Some(seconds) = arrays.first() else {
        return exec_err!("from_unixtime needs a value");
    };
    let seconds = arrow::compute::cast(seconds, &DataType::Float64)?;
    let mut out = Int64Array::builder(seconds.len());
    for value in seconds.as_primitive::<Float64Type>().iter() {
        match value {
            None => out.append_null(),
            Some(v) => {
                let millis = (v * 1000.0).round();
                if !millis.is_finite() || millis.abs() > 9.2e18 {
                    return Err(invalid_argument(format!("Invalid unix time: {v}")));
                }
                #[allow(clippy::cast_possible_truncation)]
                out.append_value(millis as i64);
            }
        }
    }
    let raw: ArrayRef = Arc::new(out.finish());
    Ok(arrow::compute::cast(&raw, result_type)?)
}

fn from_unixtime_nanos(arrays: &[ArrayRef], result_type: &DataType) -> DfResult<ArrayRef> {
    match arrays.first() {
        Some(nanos) => {
            let raw = arrow::compute::cast(nanos, &DataType::Int64)?;
            Ok(arrow::compute::cast(&raw, result_type)?)
        }
        None => exec_err!("from_unixtime_nanos needs a value"),
    }
}

fn to_unixtime(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
    let Some(values) = arrays.first() else {
        return exec_err!("to_unixtime needs a value");
    };
    let DataType::Timestamp(unit, _) = values.data_type() else {
        return exec_err!("to_unixtime needs a timestamp");
    };
    let per_second = per_second(*unit) as f64;
    let raw = arrow::compute::cast(values, &DataType::Int64)?;
    let seconds: Float64Array = raw
        .as_primitive::<Int64Type>()
        .iter()
        .map(|raw| raw.map(|r| r as f64 / per_second))
        .collect();
    Ok(Arc::new(seconds))
}

fn from_iso8601_timestamp(arrays: &[ArrayRef], result_type: &DataType) -> DfResult<ArrayRef> {
    let texts = text_values(arrays.first())?;
    let DataType::Timestamp(unit, _) = result_type else {
        return exec_err!("from_iso8601_timestamp returns a timestamp");
    };
    let zone = result_zone(result_type)?;
    let mut out = Vec::with_capacity(texts.len());
    for text in texts.iter() {
        let Some(text) = text else {
            out.push(None);
            continue;
        };
        let invalid = || invalid_argument(format!("Invalid format: \"{text}\""));
        let (local, offset) =
            datetime_text::parse_iso_timestamp(text.trim()).ok_or_else(invalid)?;
        let utc = match (offset, &zone) {
            (Some(offset), _) => {
                Some(local - TimeDelta::seconds(i64::from(offset.local_minus_utc())))
            }
            (None, Some(zone)) => resolve(zone, local),
            (None, None) => Some(local),
        };
        out.push(Some(
            utc.and_then(|utc| raw_from_naive(utc, *unit))
                .ok_or_else(invalid)?,
        ));
    }
    let raw: ArrayRef = Arc::new(Int64Array::from(out));
    Ok(arrow::compute::cast(&raw, result_type)?)
}

fn from_iso8601_date(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
    let texts = text_values(arrays.first())?;
    let mut days = Vec::with_capacity(texts.len());
    for text in texts.iter() {
        let Some(text) = text else {
            days.push(None);
            continue;
        };
        let date = datetime_text::parse_iso_date(text.trim())
            .ok_or_else(|| invalid_argument(format!("Invalid format: \"{text}\"")))?;
        days.push(i32::try_from((date - epoch().date()).num_days()).ok());
    }
    let raw: ArrayRef = Arc::new(arrow::array::Int32Array::from(days));
    Ok(arrow::compute::cast(&raw, &DataType::Date32)?)
}

fn to_iso8601(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
    let Some(values) = arrays.first() else {
        return exec_err!("to_iso8601 needs a value");
    };
    let column = read(values)?;
    let mut out = StringBuilder::new();
    for moment in &column.values {
        let Some(moment) = moment else {
            out.append_null();
            continue;
        };
        let text = match column.shape {
            Shape::Date => moment.local.format("%Y-%m-%d").to_string(),
            Shape::Time(unit) | Shape::Timestamp(unit) => {
                let digits = crate::types::unit_precision(unit) as usize;
                let mut text = moment.local.format("%Y-%m-%dT%H:%M:%S").to_string();
                if digits > 0 {
                    let nanos = format!("{:09}", moment.local.and_utc().timestamp_subsec_nanos());
                    text.push('.');
                    text.push_str(&nanos[..digits]);
                }
                if let Some(zone) = &column.zone {
                    let offset = zone
                        .offset_from_utc_datetime(&moment.utc)
                        .fix()
                        .local_minus_utc();
                    if offset == 0 {
                        text.push('Z');
                    } else {
                        text.push_str(&datetime_text::offset_text(offset, true));
                    }
                }
                text
            }
        };
        out.append_value(text);
    }
    Ok(Arc::new(out.finish()))
}

fn with_timezone(arrays: &[ArrayRef], result_type: &DataType) -> DfResult<ArrayRef> {
    let Some(values) = arrays.first() else {
        return exec_err!("with_timezone needs a value");
    };
    let zone = result_zone(result_type)?;
    let column = read(values)?;
    let moved: Vec<Option<Moment>> = column
        .values
        .iter()
        .map(|moment| at_local(zone.as_ref(), (*moment)?.local))
        .collect();
    let target = Column {
        shape: column.shape,
        zone,
        zone_name: None,
        values: Vec::new(),
    };
    write(&target, &moved, result_type)
}

fn last_day_of_month(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
    let Some(values) = arrays.first() else {
        return exec_err!("last_day_of_month needs a value");
    };
    let column = read(values)?;
    let days: Vec<Option<i32>> = column
        .values
        .iter()
        .map(|moment| {
            let date = (*moment)?.local.date();
            let first = NaiveDate::from_ymd_opt(date.year(), date.month(), 1)?;
            let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
            i32::try_from((last - epoch().date()).num_days()).ok()
        })
        .collect();
    let raw: ArrayRef = Arc::new(arrow::array::Int32Array::from(days));
    Ok(arrow::compute::cast(&raw, &DataType::Date32)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moment(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn months_count_only_when_complete() {
        let between = |a, b| months_between(moment(a), moment(b)).unwrap();
        assert_eq!(between("2024-01-31 00:00:00", "2024-02-29 00:00:00"), 1);
        assert_eq!(between("2024-01-31 10:00:00", "2024-02-29 09:00:00"), 0);
        assert_eq!(between("2024-03-15 00:00:00", "2024-01-16 00:00:00"), -1);
        assert_eq!(between("2020-02-29 00:00:00", "2021-02-28 00:00:00"), 12);
    }

    #[test]
    fn zones_are_spelled_as_trino_does() {
        assert_eq!(
            &*canonical_zone("america/new_york").unwrap(),
            "America/New_York"
        );
        assert_eq!(&*canonical_zone("+05:30").unwrap(), "+05:30");
        assert_eq!(&*canonical_zone("Z").unwrap(), "UTC");
        assert!(canonical_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn clocks_going_forward_skip_the_gap() {
        let zone = parse_zone("America/New_York").unwrap();
        // 02:30 does not exist on 2024-03-10 in New York; it becomes 03:30 EDT = 07:30 UTC.
        let utc = resolve(&zone, moment("2024-03-10 02:30:00")).unwrap();
        assert_eq!(utc, moment("2024-03-10 07:30:00"));
    }
}
