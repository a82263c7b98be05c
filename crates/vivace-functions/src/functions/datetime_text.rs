//! Date/time text: the patterns of `date_format`/`date_parse` (MySQL specifiers) and
//! `format_datetime`/`parse_datetime` (Joda-Time letters), compiled into [`Piece`]s that both
//! print and read, and the ISO 8601 forms read by `from_iso8601_*`.

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};

/// English month names, January first.
pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English weekday names, Monday first.
pub(super) const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A numeric date/time field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NumberField {
    Year,
    Month,
    Day,
    DayOfYear,
    /// 0–23.
    Hour,
    /// 1–12.
    ClockHourOfHalfDay,
    /// 0–11.
    HourOfHalfDay,
    /// 1–24.
    ClockHourOfDay,
    Minute,
    Second,
    /// The ISO week-based year.
    Weekyear,
    /// The ISO week, 1–53.
    WeekOfWeekyear,
    /// 1 (Monday) – 7 (Sunday).
    DayOfWeek,
}

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    Literal(String),
    /// A number printed with at least `min` digits and read with at most `max`.
    Number {
        field: NumberField,
        min: usize,
        max: usize,
    },
    /// The fraction of the second, printed with `digits` digits; reads 1 to 9.
    Fraction {
        digits: usize,
    },
    /// The year's last two digits, read into the hundred years from `pivot - 50`.
    TwoDigitYear {
        pivot: i64,
    },
    MonthText {
        full: bool,
    },
    WeekdayText {
        full: bool,
    },
    /// `AM` or `PM`.
    HalfDay,
    /// The zone offset, `+0100` or (with `colon`) `+01:00`; `Z` for UTC when `colon`.
    Offset {
        colon: bool,
    },
    /// The zone's id, such as `America/New_York`.
    ZoneId,
}

/// The zone of a value being printed: its offset from UTC in seconds and its name.
#[derive(Debug, Clone, Copy)]
pub(super) struct PrintZone<'a> {
    pub offset_seconds: i32,
    pub name: &'a str,
}

/// Compiles a MySQL-style pattern (`%Y-%m-%d %H:%i:%s`), as Trino's `date_format` and
/// `date_parse` read it.
pub(super) fn compile_mysql(pattern: &str) -> Result<Vec<Piece>, String> {
    use NumberField::*;
    let number = |field, min, max| Piece::Number { field, min, max };
    let mut pieces = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            push_literal(&mut pieces, c);
            continue;
        }
        let Some(specifier) = chars.next() else {
            push_literal(&mut pieces, '%');
            break;
        };
        let piece = match specifier {
            'a' => Piece::WeekdayText { full: false },
            'b' => Piece::MonthText { full: false },
            'c' => number(Month, 1, 2),
            'd' => number(Day, 2, 2),
            'e' => number(Day, 1, 2),
            'f' => Piece::Fraction { digits: 6 },
            'H' => number(Hour, 2, 2),
            'h' | 'I' => number(ClockHourOfHalfDay, 2, 2),
            'i' => number(Minute, 2, 2),
            'j' => number(DayOfYear, 3, 3),
            'k' => number(Hour, 1, 2),
            'l' => number(ClockHourOfHalfDay, 1, 2),
            'M' => Piece::MonthText { full: true },
            'm' => number(Month, 2, 2),
            'p' => Piece::HalfDay,
            'r' => {
                pieces.extend([
                    number(ClockHourOfHalfDay, 2, 2),
                    Piece::Literal(":".into()),
                    number(Minute, 2, 2),
                    Piece::Literal(":".into()),
                    number(Second, 2, 2),
                    Piece::Literal(" ".into()),
                    Piece::HalfDay,
                ]);
                continue;
            }
            'S' | 's' => number(Second, 2, 2),
            'T' => {
                pieces.extend([
                    number(Hour, 2, 2),
                    Piece::Literal(":".into()),
                    number(Minute, 2, 2),
                    Piece::Literal(":".into()),
                    number(Second, 2, 2),
                ]);
                continue;
            }
            'v' => number(WeekOfWeekyear, 2, 2),
            'x' => number(Weekyear, 4, 4),
            'W' => Piece::WeekdayText { full: true },
            'Y' => number(Year, 4, 4),
            // Trino's pivot for %y: 1970 to 2069.
            'y' => Piece::TwoDigitYear { pivot: 2020 },
            'D' | 'U' | 'u' | 'V' | 'w' | 'X' => {
                return Err(format!("%{specifier} not supported in date format string"));
            }
            other => {
                push_literal(&mut pieces, other);
                continue;
            }
        };
        pieces.push(piece);
    }
    Ok(pieces)
}

/// Compiles a Joda-Time pattern (`yyyy-MM-dd HH:mm:ss.SSS ZZ`), as Trino's `format_datetime`
/// and `parse_datetime` read it.
pub(super) fn compile_joda(pattern: &str) -> Result<Vec<Piece>, String> {
    use NumberField::*;
    let chars: Vec<char> = pattern.chars().collect();
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // 'text' is literal; '' is one quote, inside or outside a quoted run.
            let mut text = String::new();
            i += 1;
            if chars.get(i) == Some(&'\'') {
                push_literal(&mut pieces, '\'');
                i += 1;
                continue;
            }
            loop {
                match chars.get(i) {
                    None => return Err(format!("Unterminated quote in pattern: {pattern}")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        text.push(*other);
                        i += 1;
                    }
                }
            }
            for c in text.chars() {
                push_literal(&mut pieces, c);
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            push_literal(&mut pieces, c);
            i += 1;
            continue;
        }
        let count = chars[i..].iter().take_while(|&&d| d == c).count();
        i += count;
        let number = |field, min: usize| Piece::Number {
            field,
            min,
            max: min.max(9),
        };
        let piece = match c {
            'y' | 'Y' | 'u' if count == 2 => Piece::TwoDigitYear {
                pivot: joda_pivot(),
            },
            'y' | 'Y' | 'u' => number(Year, count),
            'x' if count == 2 => Piece::TwoDigitYear {
                pivot: joda_pivot(),
            },
            'x' => number(Weekyear, count),
            'w' => number(WeekOfWeekyear, count),
            'e' => number(DayOfWeek, count),
            'E' => Piece::WeekdayText { full: count >= 4 },
            'D' => number(DayOfYear, count),
            'M' if count >= 4 => Piece::MonthText { full: true },
            'M' if count == 3 => Piece::MonthText { full: false },
            'M' => number(Month, count),
            'd' => number(Day, count),
            'a' => Piece::HalfDay,
            'h' => number(ClockHourOfHalfDay, count),
            'K' => number(HourOfHalfDay, count),
            'H' => number(Hour, count),
            'k' => number(ClockHourOfDay, count),
            'm' => number(Minute, count),
            's' => number(Second, count),
            'S' => Piece::Fraction { digits: count },
            'Z' if count == 1 => Piece::Offset { colon: false },
            'Z' if count == 2 => Piece::Offset { colon: true },
            'Z' | 'z' => Piece::ZoneId,
            other => {
                return Err(format!(
                    "Pattern letter '{other}' is not supported in pattern: {pattern}"
                ));
            }
        };
        pieces.push(piece);
    }
    // A number followed directly by another number is read with a fixed width, so that
    // `yyyyMMdd` splits `20240229`.
    for at in 0..pieces.len().saturating_sub(1) {
        let next_is_number = matches!(
            pieces[at + 1],
            Piece::Number { .. } | Piece::Fraction { .. } | Piece::TwoDigitYear { .. }
        );
        if let (true, Piece::Number { min, max, .. }) = (next_is_number, &mut pieces[at]) {
            *max = *min;
        }
    }
    Ok(pieces)
}

/// Joda-Time's pivot for two-digit years: thirty years before now.
fn joda_pivot() -> i64 {
    i64::from(chrono::Utc::now().year()) - 30
}

fn push_literal(pieces: &mut Vec<Piece>, c: char) {
    if let Some(Piece::Literal(text)) = pieces.last_mut() {
        text.push(c);
    } else {
        pieces.push(Piece::Literal(c.to_string()));
    }
}

/// Prints `moment` (wall-clock time) by `pieces`; `zone` is the value's zone, if it has one.
pub(super) fn print(
    pieces: &[Piece],
    moment: &NaiveDateTime,
    zone: Option<PrintZone<'_>>,
) -> String {
    use NumberField::*;
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Number { field, min, .. } => {
                let value = match field {
                    Year => i64::from(moment.year()),
                    Month => i64::from(moment.month()),
                    Day => i64::from(moment.day()),
                    DayOfYear => i64::from(moment.ordinal()),
                    Hour => i64::from(moment.hour()),
                    ClockHourOfHalfDay => i64::from(moment.hour12().1),
                    HourOfHalfDay => i64::from(moment.hour() % 12),
                    ClockHourOfDay => match moment.hour() {
                        0 => 24,
                        h => i64::from(h),
                    },
                    Minute => i64::from(moment.minute()),
                    Second => i64::from(moment.second()),
                    Weekyear => i64::from(moment.iso_week().year()),
                    WeekOfWeekyear => i64::from(moment.iso_week().week()),
                    DayOfWeek => i64::from(moment.weekday().number_from_monday()),
                };
                pad(&mut out, value, *min);
            }
            Piece::Fraction { digits } => {
                let nanos = format!("{:09}", moment.nanosecond() % 1_000_000_000);
                let shown: String = nanos
                    .chars()
                    .chain(std::iter::repeat('0'))
                    .take(*digits)
                    .collect();
                out.push_str(&shown);
            }
            Piece::TwoDigitYear { .. } => {
                pad(&mut out, i64::from(moment.year().rem_euclid(100)), 2)
            }
            Piece::MonthText { full } => {
                let name = MONTHS[moment.month0() as usize];
                out.push_str(if *full { name } else { &name[..3] });
            }
            Piece::WeekdayText { full } => {
                let name = WEEKDAYS[moment.weekday().num_days_from_monday() as usize];
                out.push_str(if *full { name } else { &name[..3] });
            }
            Piece::HalfDay => out.push_str(if moment.hour() < 12 { "AM" } else { "PM" }),
            Piece::Offset { colon } => {
                out.push_str(&offset_text(zone.map_or(0, |z| z.offset_seconds), *colon));
            }
            Piece::ZoneId => out.push_str(zone.map_or("UTC", |z| z.name)),
        }
    }
    out
}

fn pad(out: &mut String, value: i64, min: usize) {
    if value < 0 {
        out.push('-');
    }
    let digits = value.unsigned_abs().to_string();
    for _ in digits.len()..min {
        out.push('0');
    }
    out.push_str(&digits);
}

/// `+01:00` (or `+0100`) for an offset in seconds.
pub(super) fn offset_text(seconds: i32, colon: bool) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    let separator = if colon { ":" } else { "" };
    format!("{sign}{:02}{separator}{:02}", minutes / 60, minutes % 60)
}

/// What reading a text by a pattern found.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub local: Option<NaiveDateTime>,
    /// The offset or zone the text named, if any.
    pub zone: Option<ParsedZone>,
}

/// A zone read from text.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ParsedZone {
    Offset(FixedOffset),
    Named(String),
}

#[derive(Debug, Default)]
struct Fields {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    hour: Option<i64>,
    half_day_hour: Option<i64>,
    pm: Option<bool>,
    minute: Option<i64>,
    second: Option<i64>,
    nanos: Option<i64>,
    weekyear: Option<i64>,
    week: Option<i64>,
    weekday: Option<i64>,
    zone: Option<ParsedZone>,
}

/// Reads `text` by `pieces`. Fields the pattern leaves out default to 1970-01-01 00:00:00.
pub(super) fn parse(pieces: &[Piece], text: &str) -> Result<Parsed, String> {
    use NumberField::*;
    let malformed = |rest: &str| format!("Invalid format: \"{text}\" is malformed at \"{rest}\"");
    let mut fields = Fields::default();
    let mut rest = text;
    for piece in pieces {
        match piece {
            Piece::Literal(expected) => {
                let n = expected.len();
                if rest.len() < n
                    || !rest.is_char_boundary(n)
                    || !rest[..n].eq_ignore_ascii_case(expected)
                {
                    return Err(malformed(rest));
                }
                rest = &rest[n..];
            }
            Piece::Number { field, max, .. } => {
                let signed = matches!(field, Year | Weekyear);
                let (value, tail) =
                    read_number(rest, *max, signed).ok_or_else(|| malformed(rest))?;
                rest = tail;
                let slot = match field {
                    Year => &mut fields.year,
                    Month => &mut fields.month,
                    Day => &mut fields.day,
                    DayOfYear => &mut fields.day_of_year,
                    Hour => &mut fields.hour,
                    ClockHourOfDay => {
                        fields.hour = Some(value % 24);
                        continue;
                    }
                    ClockHourOfHalfDay | HourOfHalfDay => &mut fields.half_day_hour,
                    Minute => &mut fields.minute,
                    Second => &mut fields.second,
                    Weekyear => &mut fields.weekyear,
                    WeekOfWeekyear => &mut fields.week,
                    DayOfWeek => &mut fields.weekday,
                };
                *slot = Some(value);
            }
            Piece::Fraction { .. } => {
                let digits = rest.bytes().take(9).take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    return Err(malformed(rest));
                }
                let value: i64 = rest[..digits].parse().map_err(|_| malformed(rest))?;
                fields.nanos = Some(value * 10_i64.pow(9 - digits as u32));
                rest = &rest[digits..];
            }
            Piece::TwoDigitYear { pivot } => {
                let (value, tail) = read_number(rest, 2, false).ok_or_else(|| malformed(rest))?;
                let lowest = pivot - 50;
                fields.year = Some(lowest + (value - lowest.rem_euclid(100)).rem_euclid(100));
                rest = tail;
            }
            Piece::MonthText { .. } => {
                let (index, tail) = read_name(rest, &MONTHS).ok_or_else(|| malformed(rest))?;
                fields.month = Some(index as i64 + 1);
                rest = tail;
            }
            Piece::WeekdayText { .. } => {
                let (index, tail) = read_name(rest, &WEEKDAYS).ok_or_else(|| malformed(rest))?;
                fields.weekday = Some(index as i64 + 1);
                rest = tail;
            }
            Piece::HalfDay => {
                let upper = rest.get(..2).map(str::to_ascii_uppercase);
                fields.pm = match upper.as_deref() {
                    Some("AM") => Some(false),
                    Some("PM") => Some(true),
                    _ => return Err(malformed(rest)),
                };
                rest = &rest[2..];
            }
            Piece::Offset { .. } => {
                let (offset, tail) = read_offset(rest).ok_or_else(|| malformed(rest))?;
                fields.zone = Some(ParsedZone::Offset(offset));
                rest = tail;
            }
            Piece::ZoneId => {
                let length = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || "/_+-:".contains(c)))
                    .unwrap_or(rest.len());
                let name = &rest[..length];
                if name.parse::<chrono_tz::Tz>().is_err() {
                    return Err(malformed(rest));
                }
                fields.zone = Some(ParsedZone::Named(name.to_string()));
                rest = &rest[length..];
            }
        }
    }
    if !rest.is_empty() {
        return Err(malformed(rest));
    }
    let local =
        resolve(&fields).ok_or_else(|| format!("Cannot parse \"{text}\": Value out of range"))?;
    Ok(Parsed {
        local: Some(local),
        zone: fields.zone,
    })
}

fn read_number(text: &str, max: usize, signed: bool) -> Option<(i64, &str)> {
    let sign_length = usize::from(signed && text.starts_with(['-', '+']));
    let digits = text[sign_length..]
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_digit)
        .count();
    if digits == 0 {
        return None;
    }
    let end = sign_length + digits;
    let value = text[..end].parse().ok()?;
    Some((value, &text[end..]))
}

/// Reads a full or three-letter name from `names`, ignoring case.
fn read_name<'t>(text: &'t str, names: &[&str]) -> Option<(usize, &'t str)> {
    for (index, name) in names.iter().enumerate() {
        for candidate in [*name, &name[..3]] {
            if let Some(head) = text.get(..candidate.len())
                && head.eq_ignore_ascii_case(candidate)
            {
                return Some((index, &text[candidate.len()..]));
            }
        }
    }
    None
}

/// Reads `Z`, `+01`, `+0100` or `+01:00`.
fn read_offset(text: &str) -> Option<(FixedOffset, &str)> {
    if let Some(rest) = text.strip_prefix(['Z', 'z']) {
        return Some((FixedOffset::east_opt(0)?, rest));
    }
    let sign = match text.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let body = &text[1..];
    let digits = |s: &str, n: usize| -> Option<i32> {
        let part = s.get(..n)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let hours = digits(body, 2)?;
    let with_colon = body.get(3..).and_then(|s| digits(s, 2));
    let without_colon = body.get(2..).and_then(|s| digits(s, 2));
    let (minutes, used) = match (body.get(2..3), with_colon, without_colon) {
        (Some(":"), Some(m), _) => (m, 5),
        (_, _, Some(m)) => (m, 4),
        _ => (0, 2),
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    let offset = FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?;
    Some((offset, &body[used..]))
}

/// The wall-clock time the fields describe.
fn resolve(fields: &Fields) -> Option<NaiveDateTime> {
    let small = |value: Option<i64>, default: i64| u32::try_from(value.unwrap_or(default)).ok();
    let date = if let (Some(weekyear), Some(week)) = (fields.weekyear, fields.week)
        && fields.month.is_none()
        && fields.day.is_none()
    {
        let weekday =
            Weekday::try_from(u8::try_from(fields.weekday.unwrap_or(1) - 1).ok()?).ok()?;
        NaiveDate::from_isoywd_opt(
            i32::try_from(weekyear).ok()?,
            u32::try_from(week).ok()?,
            weekday,
        )?
    } else {
        let year = i32::try_from(fields.year.unwrap_or(1970)).ok()?;
        match fields.day_of_year {
            Some(ordinal) if fields.month.is_none() => {
                NaiveDate::from_yo_opt(year, u32::try_from(ordinal).ok()?)?
            }
            _ => NaiveDate::from_ymd_opt(year, small(fields.month, 1)?, small(fields.day, 1)?)?,
        }
    };
    let hour = match (fields.hour, fields.half_day_hour) {
        (Some(hour), _) => hour,
        (None, Some(half)) => {
            if !(0..=12).contains(&half) {
                return None;
            }
            half % 12 + if fields.pm == Some(true) { 12 } else { 0 }
        }
        (None, None) => {
            if fields.pm == Some(true) {
                12
            } else {
                0
            }
        }
    };
    let time = NaiveTime::from_hms_nano_opt(
        u32::try_from(hour).ok()?,
        small(fields.minute, 0)?,
        small(fields.second, 0)?,
        small(fields.nanos, 0)?,
    )?;
    Some(date.and_time(time))
}

/// Reads an ISO 8601 date: `2024`, `2024-02`, `2024-02-29`, `2024-W09`, `2024-W09-4` or
/// `2024-060`; returns the date and the text after it.
fn read_iso_date(text: &str) -> Option<(NaiveDate, &str)> {
    let (year, rest) = read_number(text, 9, true)?;
    let year = i32::try_from(year).ok()?;
    let Some(after_dash) = rest.strip_prefix('-') else {
        return Some((NaiveDate::from_ymd_opt(year, 1, 1)?, rest));
    };
    if let Some(week_text) = after_dash.strip_prefix('W') {
        let (week, rest) = read_number(week_text, 2, false)?;
        let (weekday, rest) = match rest.strip_prefix('-') {
            Some(day) => read_number(day, 1, false)?,
            None => (1, rest),
        };
        let weekday = Weekday::try_from(u8::try_from(weekday - 1).ok()?).ok()?;
        return Some((
            NaiveDate::from_isoywd_opt(year, u32::try_from(week).ok()?, weekday)?,
            rest,
        ));
    }
    let digits = after_dash.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 3 {
        let (ordinal, rest) = read_number(after_dash, 3, false)?;
        return Some((
            NaiveDate::from_yo_opt(year, u32::try_from(ordinal).ok()?)?,
            rest,
        ));
    }
    let (month, rest) = read_number(after_dash, 2, false)?;
    let month = u32::try_from(month).ok()?;
    match rest.strip_prefix('-') {
        Some(day_text) => {
            let (day, rest) = read_number(day_text, 2, false)?;
            Some((
                NaiveDate::from_ymd_opt(year, month, u32::try_from(day).ok()?)?,
                rest,
            ))
        }
        None => Some((NaiveDate::from_ymd_opt(year, month, 1)?, rest)),
    }
}

/// Reads an ISO 8601 date (`2020-05-11`, week and ordinal forms too), as `from_iso8601_date`.
pub(super) fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    match read_iso_date(text)? {
        (date, "") => Some(date),
        _ => None,
    }
}

/// Reads an ISO 8601 timestamp, `2020-05-11T11:15:05.055+01:00` and its shorter forms, as
/// `from_iso8601_timestamp`: the wall-clock time and the offset, if the text has one.
pub(super) fn parse_iso_timestamp(text: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let (date, rest) = read_iso_date(text)?;
    let Some(time_text) = rest.strip_prefix('T') else {
        return match rest {
            "" => Some((date.and_time(NaiveTime::MIN), None)),
            _ => {
                let (offset, "") = read_offset(rest)? else {
                    return None;
                };
                Some((date.and_time(NaiveTime::MIN), Some(offset)))
            }
        };
    };
    let two = |s: &str| -> Option<(u32, usize)> {
        let part = s.get(..2)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok().map(|v| (v, 2)))?
    };
    let (hour, _) = two(time_text)?;
    let mut rest = &time_text[2..];
    let (mut minute, mut second, mut nanos) = (0, 0, 0);
    if let Some(after) = rest.strip_prefix(':') {
        minute = two(after)?.0;
        rest = &after[2..];
        if let Some(after) = rest.strip_prefix(':') {
            second = two(after)?.0;
            rest = &after[2..];
            if let Some(after) = rest.strip_prefix(['.', ',']) {
                let digits = after.bytes().take(9).take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    return None;
                }
                let value: u32 = after[..digits].parse().ok()?;
                nanos = value * 10_u32.pow(9 - digits as u32);
                rest = after[digits..].trim_start_matches(|c: char| c.is_ascii_digit());
            }
        }
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    if rest.is_empty() {
        return Some((date.and_time(time), None));
    }
    match read_offset(rest)? {
        (offset, "") => Some((date.and_time(time), Some(offset))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moment(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn mysql_patterns_print_as_trino_documents() {
        let at = moment("2024-02-29 13:05:09.123");
        let show = |pattern: &str| print(&compile_mysql(pattern).unwrap(), &at, None);
        assert_eq!(show("%Y-%m-%d %H:%i:%s"), "2024-02-29 13:05:09");
        assert_eq!(
            show("%a %b %e %c %W %M %y"),
            "Thu Feb 29 2 Thursday February 24"
        );
        assert_eq!(show("%r|%T|%h|%l|%k|%p"), "01:05:09 PM|13:05:09|01|1|13|PM");
        assert_eq!(show("%j %v %x %f %% %q"), "060 09 2024 123000 % q");
        assert_eq!(
            compile_mysql("%D").unwrap_err(),
            "%D not supported in date format string"
        );
    }

    #[test]
    fn mysql_patterns_read_back() {
        let read = |pattern: &str, text: &str| {
            parse(&compile_mysql(pattern).unwrap(), text).map(|p| p.local.unwrap())
        };
        assert_eq!(
            read("%Y-%m-%d %H:%i:%s", "2013-05-17 12:35:10").unwrap(),
            moment("2013-05-17 12:35:10")
        );
        // A clock hour of 12 without PM is midnight, as in Trino.
        assert_eq!(
            read("%Y-%m-%d %h:%i:%s", "2013-05-17 12:35:10").unwrap(),
            moment("2013-05-17 00:35:10")
        );
        assert_eq!(
            read("%Y-%m-%d %h:%i %p", "2013-05-17 1:05 pm").unwrap(),
            moment("2013-05-17 13:05:00")
        );
        assert_eq!(
            read("%d/%b/%y", "5/Mar/69").unwrap(),
            moment("2069-03-05 00:00:00")
        );
        assert_eq!(
            read("%H:%i:%s.%f", "10:11:12.5").unwrap(),
            moment("1970-01-01 10:11:12.5")
        );
        assert!(
            read("%Y-%m-%d", "2024-02-30")
                .unwrap_err()
                .contains("Cannot parse")
        );
        assert_eq!(
            read("%Y-%m-%d", "2024-02-03x").unwrap_err(),
            "Invalid format: \"2024-02-03x\" is malformed at \"x\""
        );
    }

    #[test]
    fn joda_patterns_print_and_read() {
        let at = moment("2024-02-29 13:05:09.123");
        let pieces = compile_joda("yyyy-MM-dd'T'HH:mm:ss.SSS ZZ EEEE MMM h a ''").unwrap();
        let zone = PrintZone {
            offset_seconds: 3600,
            name: "Europe/Paris",
        };
        assert_eq!(
            print(&pieces, &at, Some(zone)),
            "2024-02-29T13:05:09.123 +01:00 Thursday Feb 1 PM '"
        );
        let read = parse(
            &compile_joda("yyyyMMddHHmm Z").unwrap(),
            "202402291305 -0530",
        )
        .unwrap();
        assert_eq!(read.local.unwrap(), moment("2024-02-29 13:05:00"));
        assert_eq!(
            read.zone,
            Some(ParsedZone::Offset(
                FixedOffset::west_opt(5 * 3600 + 1800).unwrap()
            ))
        );
        assert!(compile_joda("G yyyy").is_err());
    }

    #[test]
    fn iso_forms() {
        assert_eq!(
            parse_iso_date("2020-05-11"),
            NaiveDate::from_ymd_opt(2020, 5, 11)
        );
        assert_eq!(
            parse_iso_date("2020-W10"),
            NaiveDate::from_ymd_opt(2020, 3, 2)
        );
        assert_eq!(
            parse_iso_date("2020-123"),
            NaiveDate::from_ymd_opt(2020, 5, 2)
        );
        assert_eq!(parse_iso_date("2020-05-11T00:00"), None);
        let (local, offset) = parse_iso_timestamp("2020-05-11T11:15:05.055+01:00").unwrap();
        assert_eq!(local, moment("2020-05-11 11:15:05.055"));
        assert_eq!(offset, FixedOffset::east_opt(3600));
        assert_eq!(
            parse_iso_timestamp("2020-05-11T11:15Z").unwrap().1,
            FixedOffset::east_opt(0)
        );
        assert_eq!(
            parse_iso_timestamp("2020-05-11").unwrap(),
            (moment("2020-05-11 00:00:00"), None)
        );
        assert_eq!(parse_iso_timestamp("2020-05-11 11:15"), None);
    }
}
