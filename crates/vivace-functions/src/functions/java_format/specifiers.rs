//! Format specifiers: flags, width, precision and the general, integral and floating-point
//! conversions.

use super::*;

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Flags {
    pub(super) left: bool,
    pub(super) alternate: bool,
    pub(super) plus: bool,
    pub(super) space: bool,
    pub(super) zero: bool,
    pub(super) group: bool,
    pub(super) parentheses: bool,
    pub(super) previous: bool,
}

impl Flags {
    pub(super) fn text(&self) -> String {
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

    pub(super) fn any_numeric(&self) -> bool {
        self.plus || self.space || self.zero || self.group || self.parentheses
    }
}

/// Which argument a specifier formats.
#[derive(Debug, Clone, Copy)]
pub(super) enum Index {
    Ordinary,
    Explicit(usize),
    Previous,
}

#[derive(Debug)]
pub(super) struct Specifier {
    pub(super) text: String,
    pub(super) index: Index,
    pub(super) flags: Flags,
    pub(super) width: Option<usize>,
    pub(super) precision: Option<usize>,
    /// `t` or `T` before a date/time conversion.
    pub(super) datetime: bool,
    pub(super) upper: bool,
    pub(super) conversion: char,
}

/// The largest width, precision or argument index a specifier may name.
pub(super) const MAX_WIDTH: usize = 1_000_000;

pub(super) fn fail<T>(kind: &str, detail: impl std::fmt::Display) -> Result<T, String> {
    Err(format!("{kind}: {detail}"))
}

/// Reads the specifier starting after the `%` at `chars[start - 1]`; returns it and the index
/// after it.
pub(super) fn read_specifier(chars: &[char], start: usize) -> Result<(Specifier, usize), String> {
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
    pub(super) fn mismatch(&self, flag: impl std::fmt::Display) -> String {
        format!(
            "FormatFlagsConversionMismatch: Conversion = {}, Flags = {flag}",
            self.conversion
        )
    }

    /// Java's checks of flags, width and precision against the conversion.
    pub(super) fn check(&self) -> Result<(), String> {
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

    pub(super) fn check_numeric(&self) -> Result<(), String> {
        let f = self.flags;
        if (f.plus && f.space) || (f.left && f.zero) {
            return fail("IllegalFormatFlags", format!("Flags = '{}'", f.text()));
        }
        if (f.left || f.zero) && self.width.is_none() {
            return fail("MissingFormatWidth", &self.text);
        }
        Ok(())
    }

    pub(super) fn conversion_mismatch<T>(&self, value: &JavaValue) -> Result<T, String> {
        // Java names the conversion in lower case, and for `%tY` the letter after `t`.
        let c = self.conversion;
        fail(
            "IllegalFormatConversion",
            format!("{c} != {}", value.class()),
        )
    }

    /// Pads to the width with spaces, left or right.
    pub(super) fn justify(&self, text: String) -> String {
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

    pub(super) fn cased(&self, text: String) -> String {
        if self.upper {
            text.to_uppercase()
        } else {
            text
        }
    }

    pub(super) fn print(&self, value: &JavaValue) -> Result<String, String> {
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

    pub(super) fn truncate(&self, text: String) -> String {
        match self.precision {
            Some(p) => text.chars().take(p).collect(),
            None => text,
        }
    }

    /// The digits of a finite double, or the finished text of NaN and the infinities.
    pub(super) fn finite(&self, value: f64) -> Result<Result<Digits, String>, String> {
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

    pub(super) fn floating(&self, digits: &Digits) -> String {
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

    pub(super) fn exponential(&self, negative: bool, digits: &Digits, precision: usize) -> String {
        let (first, rest, exponent) = digits.scientific(precision);
        let sign = if exponent < 0 { '-' } else { '+' };
        let exponent = format!("e{sign}{:02}", exponent.unsigned_abs());
        self.number(negative, first, Some((rest, Some(exponent))))
    }

    /// Sign, zero padding, grouping and justification of a number: its integer digits and,
    /// for floating point, its fraction digits and exponent.
    pub(super) fn number(
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

pub(super) fn group_thousands(digits: &str) -> String {
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
