//! Trino syntax DataFusion's parser does not know, rewritten on the token stream before
//! parsing: `CAST`/`TRY_CAST` to Trino types (`varchar(5)`, `time(6)`, `row(a bigint)`,
//! `array(...)`, `json`, `uuid`, ...), typed literals (`TIMESTAMP '... America/New_York'`,
//! `DECIMAL '1.2'`, `UUID '...'`), Trino interval literals, and `ROW(...)` constructors.

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use vivace_protocol::TrinoType;

use crate::SqlLocation;
use crate::internal_functions::TRINO_CAST;
use crate::statement::LineOffsets;

/// A token and its byte range in the text.
struct Spanned {
    token: Token,
    start: usize,
    end: usize,
}

fn tokenize(sql: &str) -> Option<Vec<Spanned>> {
    let dialect = GenericDialect {};
    let raw = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    let offsets = LineOffsets::new(sql);
    let starts: Vec<usize> = raw
        .iter()
        .map(|t| {
            offsets.offset(SqlLocation {
                line: t.span.start.line as u32,
                column: t.span.start.column as u32,
            })
        })
        .collect();
    Some(
        raw.into_iter()
            .enumerate()
            .filter(|(_, t)| t.token != Token::EOF)
            .map(|(i, t)| Spanned {
                token: t.token,
                start: starts[i],
                end: starts.get(i + 1).copied().unwrap_or(sql.len()),
            })
            .collect(),
    )
}

/// Rewrites `sql`; text that does not tokenize is returned unchanged for the parser to report.
pub fn rewrite(sql: &str) -> String {
    match tokenize(sql) {
        Some(tokens) if needs_rewrite(&tokens) => Rewriter {
            sql,
            tokens: &tokens,
        }
        .range(0, tokens.len()),
        _ => sql.to_string(),
    }
}

/// Trino syntax DataFusion's parser cannot read, named for a `NOT_SUPPORTED` error in place of
/// a syntax error: time travel (`FOR VERSION | TIMESTAMP AS OF`), inline functions (`WITH
/// FUNCTION`), the clauses of `json_value`, `json_query` and `json_exists` (`RETURNING`,
/// `PASSING`, `ON EMPTY`, ...) and the `json_object`, `json_array` and `json_table` constructs.
pub fn unsupported_syntax(sql: &str) -> Option<String> {
    let tokens = tokenize(sql)?;
    let reader = Rewriter {
        sql,
        tokens: &tokens,
    };
    for i in 0..tokens.len() {
        let Some(name) = reader.word(i) else {
            continue;
        };
        let following = |n: usize| {
            (0..n).try_fold((i, Vec::new()), |(at, mut words), _| {
                let next = reader.next(at + 1);
                words.push(reader.word(next)?);
                Some((next, words))
            })
        };
        match name.as_str() {
            "FOR" => {
                if let Some((_, words)) = following(3)
                    && matches!(words[0].as_str(), "VERSION" | "TIMESTAMP")
                    && words[1] == "AS"
                    && words[2] == "OF"
                {
                    return Some(
                        "Time travel (FOR VERSION | TIMESTAMP AS OF) is not supported".into(),
                    );
                }
                continue;
            }
            "WITH" if i == reader.next(0) => {
                if let Some((_, words)) = following(1)
                    && words[0] == "FUNCTION"
                {
                    return Some("Inline functions (WITH FUNCTION) are not supported".into());
                }
                continue;
            }
            _ => {}
        }
        let open = reader.next(i + 1);
        if !matches!(tokens.get(open).map(|t| &t.token), Some(Token::LParen)) {
            continue;
        }
        match name.as_str() {
            "JSON_OBJECT" | "JSON_ARRAY" | "JSON_TABLE" => {
                return Some(format!("{name} is not supported"));
            }
            "JSON_VALUE" | "JSON_QUERY" | "JSON_EXISTS" => {}
            _ => continue,
        }
        let close = reader.closing(open).unwrap_or(tokens.len());
        let mut depth = 0;
        for (j, token) in tokens.iter().enumerate().take(close).skip(open) {
            match &token.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ if depth == 1 => {
                    let following = reader.word(reader.next(j + 1));
                    let clause = match (reader.word(j).as_deref(), following.as_deref()) {
                        (Some("RETURNING"), Some(_)) => "a RETURNING clause",
                        (Some("PASSING"), Some(_)) => "a PASSING clause",
                        (Some("ON"), Some("EMPTY")) => "an ON EMPTY clause",
                        (Some("ON"), Some("ERROR")) => "an ON ERROR clause",
                        (Some("ARRAY"), Some("WRAPPER")) => "an ARRAY WRAPPER clause",
                        (Some("KEEP" | "OMIT"), Some("QUOTES")) => "a QUOTES clause",
                        (Some("FORMAT"), Some("JSON")) => "a FORMAT JSON clause",
                        _ => continue,
                    };
                    return Some(format!("{name} with {clause} is not supported"));
                }
                _ => {}
            }
        }
    }
    None
}

fn needs_rewrite(tokens: &[Spanned]) -> bool {
    tokens.iter().any(|t| {
        matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && matches!(
            w.value.to_ascii_uppercase().as_str(),
            "CAST" | "TRY_CAST" | "ROW" | "INTERVAL" | "TIMESTAMP" | "TIME" | "DECIMAL" | "DOUBLE"
                | "REAL" | "BIGINT" | "INTEGER" | "INT" | "SMALLINT" | "TINYINT" | "UUID" | "JSON"
                | "IPADDRESS" | "CHAR" | "VARCHAR" | "BOOLEAN" | "VARBINARY"
        ))
    })
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Types DataFusion casts to with Trino's semantics and names by itself.
fn is_native(t: &TrinoType) -> bool {
    matches!(
        t,
        TrinoType::Boolean
            | TrinoType::Tinyint
            | TrinoType::Smallint
            | TrinoType::Integer
            | TrinoType::Bigint
            | TrinoType::Real
            | TrinoType::Double
            | TrinoType::Decimal { .. }
            | TrinoType::Varchar(None)
            | TrinoType::Date
    )
}

struct Rewriter<'a> {
    sql: &'a str,
    tokens: &'a [Spanned],
}

impl Rewriter<'_> {
    fn word(&self, i: usize) -> Option<String> {
        match &self.tokens.get(i)?.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        }
    }

    /// The next token index at or after `i` that is not whitespace.
    fn next(&self, mut i: usize) -> usize {
        while matches!(
            self.tokens.get(i).map(|t| &t.token),
            Some(Token::Whitespace(_))
        ) {
            i += 1;
        }
        i
    }

    /// The previous non-whitespace token before `i`.
    fn previous(&self, i: usize) -> Option<&Token> {
        self.tokens[..i]
            .iter()
            .rev()
            .map(|t| &t.token)
            .find(|t| !matches!(t, Token::Whitespace(_)))
    }

    fn text(&self, from: usize, to: usize) -> &str {
        if from >= to {
            return "";
        }
        &self.sql[self.tokens[from].start..self.tokens[to - 1].end]
    }

    /// The index of the `)` matching the `(` at `open`.
    fn closing(&self, open: usize) -> Option<usize> {
        let mut depth = 0i32;
        for (i, t) in self.tokens.iter().enumerate().skip(open) {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn string_at(&self, i: usize) -> Option<String> {
        match &self.tokens.get(i)?.token {
            Token::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn range(&self, from: usize, to: usize) -> String {
        let mut out = String::new();
        let mut i = from;
        while i < to {
            if let Some((text, next)) = self.special(i, to) {
                out.push_str(&text);
                i = next;
            } else {
                out.push_str(&self.sql[self.tokens[i].start..self.tokens[i].end]);
                i += 1;
            }
        }
        out
    }

    /// A rewrite starting at token `i`, with the index after it.
    fn special(&self, i: usize, to: usize) -> Option<(String, usize)> {
        let word = self.word(i)?;
        let after = self.next(i + 1);
        if after >= to {
            return None;
        }
        // A word right after `.` is part of a name, never a keyword.
        if self.previous(i) == Some(&Token::Period) {
            return None;
        }
        match word.as_str() {
            "CAST" | "TRY_CAST" if self.tokens[after].token == Token::LParen => {
                self.cast(after, word == "TRY_CAST", to)
            }
            "ROW" if self.tokens[after].token == Token::LParen => {
                Some(("struct".to_string(), i + 1))
            }
            "INTERVAL" => self.interval(after),
            _ => {
                let literal = self.string_at(after)?;
                Some((typed_literal(&word, &literal)?, after + 1))
            }
        }
    }

    fn cast(&self, open: usize, try_cast: bool, to: usize) -> Option<(String, usize)> {
        let close = self.closing(open)?;
        if close >= to {
            return None;
        }
        // The last top-level AS separates the value from the type.
        let mut depth = 0i32;
        let mut as_index = None;
        for i in open + 1..close {
            match self.tokens[i].token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ if depth == 0 && self.word(i).as_deref() == Some("AS") => as_index = Some(i),
                _ => {}
            }
        }
        let as_index = as_index?;
        let type_text = self.text(as_index + 1, close).trim().to_string();
        let target = TrinoType::parse(&type_text).ok()?;
        let value = self.range(open + 1, as_index);
        let text = if is_native(&target) {
            let keyword = if try_cast { "TRY_CAST" } else { "CAST" };
            format!("{keyword}({} AS {type_text})", value.trim())
        } else {
            format!(
                "{TRINO_CAST}({}, {}, {try_cast})",
                value.trim(),
                quote(&target.to_string())
            )
        };
        Some((text, close + 1))
    }

    /// `INTERVAL 'v' UNIT [TO UNIT]`.
    fn interval(&self, literal_at: usize) -> Option<(String, usize)> {
        let literal = self.string_at(literal_at)?;
        let unit_at = self.next(literal_at + 1);
        let unit = self.word(unit_at)?;
        let mut end = unit_at + 1;
        let mut last_unit = unit.clone();
        let to_at = self.next(end);
        if self.word(to_at).as_deref() == Some("TO") {
            let second = self.next(to_at + 1);
            last_unit = self.word(second)?;
            end = second + 1;
        }
        let (value, trino_type) = interval_value(&literal, &unit, &last_unit)?;
        Some((
            format!(
                "{TRINO_CAST}(INTERVAL {}, {})",
                quote(&value),
                quote(trino_type)
            ),
            end,
        ))
    }
}

/// Fraction digits of the seconds in a time text.
fn fraction_digits(time: &str) -> u32 {
    time.split_once('.')
        .map(|(_, f)| f.chars().take_while(char::is_ascii_digit).count() as u32)
        .unwrap_or(0)
}

fn typed_literal(word: &str, literal: &str) -> Option<String> {
    let cast = |t: &str| {
        Some(format!(
            "{TRINO_CAST}({}, {}, false)",
            quote(literal),
            quote(t)
        ))
    };
    match word {
        "TIMESTAMP" => {
            let zoned = crate::literals::has_zone(literal);
            let local = if zoned {
                crate::literals::local_part(literal)
            } else {
                literal.trim()
            };
            let precision = local
                .split_once(' ')
                .map_or(0, |(_, time)| fraction_digits(time));
            let zone = if zoned { " with time zone" } else { "" };
            cast(&format!("timestamp({precision}){zone}"))
        }
        "TIME" => {
            let zoned = crate::literals::has_zone(literal);
            let local = if zoned {
                crate::literals::local_part(literal)
            } else {
                literal.trim()
            };
            let zone = if zoned { " with time zone" } else { "" };
            cast(&format!("time({}){zone}", fraction_digits(local)))
        }
        "DECIMAL" => {
            let text = literal.trim();
            let digits = text.trim_start_matches(['+', '-']);
            let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
            let whole = whole.trim_start_matches('0');
            let precision = (whole.len() + fraction.len()).max(1);
            Some(format!(
                "CAST({} AS DECIMAL({precision}, {}))",
                quote(text),
                fraction.len()
            ))
        }
        "DOUBLE" | "REAL" | "BIGINT" | "INTEGER" | "INT" | "SMALLINT" | "TINYINT" | "BOOLEAN" => {
            Some(format!("CAST({} AS {word})", quote(literal.trim())))
        }
        "VARCHAR" => Some(quote(literal)),
        "CHAR" => cast(&format!("char({})", literal.chars().count())),
        "UUID" => cast("uuid"),
        "IPADDRESS" => cast("ipaddress"),
        "VARBINARY" => cast("varbinary"),
        "JSON" => Some(format!("json_parse({})", quote(literal))),
        _ => None,
    }
}

/// A Trino interval literal as DataFusion interval text, and its Trino type.
fn interval_value(literal: &str, first: &str, last: &str) -> Option<(String, &'static str)> {
    let text = literal.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, text.strip_prefix('+').unwrap_or(text).trim()),
    };
    let sign = if negative { "-" } else { "" };
    let year_month = "interval year to month";
    let day_second = "interval day to second";
    let single = |unit: &str| -> Option<String> {
        body.parse::<f64>().ok()?;
        Some(format!("{sign}{body} {unit}"))
    };
    match (first, last) {
        ("YEAR", "YEAR") => Some((single("years")?, year_month)),
        ("MONTH", "MONTH") => Some((single("months")?, year_month)),
        ("YEAR", "MONTH") => {
            let (years, months) = body.split_once('-')?;
            let total =
                years.trim().parse::<i64>().ok()? * 12 + months.trim().parse::<i64>().ok()?;
            Some((format!("{sign}{total} months"), year_month))
        }
        ("DAY", "DAY") => Some((single("days")?, day_second)),
        ("HOUR", "HOUR") => Some((single("hours")?, day_second)),
        ("MINUTE", "MINUTE") => Some((single("minutes")?, day_second)),
        ("SECOND", "SECOND") => Some((single("seconds")?, day_second)),
        ("DAY", "SECOND")
        | ("DAY", "MINUTE")
        | ("DAY", "HOUR")
        | ("HOUR", "SECOND")
        | ("HOUR", "MINUTE")
        | ("MINUTE", "SECOND") => {
            // `d hh:mm:ss.fff` and its shorter forms.
            let (days, clock) = if first == "DAY" {
                match body.split_once(' ') {
                    Some((d, rest)) => (d.trim().parse::<i64>().ok()?, rest.trim()),
                    None => (body.parse::<i64>().ok()?, ""),
                }
            } else {
                (0, body)
            };
            let mut parts: Vec<&str> = if clock.is_empty() {
                vec![]
            } else {
                clock.split(':').collect()
            };
            let units: &[&str] = match first {
                "DAY" | "HOUR" => &["hours", "minutes", "seconds"],
                _ => &["minutes", "seconds"],
            };
            let mut out = vec![format!("{sign}{days} days")];
            for (value, unit) in parts.drain(..).zip(units.iter()) {
                value.trim().parse::<f64>().ok()?;
                out.push(format!("{sign}{} {unit}", value.trim()));
            }
            Some((out.join(" "), day_second))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_to_trino_types_use_trino_cast() {
        assert_eq!(
            rewrite("SELECT CAST(x AS varchar(5)), CAST(y AS bigint) FROM t"),
            "SELECT __trino_cast(x, 'varchar(5)', false), CAST(y AS bigint) FROM t"
        );
        assert_eq!(
            rewrite("SELECT TRY_CAST(CAST(a AS json) AS row(a bigint, b array(varchar)))"),
            "SELECT __trino_cast(__trino_cast(a, 'json', false), 'row(a bigint, b array(varchar))', true)"
        );
        assert_eq!(rewrite("SELECT ROW(1, 'x')"), "SELECT struct(1, 'x')");
        assert_eq!(rewrite("SELECT t.row FROM t"), "SELECT t.row FROM t");
    }

    #[test]
    fn typed_literals() {
        assert_eq!(
            rewrite("SELECT TIMESTAMP '2024-01-31 12:34:56.789 America/New_York'"),
            "SELECT __trino_cast('2024-01-31 12:34:56.789 America/New_York', 'timestamp(3) with time zone', false)"
        );
        assert_eq!(
            rewrite("SELECT DECIMAL '-12.50', DOUBLE '1.5'"),
            "SELECT CAST('-12.50' AS DECIMAL(4, 2)), CAST('1.5' AS DOUBLE)"
        );
        assert_eq!(
            rewrite("SELECT INTERVAL '1-2' YEAR TO MONTH, INTERVAL '3' DAY"),
            "SELECT __trino_cast(INTERVAL '14 months', 'interval year to month'), __trino_cast(INTERVAL '3 days', 'interval day to second')"
        );
        assert_eq!(
            rewrite("SELECT INTERVAL '-1 02:03:04.567' DAY TO SECOND"),
            "SELECT __trino_cast(INTERVAL '-1 days -02 hours -03 minutes -04.567 seconds', 'interval day to second')"
        );
        assert_eq!(rewrite("SELECT 'it''s'"), "SELECT 'it''s'");
    }
}
