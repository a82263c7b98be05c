//! Java's `java.util.Formatter` in the English locale, which Trino's `format` uses: format
//! specifiers `%[index$][flags][width][.precision]conversion`, the general (`s b h`), integral
//! (`d o x`), floating-point (`e f g`) and date/time (`t`) conversions, and Java's errors,
//! named as Trino reports them (`IllegalFormatConversion: d != java.lang.Double`).

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::datetime_text::{MONTHS, WEEKDAYS};

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
// Format specifiers

#[derive(Debug, Default, Clone, Copy)]
struct Flags {
    left: bool,
    alternate: bool,
    plus: bool,
    space: bool,
    zero: bool,
    group: bool,
    parentheses: bool,
    previous: bool,
}

impl Flags {
    fn text(&self) -> String {
        let mut text = String::new();
        for (set, c) in [
            (self.left, '-'),
            (self.alternate, '#'),
            (self.plus, '+'),
            (self.space, ' '),
            (self.zero, '0'),
            (self.group, ','),
            (self.parentheses, '('),
            (self.previous, '<'),
        ] {
            if set {
                text.push(c);
            }
        }
        text
    }

    fn any_numeric(&self) -> bool {
        self.plus || self.space || self.zero || self.group || self.parentheses
    }
}

/// Which argument a specifier formats.
#[derive(Debug, Clone, Copy)]
enum Index {
    Ordinary,
    Explicit(usize),
    Previous,
}

#[derive(Debug)]
struct Specifier {
    text: String,
    index: Index,
    flags: Flags,
    width: Option<usize>,
    precision: Option<usize>,
    /// `t` or `T` before a date/time conversion.
    datetime: bool,
    upper: bool,
    conversion: char,
}

/// The largest width, precision or argument index a specifier may name.
const MAX_WIDTH: usize = 1_000_000;

fn fail<T>(kind: &str, detail: impl std::fmt::Display) -> Result<T, String> {
    Err(format!("{kind}: {detail}"))
}

/// Reads the specifier starting after the `%` at `chars[start - 1]`; returns it and the index
/// after it.
fn read_specifier(chars: &[char], start: usize) -> Result<(Specifier, usize), String> {
    let mut i = start;
    let digits_at = |i: usize| chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    // Widths and precisions past this would build texts of gigabytes; Java's limit is
    // `Integer.MAX_VALUE`, which no query result can hold either.
    let number = |from: usize, to: usize, kind: &str| -> Result<usize, String> {
        let text: String = chars[from..to].iter().collect();
        match text.parse::<usize>() {
            Ok(n) if n <= MAX_WIDTH => Ok(n),
            _ => fail(kind, format!("{text} (at most {MAX_WIDTH})")),
        }
    };
    // An argument index is digits followed by `$`.
    let mut index = Index::Ordinary;
    let n = digits_at(i);
    if n > 0 && chars.get(i + n) == Some(&'$') {
        index = Index::Explicit(number(i, i + n, "IllegalFormatArgumentIndex")?);
        i += n + 1;
    }
    let mut flags = Flags::default();
    while let Some(&c) = chars.get(i) {
        let slot = match c {
            '-' => &mut flags.left,
            '#' => &mut flags.alternate,
            '+' => &mut flags.plus,
            ' ' => &mut flags.space,
            '0' => &mut flags.zero,
            ',' => &mut flags.group,
            '(' => &mut flags.parentheses,
            '<' => &mut flags.previous,
            _ => break,
        };
        if *slot {
            return fail("DuplicateFormatFlags", format!("Flags = '{c}'"));
        }
        *slot = true;
        i += 1;
    }
    if flags.previous {
        index = Index::Previous;
    }
    let n = digits_at(i);
    let width = if n > 0 {
        let width = number(i, i + n, "IllegalFormatWidth")?;
        i += n;
        Some(width)
    } else {
        None
    };
    let precision = if chars.get(i) == Some(&'.') {
        let n = digits_at(i + 1);
        if n == 0 {
            let rest: String = chars[i..].iter().take(2).collect();
            return fail("UnknownFormatConversion", format!("Conversion = '{rest}'"));
        }
        let precision = number(i + 1, i + 1 + n, "IllegalFormatPrecision")?;
        i += 1 + n;
        Some(precision)
    } else {
        None
    };
    let Some(&first) = chars.get(i) else {
        return fail("UnknownFormatConversion", "Conversion = '%'");
    };
    i += 1;
    let (datetime, conversion) = if first == 't' || first == 'T' {
        let Some(&c) = chars.get(i) else {
            return fail("UnknownFormatConversion", format!("Conversion = '{first}'"));
        };
        i += 1;
        (true, c)
    } else {
        (false, first)
    };
    let upper = if datetime {
        first == 'T'
    } else {
        conversion.is_ascii_uppercase()
    };
    // Java's conversions that have an upper-case form; the rest are unknown in upper case.
    if upper && !datetime && !matches!(conversion, 'X' | 'E' | 'G' | 'B' | 'H' | 'S' | 'C' | 'A') {
        return fail(
            "UnknownFormatConversion",
            format!("Conversion = '{conversion}'"),
        );
    }
    let text: String = std::iter::once('%')
        .chain(chars[start..i].iter().copied())
        .collect();
    Ok((
        Specifier {
            text,
            index,
            flags,
            width,
            precision,
            datetime,
            upper,
            conversion: if datetime {
                conversion
            } else {
                conversion.to_ascii_lowercase()
            },
        },
        i,
    ))
}

impl Specifier {
    fn mismatch(&self, flag: impl std::fmt::Display) -> String {
        format!(
            "FormatFlagsConversionMismatch: Conversion = {}, Flags = {flag}",
            self.conversion
        )
    }

    /// Java's checks of flags, width and precision against the conversion.
    fn check(&self) -> Result<(), String> {
        let f = self.flags;
        let needs_width = |on: bool| -> Result<(), String> {
            if on && self.width.is_none() {
                fail("MissingFormatWidth", &self.text)
            } else {
                Ok(())
            }
        };
        let no_precision = || match self.precision {
            Some(p) => fail("IllegalFormatPrecision", p),
            None => Ok(()),
        };
        if self.datetime {
            no_precision()?;
            if f.alternate || f.any_numeric() {
                return Err(self.mismatch(f.text().replace(['-', '<'], "")));
            }
            return needs_width(f.left);
        }
        match self.conversion {
            'n' => {
                if let Some(width) = self.width {
                    return fail("IllegalFormatWidth", width);
                }
                no_precision()?;
                if f.left || f.alternate || f.any_numeric() {
                    return fail("IllegalFormatFlags", format!("Flags = '{}'", f.text()));
                }
                Ok(())
            }
            '%' => {
                no_precision()?;
                if f.alternate || f.any_numeric() {
                    return fail("IllegalFormatFlags", format!("Flags = '{}'", f.text()));
                }
                needs_width(f.left)
            }
            's' | 'b' | 'h' => {
                for (on, c) in [
                    (f.plus, '+'),
                    (f.space, ' '),
                    (f.zero, '0'),
                    (f.group, ','),
                    (f.parentheses, '('),
                ] {
                    if on {
                        return Err(self.mismatch(c));
                    }
                }
                if f.alternate && self.conversion != 's' {
                    return Err(self.mismatch('#'));
                }
                needs_width(f.left)
            }
            'c' => {
                no_precision()?;
                if f.alternate || f.any_numeric() {
                    return Err(self.mismatch(f.text().replace(['-', '<'], "")));
                }
                needs_width(f.left)
            }
            'd' | 'o' | 'x' => {
                no_precision()?;
                if self.conversion == 'd' && f.alternate {
                    return Err(self.mismatch('#'));
                }
                if self.conversion != 'd' && f.group {
                    return Err(self.mismatch(','));
                }
                self.check_numeric()
            }
            'e' | 'f' | 'g' => {
                if self.conversion == 'e' && f.group {
                    return Err(self.mismatch(','));
                }
                if self.conversion == 'g' && f.alternate {
                    return Err(self.mismatch('#'));
                }
                self.check_numeric()
            }
            'a' => fail(
                "UnsupportedConversion",
                "%a (hexadecimal floating point) is not supported",
            ),
            other => fail("UnknownFormatConversion", format!("Conversion = '{other}'")),
        }
    }

    fn check_numeric(&self) -> Result<(), String> {
        let f = self.flags;
        if (f.plus && f.space) || (f.left && f.zero) {
            return fail("IllegalFormatFlags", format!("Flags = '{}'", f.text()));
        }
        if (f.left || f.zero) && self.width.is_none() {
            return fail("MissingFormatWidth", &self.text);
        }
        Ok(())
    }

    fn conversion_mismatch<T>(&self, value: &JavaValue) -> Result<T, String> {
        // Java names the conversion in lower case, and for `%tY` the letter after `t`.
        let c = self.conversion;
        fail(
            "IllegalFormatConversion",
            format!("{c} != {}", value.class()),
        )
    }

    /// Pads to the width with spaces, left or right.
    fn justify(&self, text: String) -> String {
        let len = text.chars().count();
        match self.width {
            Some(width) if width > len => {
                let pad = " ".repeat(width - len);
                if self.flags.left {
                    text + &pad
                } else {
                    pad + &text
                }
            }
            _ => text,
        }
    }

    fn cased(&self, text: String) -> String {
        if self.upper {
            text.to_uppercase()
        } else {
            text
        }
    }

    fn print(&self, value: &JavaValue) -> Result<String, String> {
        if self.datetime {
            let text = match value {
                JavaValue::Null => "null".to_string(),
                _ => print_datetime(self, value)?,
            };
            return Ok(self.justify(self.cased(text)));
        }
        match self.conversion {
            's' => {
                if self.flags.alternate {
                    return Err(self.mismatch('#'));
                }
                Ok(self.justify(self.cased(self.truncate(value.text()))))
            }
            'b' => {
                let text = match value {
                    JavaValue::Null => "false".to_string(),
                    JavaValue::Boolean(b) => b.to_string(),
                    _ => "true".to_string(),
                };
                Ok(self.justify(self.cased(self.truncate(text))))
            }
            'h' => {
                let text = match value {
                    JavaValue::Null => "null".to_string(),
                    other => match other.hash_code() {
                        Some(hash) => format!("{:x}", hash as u32),
                        None => {
                            return fail(
                                "UnsupportedConversion",
                                format!("%h of {} is not supported", other.class()),
                            );
                        }
                    },
                };
                Ok(self.justify(self.cased(self.truncate(text))))
            }
            'c' => match value {
                JavaValue::Null => Ok(self.justify(self.cased("null".into()))),
                other => self.conversion_mismatch(other),
            },
            'd' => match value {
                JavaValue::Null => Ok(self.justify(self.cased("null".into()))),
                JavaValue::Long(v) => {
                    let magnitude = v.unsigned_abs().to_string();
                    Ok(self.number(*v < 0, magnitude, None))
                }
                other => self.conversion_mismatch(other),
            },
            'o' | 'x' => match value {
                JavaValue::Null => Ok(self.justify(self.cased("null".into()))),
                JavaValue::Long(v) => {
                    if self.flags.plus || self.flags.space || self.flags.parentheses {
                        let flag = if self.flags.plus {
                            '+'
                        } else if self.flags.space {
                            ' '
                        } else {
                            '('
                        };
                        return Err(self.mismatch(flag));
                    }
                    let (digits, prefix) = if self.conversion == 'x' {
                        (format!("{:x}", *v as u64), "0x")
                    } else {
                        (format!("{:o}", *v as u64), "0")
                    };
                    let mut text = if self.flags.alternate {
                        prefix.to_string()
                    } else {
                        String::new()
                    };
                    if self.flags.zero
                        && let Some(width) = self.width
                    {
                        let len = text.len() + digits.len();
                        text.push_str(&"0".repeat(width.saturating_sub(len)));
                    }
                    text.push_str(&digits);
                    Ok(self.justify(self.cased(text)))
                }
                other => self.conversion_mismatch(other),
            },
            'e' | 'f' | 'g' => {
                let digits = match value {
                    JavaValue::Null => return Ok(self.justify(self.cased("null".into()))),
                    JavaValue::Double(v) => self.finite(*v)?,
                    JavaValue::Float(v) => self.finite(f64::from(*v))?,
                    JavaValue::Decimal(d) => Ok(d.clone()),
                    other => return self.conversion_mismatch(other),
                };
                match digits {
                    Ok(digits) => Ok(self.floating(&digits)),
                    Err(text) => Ok(text),
                }
            }
            'n' => Ok("\n".into()),
            '%' => Ok(self.justify("%".into())),
            other => fail("UnknownFormatConversion", format!("Conversion = '{other}'")),
        }
    }

    fn truncate(&self, text: String) -> String {
        match self.precision {
            Some(p) => text.chars().take(p).collect(),
            None => text,
        }
    }

    /// The digits of a finite double, or the finished text of NaN and the infinities.
    fn finite(&self, value: f64) -> Result<Result<Digits, String>, String> {
        if value.is_nan() {
            return Ok(Err(self.justify(self.cased("NaN".into()))));
        }
        if value.is_infinite() {
            let negative = value < 0.0;
            let mut text = String::new();
            if negative {
                text.push(if self.flags.parentheses { '(' } else { '-' });
            } else if self.flags.plus {
                text.push('+');
            } else if self.flags.space {
                text.push(' ');
            }
            text.push_str("Infinity");
            if negative && self.flags.parentheses {
                text.push(')');
            }
            return Ok(Err(self.justify(self.cased(text))));
        }
        Ok(Ok(Digits::from_double(value)))
    }

    fn floating(&self, digits: &Digits) -> String {
        // Java keeps the sign of -0.0 and of negatives that round to zero.
        let negative = digits.negative;
        let precision = self.precision.unwrap_or(6);
        match self.conversion {
            'f' => {
                let (integer, fraction) = digits.fixed(precision);
                self.number(negative, integer, Some((fraction, None)))
            }
            'e' => self.exponential(negative, digits, precision),
            _ => {
                let precision = precision.max(1);
                let rounded_exponent = if digits.is_zero() {
                    0
                } else {
                    digits
                        .round_to_scale(precision as i32 - 1 - digits.exponent())
                        .exponent()
                };
                if digits.is_zero() || (-4..precision as i32).contains(&rounded_exponent) {
                    let scale = (precision as i32 - 1 - rounded_exponent).max(0) as usize;
                    let (integer, fraction) = digits.fixed(scale);
                    self.number(negative, integer, Some((fraction, None)))
                } else {
                    self.exponential(negative, digits, precision - 1)
                }
            }
        }
    }

    fn exponential(&self, negative: bool, digits: &Digits, precision: usize) -> String {
        let (first, rest, exponent) = digits.scientific(precision);
        let sign = if exponent < 0 { '-' } else { '+' };
        let exponent = format!("e{sign}{:02}", exponent.unsigned_abs());
        self.number(negative, first, Some((rest, Some(exponent))))
    }

    /// Sign, zero padding, grouping and justification of a number: its integer digits and,
    /// for floating point, its fraction digits and exponent.
    fn number(
        &self,
        negative: bool,
        integer: String,
        fraction: Option<(String, Option<String>)>,
    ) -> String {
        let f = self.flags;
        let mut text = String::new();
        if negative {
            text.push(if f.parentheses { '(' } else { '-' });
        } else if f.plus {
            text.push('+');
        } else if f.space {
            text.push(' ');
        }
        let sign_len = text.len();
        let grouped = if f.group {
            group_thousands(&integer)
        } else {
            integer
        };
        let mut body = grouped;
        let mut tail = String::new();
        if let Some((fraction, exponent)) = fraction {
            if !fraction.is_empty() || f.alternate {
                tail.push('.');
            }
            tail.push_str(&fraction);
            if let Some(exponent) = exponent {
                tail.push_str(&exponent);
            }
        }
        if negative && f.parentheses {
            tail.push(')');
        }
        if f.zero
            && let Some(width) = self.width
        {
            let len = sign_len + body.chars().count() + tail.chars().count();
            if width > len {
                body = "0".repeat(width - len) + &body;
            }
        }
        text.push_str(&body);
        text.push_str(&tail);
        self.justify(self.cased(text))
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    let len = digits.len();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Date/time conversions

/// The fields a date/time value offers.
struct Fields {
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    /// Offset, zone name and abbreviation.
    zone: Option<(i32, String, Option<String>)>,
    /// Seconds and nanoseconds since the epoch.
    instant: Option<(i64, u32)>,
}

fn fields(value: &JavaValue) -> Option<Fields> {
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

fn print_datetime(spec: &Specifier, value: &JavaValue) -> Result<String, String> {
    let Some(fields) = fields(value) else {
        return spec.conversion_mismatch(value);
    };
    datetime_text(spec.conversion, &fields)
}

fn unsupported<T>(field: &str) -> Result<T, String> {
    fail(
        "UnsupportedTemporalType",
        format!("Unsupported field: {field}"),
    )
}

fn datetime_text(conversion: char, fields: &Fields) -> Result<String, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(format: &str, args: &[JavaValue]) -> String {
        java_format(format, args).unwrap_or_else(|e| format!("ERROR {e}"))
    }

    #[test]
    fn general_conversions() {
        use JavaValue::*;
        assert_eq!(run("%s and %s", &[Text("a".into()), Long(3)]), "a and 3");
        assert_eq!(
            run(
                "%S|%5s|%-5s|%.2s",
                &[
                    Text("ab".into()),
                    Text("ab".into()),
                    Text("ab".into()),
                    Text("abc".into())
                ]
            ),
            "AB|   ab|ab   |ab"
        );
        assert_eq!(
            run("%s %s %s", &[Null, Boolean(true), Double(1.5)]),
            "null true 1.5"
        );
        assert_eq!(
            run("%b %b %B", &[Null, Long(0), Boolean(false)]),
            "false true FALSE"
        );
        assert_eq!(run("%2$s %1$s %<s", &[Long(1), Long(2)]), "2 1 1");
        assert_eq!(run("100%% done%n", &[]), "100% done\n");
        assert_eq!(run("%h", &[Text("hello".into())]), "5e918d2");
        assert_eq!(run("%h", &[Long(-1)]), "0");
    }

    #[test]
    fn java_number_text() {
        assert_eq!(java_double_text(1.0), "1.0");
        assert_eq!(java_double_text(1e7), "1.0E7");
        assert_eq!(java_double_text(1234567.5), "1234567.5");
        assert_eq!(java_double_text(0.001), "0.001");
        assert_eq!(java_double_text(0.0001), "1.0E-4");
        assert_eq!(java_double_text(-2.5e-10), "-2.5E-10");
        assert_eq!(java_double_text(100.0), "100.0");
        assert_eq!(java_float_text(0.1), "0.1");
        let decimal = |u: i128, s: i32| JavaValue::Decimal(Digits::from_unscaled(u, s)).text();
        assert_eq!(decimal(12345, 2), "123.45");
        assert_eq!(decimal(-5, 3), "-0.005");
        assert_eq!(decimal(0, 2), "0.00");
        assert_eq!(decimal(0, 7), "0E-7");
        assert_eq!(decimal(1, 8), "1E-8");
        assert_eq!(decimal(42, 0), "42");
    }

    #[test]
    fn integral_conversions() {
        use JavaValue::*;
        assert_eq!(
            run(
                "%d|%5d|%-5d|%05d",
                &[Long(42), Long(42), Long(42), Long(-42)]
            ),
            "42|   42|42   |-0042"
        );
        assert_eq!(
            run(
                "%,d|%+d|% d|%(d",
                &[Long(1234567), Long(5), Long(5), Long(-5)]
            ),
            "1,234,567|+5| 5|(5)"
        );
        assert_eq!(
            run(
                "%x|%X|%#x|%o|%08x",
                &[Long(255), Long(255), Long(255), Long(8), Long(255)]
            ),
            "ff|FF|0xff|10|000000ff"
        );
        assert_eq!(run("%x", &[Long(-1)]), "ffffffffffffffff");
        assert_eq!(run("%d", &[Null]), "null");
        assert_eq!(
            run("%d", &[Double(1.0)]),
            "ERROR IllegalFormatConversion: d != java.lang.Double"
        );
        assert_eq!(run("%.2d", &[Long(1)]), "ERROR IllegalFormatPrecision: 2");
        assert_eq!(
            run("%#d", &[Long(1)]),
            "ERROR FormatFlagsConversionMismatch: Conversion = d, Flags = #"
        );
        assert_eq!(run("%-d", &[Long(1)]), "ERROR MissingFormatWidth: %-d");
        assert_eq!(
            run("%+ d", &[Long(1)]),
            "ERROR IllegalFormatFlags: Flags = '+ '"
        );
    }

    #[test]
    fn floating_conversions() {
        use JavaValue::*;
        assert_eq!(
            run(
                "%f|%.2f|%.0f|%.1f",
                &[Double(3.14259), Double(2.675), Double(0.5), Double(0.15)]
            ),
            "3.142590|2.68|1|0.2"
        );
        assert_eq!(
            run(
                "%,.2f|%010.3f|%(.1f",
                &[Double(1234567.891), Double(-3.14259), Double(-2.0)]
            ),
            "1,234,567.89|-00003.143|(2.0)"
        );
        assert_eq!(
            run(
                "%e|%.2E|%e",
                &[Double(12345.678), Double(0.000123), Double(0.0)]
            ),
            "1.234568e+04|1.23E-04|0.000000e+00"
        );
        assert_eq!(
            run(
                "%g|%g|%.3g|%g",
                &[
                    Double(123.456),
                    Double(0.00001234),
                    Double(99999.0),
                    Double(0.0)
                ]
            ),
            "123.456|1.23400e-05|1.00e+05|0.00000"
        );
        assert_eq!(
            run("%.3f", &[Decimal(Digits::from_unscaled(12345, 2))]),
            "123.450"
        );
        assert_eq!(
            run("%.1f", &[Decimal(Digits::from_unscaled(-125, 2))]),
            "-1.3"
        );
        assert_eq!(
            run(
                "%f|%+f|%5.1f",
                &[
                    Double(f64::NAN),
                    Double(f64::INFINITY),
                    Double(f64::NEG_INFINITY)
                ]
            ),
            "NaN|+Infinity|-Infinity"
        );
        assert_eq!(run("%.20f", &[Double(0.1)]), "0.10000000000000000000");
        assert_eq!(run("%.2f", &[Double(99.999)]), "100.00");
        assert_eq!(
            run("%f", &[Long(1)]),
            "ERROR IllegalFormatConversion: f != java.lang.Long"
        );
        assert_eq!(
            run("%,e", &[Double(1.0)]),
            "ERROR FormatFlagsConversionMismatch: Conversion = e, Flags = ,"
        );
    }

    #[test]
    fn datetime_conversions() {
        use JavaValue::*;
        let at = NaiveDate::from_ymd_opt(2024, 3, 9)
            .and_then(|d| d.and_hms_milli_opt(15, 4, 5, 120))
            .expect("a valid time");
        assert_eq!(
            run("%tF %<tT.%<tL %<tp", &[DateTime(at)]),
            "2024-03-09 15:04:05.120 pm"
        );
        assert_eq!(
            run("%tA, %<tB %<te %<tY | %<tD | %<tr", &[DateTime(at)]),
            "Saturday, March 9 2024 | 03/09/24 | 03:04:05 PM"
        );
        assert_eq!(run("%TB", &[Date(at.date())]), "MARCH");
        assert_eq!(
            run("%tH", &[Date(at.date())]),
            "ERROR UnsupportedTemporalType: Unsupported field: HourOfDay"
        );
        let zoned = super::Zoned {
            local: at,
            offset: -5 * 3600,
            zone: "America/New_York".into(),
            abbreviation: Some("EST".into()),
        };
        assert_eq!(
            run("%tc|%<tz|%<ts", &[Zoned(zoned.clone())]),
            "Sat Mar 09 15:04:05 EST 2024|-0500|1710014645"
        );
        assert_eq!(
            Zoned(zoned).text(),
            "2024-03-09T15:04:05.120-05:00[America/New_York]"
        );
        assert_eq!(
            DateTime(at.date().and_hms_opt(1, 2, 0).expect("time")).text(),
            "2024-03-09T01:02"
        );
        assert_eq!(
            run("%tY", &[Text("x".into())]),
            "ERROR IllegalFormatConversion: Y != java.lang.String"
        );
    }

    #[test]
    fn format_errors() {
        use JavaValue::*;
        assert_eq!(
            run("%s %s", &[Long(1)]),
            "ERROR MissingFormatArgument: Format specifier '%s'"
        );
        assert_eq!(
            run("%q", &[Long(1)]),
            "ERROR UnknownFormatConversion: Conversion = 'q'"
        );
        assert_eq!(
            run("abc%", &[]),
            "ERROR UnknownFormatConversion: Conversion = '%'"
        );
        assert_eq!(
            run("%+s", &[Long(1)]),
            "ERROR FormatFlagsConversionMismatch: Conversion = s, Flags = +"
        );
        assert_eq!(
            run("%c", &[Long(65)]),
            "ERROR IllegalFormatConversion: c != java.lang.Long"
        );
        assert_eq!(
            run("%--5s", &[Long(1)]),
            "ERROR DuplicateFormatFlags: Flags = '-'"
        );
        assert_eq!(
            run("%2000000s", &[Long(1)]),
            "ERROR IllegalFormatWidth: 2000000 (at most 1000000)"
        );
        assert_eq!(run("%X|%.1f", &[Null, Double(-0.0)]), "NULL|-0.0");
    }
}
