//! The pattern, Unix-time, ISO 8601 and zone functions, one column at a time.

use super::*;

/// Compiled patterns, kept while consecutive rows use the same one.
pub(super) struct PatternCache {
    pub(super) compile: fn(&str) -> Result<Vec<Piece>, String>,
    pub(super) last: Option<(String, Vec<Piece>)>,
}

impl PatternCache {
    pub(super) fn get(&mut self, pattern: &str) -> DfResult<&[Piece]> {
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

pub(super) fn format(
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

pub(super) fn parse(
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

pub(super) fn result_zone(result_type: &DataType) -> DfResult<Option<Tz>> {
    match result_type {
        DataType::Timestamp(_, Some(zone)) => Ok(Some(parse_zone(zone)?)),
        _ => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Unix time, ISO 8601, zones

pub(super) fn from_unixtime(arrays: &[ArrayRef], result_type: &DataType) -> DfResult<ArrayRef> {
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

pub(super) fn from_unixtime_nanos(
    arrays: &[ArrayRef],
    result_type: &DataType,
) -> DfResult<ArrayRef> {
    match arrays.first() {
        Some(nanos) => {
            let raw = arrow::compute::cast(nanos, &DataType::Int64)?;
            Ok(arrow::compute::cast(&raw, result_type)?)
        }
        None => exec_err!("from_unixtime_nanos needs a value"),
    }
}

pub(super) fn to_unixtime(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
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

pub(super) fn from_iso8601_timestamp(
    arrays: &[ArrayRef],
    result_type: &DataType,
) -> DfResult<ArrayRef> {
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

pub(super) fn from_iso8601_date(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
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

pub(super) fn to_iso8601(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
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

pub(super) fn with_timezone(arrays: &[ArrayRef], result_type: &DataType) -> DfResult<ArrayRef> {
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

pub(super) fn last_day_of_month(arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
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
