//! Reading date-time columns into moments and writing moments back, in each Arrow unit and zone.

use super::*;

/// One value: its wall-clock time and, for `timestamp with time zone`, its instant (for
/// other types the two are equal). Dates are midnight and times fall on 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::functions) struct Moment {
    pub(in crate::functions) local: NaiveDateTime,
    pub(in crate::functions) utc: NaiveDateTime,
}

/// The storage of a date/time Arrow type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::functions) enum Shape {
    Date,
    Timestamp(TimeUnit),
    Time(TimeUnit),
}

/// A date/time column: its shape, its zone and its values.
pub(in crate::functions) struct Column {
    pub(in crate::functions) shape: Shape,
    pub(in crate::functions) zone: Option<Tz>,
    pub(in crate::functions) zone_name: Option<Arc<str>>,
    pub(in crate::functions) values: Vec<Option<Moment>>,
}

pub(super) fn per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

pub(super) fn epoch() -> NaiveDateTime {
    DateTime::UNIX_EPOCH.naive_utc()
}

pub(super) fn naive_from_raw(raw: i64, unit: TimeUnit) -> Option<NaiveDateTime> {
    let n = per_second(unit);
    let nanos = raw.rem_euclid(n) * (1_000_000_000 / n);
    DateTime::from_timestamp(raw.div_euclid(n), u32::try_from(nanos).ok()?).map(|d| d.naive_utc())
}

pub(super) fn raw_from_naive(moment: NaiveDateTime, unit: TimeUnit) -> Option<i64> {
    let utc = moment.and_utc();
    let n = per_second(unit);
    let fraction = i64::from(utc.timestamp_subsec_nanos()) / (1_000_000_000 / n);
    utc.timestamp().checked_mul(n)?.checked_add(fraction)
}

/// The instant of wall-clock time `local` in `zone`: the earlier one when clocks go back, and
/// the time after the gap when they go forward (as Joda-Time does).
pub(super) fn resolve(zone: &Tz, local: NaiveDateTime) -> Option<NaiveDateTime> {
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

pub(super) fn parse_zone(name: &str) -> DfResult<Tz> {
    Tz::from_str(name)
        .map_err(|e| invalid_argument(format!("Time zone not supported: {name}: {e}")))
}

pub(in crate::functions) fn read(array: &ArrayRef) -> DfResult<Column> {
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
pub(super) fn write(
    column: &Column,
    values: &[Option<Moment>],
    data_type: &DataType,
) -> DfResult<ArrayRef> {
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
pub(super) fn at_local(zone: Option<&Tz>, local: NaiveDateTime) -> Option<Moment> {
    let utc = match zone {
        Some(zone) => resolve(zone, local)?,
        None => local,
    };
    Some(Moment { local, utc })
}

pub(super) fn text_values(array: Option<&ArrayRef>) -> DfResult<StringArray> {
    match array {
        Some(array) => text_array(array),
        None => exec_err!("missing text argument"),
    }
}
