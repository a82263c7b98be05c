//! Java's `java.util.Formatter` in the English locale, which Trino's `format` uses: format
//! specifiers `%[index$][flags][width][.precision]conversion`, the general (`s b h`), integral
//! (`d o x`), floating-point (`e f g`) and date/time (`t`) conversions, and Java's errors,
//! named as Trino reports them (`IllegalFormatConversion: d != java.lang.Double`).

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::datetime_text::{MONTHS, WEEKDAYS};

mod datetime;
mod specifiers;
#[cfg(test)]
mod tests;

use datetime::*;
use specifiers::*;

/// A value as Trino hands it to Java: the Java class decides what each conversion accepts.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum JavaValue {
    /// `null`.
    Null,
    /// `java.lang.Boolean`.
    Boolean(bool),
    /// `java.lang.Long` (every Trino integer type).
    Long(i64),
    /// `java.lang.Float` (`real`).
    Float(f32),
    /// `java.lang.Double`.
    Double(f64),
    /// `java.math.BigDecimal`.
    Decimal(Digits),
    /// `java.lang.String` (varchar, char, json and anything cast to varchar).
    Text(String),
    /// `java.time.LocalDate`.
    Date(NaiveDate),
    /// `java.time.LocalDateTime`.
    DateTime(NaiveDateTime),
    /// `java.time.ZonedDateTime`.
    Zoned(Zoned),
    /// `java.time.LocalTime`.
    Time(NaiveTime),
}

/// A `timestamp with time zone` value.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Zoned {
    /// Wall-clock time in the zone.
    pub local: NaiveDateTime,
    /// Offset from UTC in seconds at that instant.
    pub offset: i32,
    /// The zone's name (`America/New_York`, `UTC`) or, for a fixed offset, `+05:30`.
    pub zone: String,
    /// The zone's abbreviation at that instant (`EST`), when it has one.
    pub abbreviation: Option<String>,
}

/// An exact decimal number: `digits × 10^-scale` (the scale may be negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Digits {
    negative: bool,
    /// Decimal digits without leading zeros; empty for zero.
    digits: Vec<u8>,
    scale: i32,
}

impl Digits {
    /// An unscaled integer and a scale, as a decimal column stores them.
    pub(super) fn from_unscaled(unscaled: i128, scale: i32) -> Self {
        let digits = unscaled
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| b - b'0')
            .collect();
        Digits {
            negative: unscaled < 0,
            digits,
            scale,
        }
        .trimmed()
    }

    /// The shortest digits that read back as `value` (finite), as Java prints doubles.
    fn from_double(value: f64) -> Self {
        Self::from_scientific(&format!("{:e}", value.abs()), value.is_sign_negative())
    }

    fn from_float(value: f32) -> Self {
        Self::from_scientific(&format!("{:e}", value.abs()), value.is_sign_negative())
    }

    /// Reads Rust's `{:e}` text (`1.25e-3`).
    fn from_scientific(text: &str, negative: bool) -> Self {
        let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let fraction_len = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
        let digits = mantissa
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect();
        Digits {
            negative,
            digits,
            scale: fraction_len - exponent,
        }
        .trimmed()
    }

    fn trimmed(mut self) -> Self {
        let leading = self.digits.iter().take_while(|&&d| d == 0).count();
        self.digits.drain(..leading);
        self
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The power of ten of the first digit (`-3` for `0.00125`).
    fn exponent(&self) -> i32 {
        self.digits.len() as i32 - 1 - self.scale
    }

    /// Rounds half up to `scale` digits after the point (never adds digits).
    fn round_to_scale(&self, scale: i32) -> Digits {
        if scale >= self.scale {
            return self.clone();
        }
        let drop = (self.scale - scale) as usize;
        let keep = self.digits.len().saturating_sub(drop);
        let round_up = self.digits.len() >= drop && self.digits.get(keep).is_some_and(|&d| d >= 5);
        let mut digits = self.digits[..keep].to_vec();
        if round_up {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
        Digits {
            negative: self.negative,
            digits,
            scale,
        }
        .trimmed()
    }

    /// Integer and fraction digits at exactly `scale` fraction digits (`scale >= self.scale`).
    fn fixed_parts(&self, scale: usize) -> (String, String) {
        let mut text: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let pad = scale as i64 - i64::from(self.scale);
        if pad > 0 {
            text.extend(std::iter::repeat_n('0', pad as usize));
        } else if pad < 0 {
            // A negative scale: whole tens.
            text.extend(std::iter::repeat_n('0', (-pad) as usize));
        }
        if text.len() <= scale {
            text = format!("{}{text}", "0".repeat(scale + 1 - text.len()));
        }
        let (integer, fraction) = text.split_at(text.len() - scale);
        (integer.to_string(), fraction.to_string())
    }

    /// `%f`: rounded half up to `precision` fraction digits.
    fn fixed(&self, precision: usize) -> (String, String) {
        let rounded = self.round_to_scale(precision as i32);
        rounded.fixed_parts(precision)
    }

    /// `%e`: the mantissa's digits (`precision` after the point) and the exponent.
    fn scientific(&self, precision: usize) -> (String, String, i32) {
        if self.is_zero() {
            return ("0".into(), "0".repeat(precision), 0);
        }
        let exponent = self.exponent();
        let rounded = self.round_to_scale(precision as i32 - exponent);
        let exponent = rounded.exponent();
        let mut text: String = rounded
            .digits
            .iter()
            .map(|d| char::from(b'0' + d))
            .collect();
        if text.len() < precision + 1 {
            text.extend(std::iter::repeat_n('0', precision + 1 - text.len()));
        }
        (
            text[..1].to_string(),
            text[1..precision + 1].to_string(),
            exponent,
        )
    }

    /// `BigDecimal.toString()`.
    fn big_decimal_text(&self) -> String {
        let sign = if self.negative && !self.is_zero() {
            "-"
        } else {
            ""
        };
        let digits: String = if self.is_zero() {
            "0".into()
        } else {
            self.digits.iter().map(|d| char::from(b'0' + d)).collect()
        };
        let adjusted = digits.len() as i64 - 1 - i64::from(self.scale);
        if self.scale >= 0 && adjusted >= -6 {
            if self.scale == 0 {
                return format!("{sign}{digits}");
            }
            let scale = self.scale as usize;
            let padded = if digits.len() <= scale {
                format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
            } else {
                digits
            };
            let (integer, fraction) = padded.split_at(padded.len() - scale);
            return format!("{sign}{integer}.{fraction}");
        }
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let exponent_sign = if adjusted >= 0 { "+" } else { "" };
        format!("{sign}{first}{point}{rest}E{exponent_sign}{adjusted}")
    }
}

/// `Double.toString` / `Float.toString`: plain between 10^-3 and 10^7, else `1.0E10`.
fn java_floating_text(digits: &Digits, value_abs: f64) -> String {
    let sign = if digits.negative { "-" } else { "" };
    if digits.is_zero() {
        return format!("{sign}0.0");
    }
    if (1e-3..1e7).contains(&value_abs) {
        let scale = digits.scale.max(1) as usize;
        let (integer, fraction) = digits.fixed_parts(scale);
        return format!("{sign}{integer}.{fraction}");
    }
    let text: String = digits.digits.iter().map(|d| char::from(b'0' + d)).collect();
    let (first, rest) = text.split_at(1);
    let rest = if rest.is_empty() { "0" } else { rest };
    format!("{sign}{first}.{rest}E{}", digits.exponent())
}

/// `Double.toString(value)`.
pub(super) fn java_double_text(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_floating_text(&Digits::from_double(value), value.abs())
}

fn java_float_text(value: f32) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_floating_text(&Digits::from_float(value), f64::from(value.abs()))
}

/// `LocalTime.toString()`: seconds and fraction only when not zero.
fn java_time_text(time: NaiveTime) -> String {
    let mut text = format!("{:02}:{:02}", time.hour(), time.minute());
    let nanos = time.nanosecond() % 1_000_000_000;
    if time.second() != 0 || nanos != 0 {
        text.push_str(&format!(":{:02}", time.second()));
        if nanos != 0 {
            if nanos.is_multiple_of(1_000_000) {
                text.push_str(&format!(".{:03}", nanos / 1_000_000));
            } else if nanos.is_multiple_of(1_000) {
                text.push_str(&format!(".{:06}", nanos / 1_000));
            } else {
                text.push_str(&format!(".{nanos:09}"));
            }
        }
    }
    text
}

/// `LocalDate.toString()`.
fn java_date_text(date: NaiveDate) -> String {
    let year = date.year();
    let year_text = if year > 9999 {
        format!("+{year}")
    } else if year < 0 {
        format!("-{:04}", -i64::from(year))
    } else {
        format!("{year:04}")
    };
    format!("{year_text}-{:02}-{:02}", date.month(), date.day())
}

fn java_offset_text(offset: i32) -> String {
    if offset == 0 {
        return "Z".into();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let total = offset.unsigned_abs();
    let mut text = format!("{sign}{:02}:{:02}", total / 3600, total / 60 % 60);
    if !total.is_multiple_of(60) {
        text.push_str(&format!(":{:02}", total % 60));
    }
    text
}

fn is_offset_zone(zone: &str) -> bool {
    zone.starts_with(['+', '-'])
}

impl JavaValue {
    fn class(&self) -> &'static str {
        match self {
            JavaValue::Null => "null",
            JavaValue::Boolean(_) => "java.lang.Boolean",
            JavaValue::Long(_) => "java.lang.Long",
            JavaValue::Float(_) => "java.lang.Float",
            JavaValue::Double(_) => "java.lang.Double",
            JavaValue::Decimal(_) => "java.math.BigDecimal",
            JavaValue::Text(_) => "java.lang.String",
            JavaValue::Date(_) => "java.time.LocalDate",
            JavaValue::DateTime(_) => "java.time.LocalDateTime",
            JavaValue::Zoned(_) => "java.time.ZonedDateTime",
            JavaValue::Time(_) => "java.time.LocalTime",
        }
    }

    /// `String.valueOf(value)`.
    fn text(&self) -> String {
        match self {
            JavaValue::Null => "null".into(),
            JavaValue::Boolean(b) => b.to_string(),
            JavaValue::Long(v) => v.to_string(),
            JavaValue::Float(v) => java_float_text(*v),
            JavaValue::Double(v) => java_double_text(*v),
            JavaValue::Decimal(d) => d.big_decimal_text(),
            JavaValue::Text(s) => s.clone(),
            JavaValue::Date(d) => java_date_text(*d),
            JavaValue::DateTime(t) => {
                format!("{}T{}", java_date_text(t.date()), java_time_text(t.time()))
            }
            JavaValue::Zoned(z) => {
                let mut text = format!(
                    "{}T{}{}",
                    java_date_text(z.local.date()),
                    java_time_text(z.local.time()),
                    java_offset_text(z.offset)
                );
                if !is_offset_zone(&z.zone) {
                    text.push_str(&format!("[{}]", z.zone));
                }
                text
            }
            JavaValue::Time(t) => java_time_text(*t),
        }
    }

    /// `Object.hashCode()` for the classes whose hash is simple to state.
    fn hash_code(&self) -> Option<i32> {
        let long_hash = |v: i64| (v ^ ((v as u64) >> 32) as i64) as i32;
        Some(match self {
            JavaValue::Boolean(true) => 1231,
            JavaValue::Boolean(false) => 1237,
            JavaValue::Long(v) => long_hash(*v),
            JavaValue::Double(v) => {
                let bits = if v.is_nan() {
                    0x7ff8_0000_0000_0000
                } else {
                    v.to_bits() as i64
                };
                long_hash(bits)
            }
            JavaValue::Float(v) => {
                if v.is_nan() {
                    0x7fc0_0000
                } else {
                    v.to_bits() as i32
                }
            }
            JavaValue::Text(s) => s.encode_utf16().fold(0i32, |h, unit| {
                h.wrapping_mul(31).wrapping_add(i32::from(unit))
            }),
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The formatter

/// `String.format(Locale.ENGLISH, format, args)`; an error holds Java's exception, named as
/// Trino names it (`MissingFormatArgument: Format specifier '%s'`).
pub(super) fn java_format(format: &str, args: &[JavaValue]) -> Result<String, String> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut ordinary = 0usize;
    let mut last: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        let (spec, next) = read_specifier(&chars, i + 1)?;
        i = next;
        spec.check()?;
        if matches!(spec.conversion, 'n' | '%') && !spec.datetime {
            out.push_str(&spec.print(&JavaValue::Null)?);
            continue;
        }
        let position = match spec.index {
            Index::Ordinary => {
                ordinary += 1;
                ordinary - 1
            }
            Index::Explicit(0) => {
                return fail(
                    "IllegalFormatArgumentIndex",
                    "Illegal format argument index = 0",
                );
            }
            Index::Explicit(n) => n - 1,
            Index::Previous => match last {
                Some(p) => p,
                None => {
                    return fail(
                        "MissingFormatArgument",
                        format!("Format specifier '{}'", spec.text),
                    );
                }
            },
        };
        let Some(value) = args.get(position) else {
            return fail(
                "MissingFormatArgument",
                format!("Format specifier '{}'", spec.text),
            );
        };
        last = Some(position);
        out.push_str(&spec.print(value)?);
    }
    Ok(out)
}
