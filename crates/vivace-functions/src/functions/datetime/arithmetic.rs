//! `date_add`, `date_diff` and `date_trunc`: units, month arithmetic, differences and truncation.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
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
    pub(super) fn for_shape(text: &str, shape: Shape) -> DfResult<Unit> {
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

    pub(super) fn millis(self) -> Option<i64> {
        match self {
            Unit::Millisecond => Some(1),
            Unit::Second => Some(1_000),
            Unit::Minute => Some(60_000),
            Unit::Hour => Some(3_600_000),
            _ => None,
        }
    }

    pub(super) fn days(self) -> Option<i64> {
        match self {
            Unit::Day => Some(1),
            Unit::Week => Some(7),
            _ => None,
        }
    }

    pub(super) fn months(self) -> Option<i64> {
        match self {
            Unit::Month => Some(1),
            Unit::Quarter => Some(3),
            Unit::Year => Some(12),
            _ => None,
        }
    }
}

pub(super) fn add_months(local: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let count = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        local.checked_add_months(count)
    } else {
        local.checked_sub_months(count)
    }
}

/// `moment` plus `amount` `unit`s. Units up to hours move the instant; days and longer move
/// the wall-clock time in the value's zone; times wrap around midnight.
pub(super) fn add(column: &Column, moment: Moment, unit: Unit, amount: i64) -> Option<Moment> {
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
pub(super) fn months_between(a: NaiveDateTime, b: NaiveDateTime) -> Option<i64> {
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

pub(super) fn difference(unit: Unit, a: Moment, b: Moment) -> Option<i64> {
    if let Some(millis) = unit.millis() {
        return Some((b.utc - a.utc).num_milliseconds() / millis);
    }
    if let Some(days) = unit.days() {
        return Some((b.local - a.local).num_days() / days);
    }
    Some(months_between(a.local, b.local)? / unit.months()?)
}

/// `moment` cut down to the start of its `unit`, in wall-clock time (weeks start on Monday).
pub(super) fn truncate(column: &Column, moment: Moment, unit: Unit) -> Option<Moment> {
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

pub(super) fn date_trunc(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
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

pub(super) fn date_add(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
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

pub(super) fn date_diff(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
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
