//! Trino's SQL types: their display names, their `typeSignature`s, and a parser for type names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest varchar; unbounded `varchar` is sent with this length.
pub const UNBOUNDED_VARCHAR_LENGTH: i64 = 2_147_483_647;

/// A Trino type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrinoType {
    /// `boolean`
    Boolean,
    /// `tinyint`
    Tinyint,
    /// `smallint`
    Smallint,
    /// `integer`
    Integer,
    /// `bigint`
    Bigint,
    /// `real`
    Real,
    /// `double`
    Double,
    /// `decimal(p, s)`
    Decimal {
        /// Total digits.
        precision: u32,
        /// Digits after the point.
        scale: u32,
    },
    /// `varchar` or `varchar(n)`
    Varchar(Option<u32>),
    /// `char(n)`
    Char(u32),
    /// `varbinary`
    Varbinary,
    /// `json`
    Json,
    /// `uuid`
    Uuid,
    /// `ipaddress`
    IpAddress,
    /// `date`
    Date,
    /// `time(p)` or `time(p) with time zone`
    Time {
        /// Fraction digits.
        precision: u32,
        /// Whether the value carries an offset.
        with_time_zone: bool,
    },
    /// `timestamp(p)` or `timestamp(p) with time zone`
    Timestamp {
        /// Fraction digits.
        precision: u32,
        /// Whether the value carries a zone.
        with_time_zone: bool,
    },
    /// `interval day to second`
    IntervalDayToSecond,
    /// `interval year to month`
    IntervalYearToMonth,
    /// `array(T)`
    Array(Box<TrinoType>),
    /// `map(K, V)`
    Map(Box<TrinoType>, Box<TrinoType>),
    /// `row(name T, ...)`; field names are optional.
    Row(Vec<RowField>),
    /// The type of a bare `NULL`.
    Unknown,
}

/// A field of a `row` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowField {
    /// The field name, if it has one.
    pub name: Option<String>,
    /// The field type.
    pub field_type: TrinoType,
}

/// A `typeSignature` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientTypeSignature {
    /// The base type name, such as `varchar` or `timestamp with time zone`.
    pub raw_type: String,
    /// Its parameters.
    #[serde(default)]
    pub arguments: Vec<TypeArgument>,
}

/// One `typeSignature` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value")]
pub enum TypeArgument {
    /// A number (a length, precision or scale).
    #[serde(rename = "LONG")]
    Long(i64),
    /// A type (an array element, a map key or value).
    #[serde(rename = "TYPE")]
    Type(ClientTypeSignature),
    /// A row field.
    #[serde(rename = "NAMED_TYPE")]
    NamedType(NamedTypeSignature),
}

/// A row field in a `typeSignature`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedTypeSignature {
    /// The field name, left out for anonymous fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_name: Option<RowFieldName>,
    /// The field type.
    pub type_signature: ClientTypeSignature,
}

/// A row field's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowFieldName {
    /// The name.
    pub name: String,
}

impl TrinoType {
    /// `varchar` without a length.
    pub const VARCHAR: TrinoType = TrinoType::Varchar(None);

    /// The display name. `legacy_datetime` drops time/timestamp precision, for clients that
    /// did not announce `PARAMETRIC_DATETIME`.
    pub fn display_name(&self, legacy_datetime: bool) -> String {
        let mut out = String::new();
        self.write_name(&mut out, legacy_datetime);
        out
    }

    #[recursive::recursive]
    fn write_name(&self, out: &mut String, legacy: bool) {
        use std::fmt::Write;
        let datetime = |out: &mut String, base: &str, precision: u32, tz: bool| {
            out.push_str(base);
            if !legacy {
                let _ = write!(out, "({precision})");
            }
            if tz {
                out.push_str(" with time zone");
            }
        };
        match self {
            TrinoType::Decimal { precision, scale } => {
                let _ = write!(out, "decimal({precision}, {scale})");
            }
            TrinoType::Varchar(Some(n)) => {
                let _ = write!(out, "varchar({n})");
            }
            TrinoType::Char(n) => {
                let _ = write!(out, "char({n})");
            }
            TrinoType::Time {
                precision,
                with_time_zone,
            } => datetime(out, "time", *precision, *with_time_zone),
            TrinoType::Timestamp {
                precision,
                with_time_zone,
            } => datetime(out, "timestamp", *precision, *with_time_zone),
            TrinoType::Array(element) => {
                out.push_str("array(");
                element.write_name(out, legacy);
                out.push(')');
            }
            TrinoType::Map(key, value) => {
                out.push_str("map(");
                key.write_name(out, legacy);
                out.push_str(", ");
                value.write_name(out, legacy);
                out.push(')');
            }
            TrinoType::Row(fields) => {
                out.push_str("row(");
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if let Some(name) = &field.name {
                        out.push_str(&format_identifier(name));
                        out.push(' ');
                    }
                    field.field_type.write_name(out, legacy);
                }
                out.push(')');
            }
            simple => out.push_str(simple.raw_type()),
        }
    }

    /// The base name used as `rawType`.
    pub fn raw_type(&self) -> &'static str {
        match self {
            TrinoType::Boolean => "boolean",
            TrinoType::Tinyint => "tinyint",
            TrinoType::Smallint => "smallint",
            TrinoType::Integer => "integer",
            TrinoType::Bigint => "bigint",
            TrinoType::Real => "real",
            TrinoType::Double => "double",
            TrinoType::Decimal { .. } => "decimal",
            TrinoType::Varchar(_) => "varchar",
            TrinoType::Char(_) => "char",
            TrinoType::Varbinary => "varbinary",
            TrinoType::Json => "json",
            TrinoType::Uuid => "uuid",
            TrinoType::IpAddress => "ipaddress",
            TrinoType::Date => "date",
            TrinoType::Time {
                with_time_zone: false,
                ..
            } => "time",
            TrinoType::Time {
                with_time_zone: true,
                ..
            } => "time with time zone",
            TrinoType::Timestamp {
                with_time_zone: false,
                ..
            } => "timestamp",
            TrinoType::Timestamp {
                with_time_zone: true,
                ..
            } => "timestamp with time zone",
            TrinoType::IntervalDayToSecond => "interval day to second",
            TrinoType::IntervalYearToMonth => "interval year to month",
            TrinoType::Array(_) => "array",
            TrinoType::Map(_, _) => "map",
            TrinoType::Row(_) => "row",
            TrinoType::Unknown => "unknown",
        }
    }

    /// The `typeSignature`; `legacy_datetime` as for [`TrinoType::display_name`].
    #[recursive::recursive]
    pub fn signature(&self, legacy_datetime: bool) -> ClientTypeSignature {
        let arguments = match self {
            TrinoType::Decimal { precision, scale } => vec![
                TypeArgument::Long(i64::from(*precision)),
                TypeArgument::Long(i64::from(*scale)),
            ],
            TrinoType::Varchar(length) => vec![TypeArgument::Long(
                length.map_or(UNBOUNDED_VARCHAR_LENGTH, i64::from),
            )],
            TrinoType::Char(n) => vec![TypeArgument::Long(i64::from(*n))],
            TrinoType::Time { precision, .. } | TrinoType::Timestamp { precision, .. } => {
                if legacy_datetime {
                    vec![]
                } else {
                    vec![TypeArgument::Long(i64::from(*precision))]
                }
            }
            TrinoType::Array(element) => {
                vec![TypeArgument::Type(element.signature(legacy_datetime))]
            }
            TrinoType::Map(key, value) => vec![
                TypeArgument::Type(key.signature(legacy_datetime)),
                TypeArgument::Type(value.signature(legacy_datetime)),
            ],
            TrinoType::Row(fields) => fields
                .iter()
                .map(|field| {
                    TypeArgument::NamedType(NamedTypeSignature {
                        field_name: field.name.clone().map(|name| RowFieldName { name }),
                        type_signature: field.field_type.signature(legacy_datetime),
                    })
                })
                .collect(),
            _ => vec![],
        };
        ClientTypeSignature {
            raw_type: self.raw_type().to_string(),
            arguments,
        }
    }

    /// Parses a type name as Trino writes it (`decimal(10, 2)`, `array(row(a bigint))`,
    /// `timestamp(6) with time zone`, `int`, `double precision`, ...), case-insensitively.
    pub fn parse(text: &str) -> Result<TrinoType, String> {
        let mut parser = TypeParser {
            text,
            tokens: tokenize(text)?,
            pos: 0,
            depth: 0,
        };
        let parsed = parser.parse_type()?;
        if parser.pos != parser.tokens.len() {
            return Err(format!("Unknown type: {text}"));
        }
        Ok(parsed)
    }
}

impl fmt::Display for TrinoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name(false))
    }
}

/// An identifier as Trino prints it in type names and DDL: bare when it is lower-case letters,
/// digits and `_`, double-quoted otherwise.
pub fn format_identifier(name: &str) -> String {
    let plain = name
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_lowercase() || (i > 0 && c.is_ascii_digit()));
    if plain && !name.is_empty() {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Number(u32),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            ',' => {
                chars.next();
                tokens.push(Token::Comma);
            }
            '"' => {
                chars.next();
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some((_, '"')) => {
                            if chars.peek().map(|&(_, c)| c) == Some('"') {
                                chars.next();
                                name.push('"');
                            } else {
                                break;
                            }
                        }
                        Some((_, c)) => name.push(c),
                        None => return Err(format!("Unterminated quoted name in type: {text}")),
                    }
                }
                tokens.push(Token::Quoted(name));
            }
            c if c.is_ascii_digit() => {
                let mut end = start;
                while let Some(&(i, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                let number = text[start..end]
                    .parse()
                    .map_err(|_| format!("Number too large in type: {text}"))?;
                tokens.push(Token::Number(number));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = start;
                while let Some(&(i, d)) = chars.peek() {
                    if !(d.is_alphanumeric() || d == '_') {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Word(text[start..end].to_ascii_lowercase()));
            }
            _ => return Err(format!("Unknown type: {text}")),
        }
    }
    Ok(tokens)
}

/// How deeply types may nest (`array(array(...))`): deeper type names are refused before
/// they can exhaust the stack, wherever they come from (SQL, file metadata, headers).
pub const MAX_TYPE_NESTING: usize = 100;

struct TypeParser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl TypeParser<'_> {
    fn error(&self) -> String {
        format!("Unknown type: {}", self.text)
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        self.eat(&Token::Word(word.to_string()))
    }

    fn expect(&mut self, token: &Token) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn number(&mut self) -> Result<u32, String> {
        match self.peek() {
            Some(Token::Number(n)) => {
                let n = *n;
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.error()),
        }
    }

    /// `(n)` if present.
    fn optional_length(&mut self) -> Result<Option<u32>, String> {
        if self.eat(&Token::Open) {
            let n = self.number()?;
            self.expect(&Token::Close)?;
            Ok(Some(n))
        } else {
            Ok(None)
        }
    }

    fn with_time_zone(&mut self) -> Result<bool, String> {
        if self.eat_word("with") {
            if self.eat_word("time") && self.eat_word("zone") {
                return Ok(true);
            }
            return Err(self.error());
        }
        if self.eat_word("without") {
            if self.eat_word("time") && self.eat_word("zone") {
                return Ok(false);
            }
            return Err(self.error());
        }
        Ok(false)
    }

    fn parse_type(&mut self) -> Result<TrinoType, String> {
        if self.depth >= MAX_TYPE_NESTING {
            return Err(format!(
                "Type nesting exceeds the maximum depth of {MAX_TYPE_NESTING}"
            ));
        }
        self.depth += 1;
        let parsed = self.parse_one_type();
        self.depth -= 1;
        parsed
    }

    fn parse_one_type(&mut self) -> Result<TrinoType, String> {
        let Some(Token::Word(word)) = self.peek().cloned() else {
            return Err(self.error());
        };
        self.pos += 1;
        let parsed = match word.as_str() {
            "boolean" => TrinoType::Boolean,
            "tinyint" => TrinoType::Tinyint,
            "smallint" => TrinoType::Smallint,
            "integer" | "int" => TrinoType::Integer,
            "bigint" => TrinoType::Bigint,
            "real" => TrinoType::Real,
            "double" => {
                self.eat_word("precision");
                TrinoType::Double
            }
            "decimal" | "numeric" => {
                if self.eat(&Token::Open) {
                    let precision = self.number()?;
                    let scale = if self.eat(&Token::Comma) {
                        self.number()?
                    } else {
                        0
                    };
                    self.expect(&Token::Close)?;
                    if precision == 0 || precision > 38 || scale > precision {
                        return Err(format!(
                            "Invalid decimal precision or scale in type: {}",
                            self.text
                        ));
                    }
                    TrinoType::Decimal { precision, scale }
                } else {
                    TrinoType::Decimal {
                        precision: 38,
                        scale: 0,
                    }
                }
            }
            "varchar" => TrinoType::Varchar(self.optional_length()?),
            "char" => TrinoType::Char(self.optional_length()?.unwrap_or(1)),
            "varbinary" => TrinoType::Varbinary,
            "json" => TrinoType::Json,
            "uuid" => TrinoType::Uuid,
            "ipaddress" => TrinoType::IpAddress,
            "date" => TrinoType::Date,
            "time" => {
                let precision = self.optional_length()?.unwrap_or(3);
                TrinoType::Time {
                    precision: check_precision(precision, 12, self.text)?,
                    with_time_zone: self.with_time_zone()?,
                }
            }
            "timestamp" => {
                let precision = self.optional_length()?.unwrap_or(3);
                TrinoType::Timestamp {
                    precision: check_precision(precision, 12, self.text)?,
                    with_time_zone: self.with_time_zone()?,
                }
            }
            "interval" => {
                if self.eat_word("day") && self.eat_word("to") && self.eat_word("second") {
                    TrinoType::IntervalDayToSecond
                } else if self.eat_word("year") && self.eat_word("to") && self.eat_word("month") {
                    TrinoType::IntervalYearToMonth
                } else {
                    return Err(self.error());
                }
            }
            "array" => {
                self.expect(&Token::Open)?;
                let element = self.parse_type()?;
                self.expect(&Token::Close)?;
                TrinoType::Array(Box::new(element))
            }
            "map" => {
                self.expect(&Token::Open)?;
                let key = self.parse_type()?;
                self.expect(&Token::Comma)?;
                let value = self.parse_type()?;
                self.expect(&Token::Close)?;
                TrinoType::Map(Box::new(key), Box::new(value))
            }
            "row" => {
                self.expect(&Token::Open)?;
                let mut fields = Vec::new();
                loop {
                    fields.push(self.parse_row_field()?);
                    if self.eat(&Token::Close) {
                        break;
                    }
                    self.expect(&Token::Comma)?;
                }
                TrinoType::Row(fields)
            }
            "unknown" => TrinoType::Unknown,
            _ => return Err(self.error()),
        };
        Ok(parsed)
    }

    /// `name type`, `"name" type` or an anonymous `type`.
    fn parse_row_field(&mut self) -> Result<RowField, String> {
        if let Some(Token::Quoted(name)) = self.peek().cloned() {
            self.pos += 1;
            return Ok(RowField {
                name: Some(name),
                field_type: self.parse_type()?,
            });
        }
        // A word followed by another is a field name, unless the two belong to one type name
        // (`double precision`, `timestamp with time zone`, `interval day to second`). Deciding
        // here, without trying both, keeps nested rows linear to parse.
        if let (Some(Token::Word(name)), Some(Token::Word(next))) = (
            self.tokens.get(self.pos).cloned(),
            self.tokens.get(self.pos + 1),
        ) && !continues_type_name(&name, next)
        {
            self.pos += 1;
            return Ok(RowField {
                name: Some(name),
                field_type: self.parse_type()?,
            });
        }
        Ok(RowField {
            name: None,
            field_type: self.parse_type()?,
        })
    }
}

/// Whether `next` continues the type name that `word` starts.
fn continues_type_name(word: &str, next: &str) -> bool {
    matches!(
        (word, next),
        ("double", "precision")
            | ("time" | "timestamp", "with" | "without")
            | ("interval", "day" | "year")
    )
}

fn check_precision(precision: u32, max: u32, text: &str) -> Result<u32, String> {
    if precision > max {
        Err(format!(
            "Precision must be between 0 and {max} in type: {text}"
        ))
    } else {
        Ok(precision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_a_deep_type_grows_the_stack_instead_of_overflowing() {
        // Far deeper than parsing lets through, on a thread whose stack the unguarded walk
        // would overrun several times over.
        let named = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let mut deep = TrinoType::Bigint;
                for _ in 0..50_000 {
                    deep = TrinoType::Array(Box::new(deep));
                }
                let name = deep.display_name(false);
                let signature = deep.signature(false);
                // Dropping is recursive too and not ours to guard: leak the test values.
                std::mem::forget((deep, signature));
                name
            })
            .expect("spawn")
            .join()
            .expect("no overflow");
        assert_eq!(named.matches("array(").count(), 50_000);
    }

    #[test]
    fn deep_types_are_refused_and_nested_rows_parse_in_linear_time() {
        let deep = "array(".repeat(100_000) + "bigint" + &")".repeat(100_000);
        let error = TrinoType::parse(&deep).expect_err("too deep");
        assert!(error.contains("maximum depth of 100"), "{error}");
        let fits = "array(".repeat(99) + "bigint" + &")".repeat(99);
        assert!(TrinoType::parse(&fits).is_ok());
        // Named rows nested 60 deep with a bad type at the bottom: one reading per level (two
        // readings at every level, as before, would take 2^60 steps).
        let rows = "row(a ".repeat(60) + "nosuchtype" + &")".repeat(60);
        assert!(TrinoType::parse(&rows).is_err());
        assert_eq!(
            TrinoType::parse(
                "row(x double precision, timestamp with time zone, interval day to second)"
            )
            .map(|t| t.to_string()),
            Ok("row(x double, timestamp(3) with time zone, interval day to second)".to_string())
        );
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "boolean",
            "decimal(10, 2)",
            "varchar",
            "varchar(25)",
            "char(3)",
            "time(3)",
            "time(6) with time zone",
            "timestamp(9)",
            "timestamp(3) with time zone",
            "interval day to second",
            "interval year to month",
            "array(integer)",
            "map(varchar, array(bigint))",
            "row(a bigint, b varchar)",
            "row(bigint, double)",
            "row(\"Odd Name\" bigint)",
            "json",
            "uuid",
        ] {
            let parsed = TrinoType::parse(name).unwrap();
            assert_eq!(parsed.to_string(), name);
        }
        assert_eq!(TrinoType::parse("INT").unwrap(), TrinoType::Integer);
        assert_eq!(
            TrinoType::parse("double precision").unwrap(),
            TrinoType::Double
        );
        assert_eq!(
            TrinoType::parse("decimal(10,2)").unwrap().to_string(),
            "decimal(10, 2)"
        );
        assert!(TrinoType::parse("varchar(").is_err());
        assert!(TrinoType::parse("bogus").is_err());
        assert!(TrinoType::parse("decimal(50, 2)").is_err());
    }

    #[test]
    fn signatures_match_trino_json() {
        let sig = TrinoType::parse("array(row(x bigint, y varchar))")
            .unwrap()
            .signature(false);
        let json = serde_json::to_value(&sig).unwrap();
        let expected = serde_json::json!({"rawType":"array","arguments":[{"kind":"TYPE","value":
          {"rawType":"row","arguments":[
            {"kind":"NAMED_TYPE","value":{"fieldName":{"name":"x"},"typeSignature":{"rawType":"bigint","arguments":[]}}},
            {"kind":"NAMED_TYPE","value":{"fieldName":{"name":"y"},"typeSignature":{"rawType":"varchar","arguments":[{"kind":"LONG","value":2147483647}]}}}]}}]});
        assert_eq!(json, expected);
    }

    #[test]
    fn legacy_datetime_drops_precision() {
        let t = TrinoType::parse("timestamp(6) with time zone").unwrap();
        assert_eq!(t.display_name(true), "timestamp with time zone");
        assert!(t.signature(true).arguments.is_empty());
    }
}
