//! The date/time conversions (`%t`): the fields a value offers and how each suffix prints them.

use super::*;

/// The fields a date/time value offers.
pub(super) struct Fields {
    pub(super) date: Option<NaiveDate>,
    pub(super) time: Option<NaiveTime>,
    /// Offset, zone name and abbreviation.
    pub(super) zone: Option<(i32, String, Option<String>)>,
    /// Seconds and nanoseconds since the epoch.
    pub(super) instant: Option<(i64, u32)>,
}

pub(super) fn fields(value: &JavaValue) -> Option<Fields> {
    Some(match value {
        JavaValue::Date(d) => Fields {
            date: Some(*d),
            time: None,
            zone: None,
            instant: None,
        },
        JavaValue::DateTime(t) => Fields {
            date: Some(t.date()),
            time: Some(t.time()),
            zone: None,
            instant: None,
        },
        JavaValue::Time(t) => Fields {
            date: None,
            time: Some(*t),
            zone: None,
            instant: None,
        },
        JavaValue::Zoned(z) => {
            let utc = z.local - chrono::TimeDelta::seconds(i64::from(z.offset));
            Fields {
                date: Some(z.local.date()),
                time: Some(z.local.time()),
                zone: Some((z.offset, z.zone.clone(), z.abbreviation.clone())),
                instant: Some((utc.and_utc().timestamp(), utc.nanosecond())),
            }
        }
        // Java reads a long as milliseconds since the epoch; Trino's JVM runs in UTC.
        JavaValue::Long(millis) => {
            let at = chrono::DateTime::from_timestamp_millis(*millis)?.naive_utc();
            Fields {
                date: Some(at.date()),
                time: Some(at.time()),
                zone: Some((0, "UTC".into(), Some("UTC".into()))),
                instant: Some((at.and_utc().timestamp(), at.nanosecond())),
            }
        }
        _ => return None,
    })
}

pub(super) fn print_datetime(spec: &Specifier, value: &JavaValue) -> Result<String, String> {
    let Some(fields) = fields(value) else {
        return spec.conversion_mismatch(value);
    };
    datetime_text(spec.conversion, &fields)
}

pub(super) fn unsupported<T>(field: &str) -> Result<T, String> {
    fail(
        "UnsupportedTemporalType",
        format!("Unsupported field: {field}"),
    )
}

pub(super) fn datetime_text(conversion: char, fields: &Fields) -> Result<String, String> {
    let date = |field: &str| fields.date.map_or_else(|| unsupported(field), Ok);
    let time = |field: &str| fields.time.map_or_else(|| unsupported(field), Ok);
    let twelve = |hour: u32| {
        if hour.is_multiple_of(12) {
            12
        } else {
            hour % 12
        }
    };
    Ok(match conversion {
        'H' => format!("{:02}", time("HourOfDay")?.hour()),
        'I' => format!("{:02}", twelve(time("ClockHourOfAmPm")?.hour())),
        'k' => time("HourOfDay")?.hour().to_string(),
        'l' => twelve(time("ClockHourOfAmPm")?.hour()).to_string(),
        'M' => format!("{:02}", time("MinuteOfHour")?.minute()),
        'S' => format!("{:02}", time("SecondOfMinute")?.second()),
        'L' => format!(
            "{:03}",
            time("MilliOfSecond")?.nanosecond() % 1_000_000_000 / 1_000_000
        ),
        'N' => format!("{:09}", time("NanoOfSecond")?.nanosecond() % 1_000_000_000),
        'p' => if time("AmPmOfDay")?.hour() < 12 {
            "am"
        } else {
            "pm"
        }
        .to_string(),
        'z' => match &fields.zone {
            Some((offset, _, _)) => {
                let sign = if *offset < 0 { '-' } else { '+' };
                let minutes = offset.unsigned_abs() / 60;
                format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
            }
            None => return unsupported("OffsetSeconds"),
        },
        'Z' => match &fields.zone {
            Some((_, zone, abbreviation)) => {
                if is_offset_zone(zone) {
                    zone.clone()
                } else {
                    abbreviation.clone().unwrap_or_else(|| zone.clone())
                }
            }
            None => return unsupported("ZoneId"),
        },
        's' => match fields.instant {
            Some((seconds, _)) => seconds.to_string(),
            None => return unsupported("InstantSeconds"),
        },
        'Q' => match fields.instant {
            Some((seconds, nanos)) => (seconds * 1000 + i64::from(nanos / 1_000_000)).to_string(),
            None => return unsupported("InstantSeconds"),
        },
        'B' => MONTHS[date("MonthOfYear")?.month0() as usize].to_string(),
        'b' | 'h' => MONTHS[date("MonthOfYear")?.month0() as usize][..3].to_string(),
        'A' => WEEKDAYS[date("DayOfWeek")?.weekday().num_days_from_monday() as usize].to_string(),
        'a' => {
            WEEKDAYS[date("DayOfWeek")?.weekday().num_days_from_monday() as usize][..3].to_string()
        }
        'C' => format!("{:02}", date("YearOfEra")?.year() / 100),
        'Y' => format!("{:04}", date("YearOfEra")?.year()),
        'y' => format!("{:02}", date("YearOfEra")?.year() % 100),
        'j' => format!("{:03}", date("DayOfYear")?.ordinal()),
        'm' => format!("{:02}", date("MonthOfYear")?.month()),
        'd' => format!("{:02}", date("DayOfMonth")?.day()),
        'e' => date("DayOfMonth")?.day().to_string(),
        'R' => format!(
            "{}:{}",
            datetime_text('H', fields)?,
            datetime_text('M', fields)?
        ),
        'T' => format!(
            "{}:{}:{}",
            datetime_text('H', fields)?,
            datetime_text('M', fields)?,
            datetime_text('S', fields)?
        ),
        'r' => format!(
            "{}:{}:{} {}",
            datetime_text('I', fields)?,
            datetime_text('M', fields)?,
            datetime_text('S', fields)?,
            datetime_text('p', fields)?.to_uppercase()
        ),
        'D' => format!(
            "{}/{}/{}",
            datetime_text('m', fields)?,
            datetime_text('d', fields)?,
            datetime_text('y', fields)?
        ),
        'F' => format!(
            "{}-{}-{}",
            datetime_text('Y', fields)?,
            datetime_text('m', fields)?,
            datetime_text('d', fields)?
        ),
        'c' => format!(
            "{} {} {} {} {} {}",
            datetime_text('a', fields)?,
            datetime_text('b', fields)?,
            datetime_text('d', fields)?,
            datetime_text('T', fields)?,
            datetime_text('Z', fields)?,
            datetime_text('Y', fields)?
        ),
        other => {
            return fail(
                "UnknownFormatConversion",
                format!("Conversion = 't{other}'"),
            );
        }
    })
}
