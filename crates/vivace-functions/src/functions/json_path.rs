//! The two JSON path languages of Trino's JSON functions.
//!
//! - [`LegacyPath`], read by `json_extract`, `json_extract_scalar` and `json_size`:
//!   `$.store.book[0]["first name"]`. Each step names an object member or, when it is a
//!   non-negative integer, an array element. As in Trino, there are no wildcards and no
//!   whitespace.
//! - [`SqlJsonPath`], read by `json_value`, `json_query` and `json_exists`: the SQL/JSON path
//!   language with its `lax`/`strict` modes. The accessors are supported (`.key`, `."key"`,
//!   `.*`, `[n]`, `[n to m]`, `[last]`, `[last - n]`, `[*]`); filters, methods and arithmetic
//!   are refused with an error naming them.

use serde_json::Value;

/// A path of `json_extract` and its relatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyPath {
    steps: Vec<String>,
}

impl LegacyPath {
    /// Parses a path, or explains why it is not one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = |why: &str| format!("Invalid JSON path: '{text}' ({why})");
        let mut chars = text.chars().peekable();
        if chars.next() != Some('$') {
            return Err(invalid("a path starts with '$'"));
        }
        let mut steps = Vec::new();
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    let mut key = String::new();
                    while let Some(&c) = chars.peek() {
                        if c == '.' || c == '[' {
                            break;
                        }
                        if !(is_unquoted_key_char(c) || c == ':') {
                            return Err(invalid(&format!("unexpected '{c}' in a member name")));
                        }
                        key.push(c);
                        chars.next();
                    }
                    if key.is_empty() {
                        return Err(invalid("a member name is missing after '.'"));
                    }
                    steps.push(key);
                }
                '[' => {
                    let key = if chars.peek() == Some(&'"') {
                        chars.next();
                        quoted_key(&mut chars)
                            .ok_or_else(|| invalid("a bad escape or no closing quote in a key"))?
                    } else {
                        let mut index = String::new();
                        while let Some(&c) = chars.peek() {
                            if c == ']' {
                                break;
                            }
                            if !is_unquoted_key_char(c) {
                                return Err(invalid(&format!("unexpected '{c}' in a subscript")));
                            }
                            index.push(c);
                            chars.next();
                        }
                        if index.is_empty() {
                            return Err(invalid("an empty subscript"));
                        }
                        index
                    };
                    if chars.next() != Some(']') {
                        return Err(invalid("a subscript is not closed by ']'"));
                    }
                    steps.push(key);
                }
                other => return Err(invalid(&format!("unexpected '{other}'"))),
            }
        }
        Ok(Self { steps })
    }

    /// The value the path leads to in `root`, if any.
    pub fn select<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        self.steps.iter().try_fold(root, |value, step| match value {
            Value::Object(members) => members.get(step),
            Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }
}

/// Characters of an unquoted key in `[key]`: letters, digits and `_`. After `.`, `:` is
/// allowed too.
fn is_unquoted_key_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The rest of a double-quoted key of a legacy path, after its opening quote; `\"` and `\\`
/// are the only escapes.
fn quoted_key(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
    let mut key = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(key),
            '\\' => match chars.next()? {
                escaped @ ('"' | '\\') => key.push(escaped),
                _ => return None,
            },
            c => key.push(c),
        }
    }
}

/// How a SQL/JSON path treats structural mismatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMode {
    /// Missing members and indexes give nothing; arrays and non-arrays adapt to accessors.
    Lax,
    /// Missing members, out-of-range indexes and type mismatches are errors.
    Strict,
}

/// One accessor of a SQL/JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Accessor {
    Member(String),
    AnyMember,
    Elements(Vec<Subscript>),
    AnyElement,
}

/// One subscript in `[...]`: an index or an inclusive range.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Subscript {
    At(Index),
    Range(Index, Index),
}

/// An array position: a number, or counted back from `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Index {
    Number(i64),
    FromLast(i64),
}

impl Index {
    fn resolve(self, len: usize) -> i64 {
        match self {
            Index::Number(n) => n,
            Index::FromLast(back) => (len as i64).saturating_sub(1).saturating_sub(back),
        }
    }
}

/// A path of `json_value`, `json_query` and `json_exists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlJsonPath {
    mode: PathMode,
    accessors: Vec<Accessor>,
}

/// Why a path found no answer in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// A structural error of strict mode: a missing member, an index out of bounds, an
    /// accessor applied to the wrong kind of value.
    Structural(String),
    /// The path selected more items than [`MAX_ITEMS`] (repeated subscripts multiply them).
    TooManyItems(usize),
}

/// The most items a path may select, at any step.
pub const MAX_ITEMS: usize = 1_000_000;

impl SqlJsonPath {
    /// Parses a path, or explains why it is not one (or not one Vivace supports).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parser = PathParser {
            text,
            rest: text.trim_start(),
        };
        let mode = if parser.keyword("strict") {
            PathMode::Strict
        } else if parser.keyword("lax") {
            PathMode::Lax
        } else {
            return Err(parser.error("a path starts with its mode, 'lax' or 'strict'"));
        };
        if !parser.eat('$') {
            return Err(parser.error("'$' must follow the mode"));
        }
        let mut accessors = Vec::new();
        loop {
            if parser.eat('.') {
                accessors.push(parser.member()?);
            } else if parser.eat('[') {
                accessors.push(parser.subscripts()?);
            } else if parser.rest.is_empty() {
                break;
            } else {
                return Err(parser.unsupported());
            }
        }
        Ok(Self { mode, accessors })
    }

    /// The items the path selects in `root`, in order. Strict mode reports structural errors;
    /// lax mode skips them.
    pub fn evaluate<'v>(&self, root: &'v Value) -> Result<Vec<&'v Value>, PathError> {
        let mut items = vec![root];
        for accessor in &self.accessors {
            let mut next = Vec::new();
            for item in items {
                self.apply(accessor, item, &mut next)?;
                if next.len() > MAX_ITEMS {
                    return Err(PathError::TooManyItems(MAX_ITEMS));
                }
            }
            items = next;
        }
        Ok(items)
    }

    #[recursive::recursive]
    fn apply<'v>(
        &self,
        accessor: &Accessor,
        item: &'v Value,
        out: &mut Vec<&'v Value>,
    ) -> Result<(), PathError> {
        let lax = self.mode == PathMode::Lax;
        match (accessor, item) {
            (Accessor::Member(_) | Accessor::AnyMember, Value::Array(elements)) if lax => {
                // Lax mode looks into the elements of an array, one level deep.
                for element in elements {
                    if let Value::Object(_) = element {
                        self.apply(accessor, element, out)?;
                    }
                }
            }
            (Accessor::Member(name), Value::Object(members)) => match members.get(name) {
                Some(value) => out.push(value),
                None if lax => {}
                None => {
                    return Err(PathError::Structural(format!(
                        "JSON object has no member '{name}'"
                    )));
                }
            },
            (Accessor::AnyMember, Value::Object(members)) => out.extend(members.values()),
            (Accessor::Member(_) | Accessor::AnyMember, _) if lax => {}
            (Accessor::Member(_) | Accessor::AnyMember, other) => {
                return Err(PathError::Structural(format!(
                    "a member accessor was applied to {}",
                    kind_of(other)
                )));
            }
            (Accessor::AnyElement, Value::Array(elements)) => out.extend(elements),
            (Accessor::AnyElement, other) if lax => out.push(other),
            (Accessor::Elements(subscripts), Value::Array(elements)) => {
                select_elements(subscripts, elements, lax, out)?;
            }
            (Accessor::Elements(subscripts), other) if lax => {
                // Lax mode treats a non-array as an array of one element.
                select_elements(subscripts, std::slice::from_ref(other), lax, out)?;
            }
            (Accessor::AnyElement | Accessor::Elements(_), other) => {
                return Err(PathError::Structural(format!(
                    "an array accessor was applied to {}",
                    kind_of(other)
                )));
            }
        }
        Ok(())
    }
}

fn select_elements<'v>(
    subscripts: &[Subscript],
    elements: &'v [Value],
    lax: bool,
    out: &mut Vec<&'v Value>,
) -> Result<(), PathError> {
    let len = elements.len();
    let mut take = |position: i64| -> Result<(), PathError> {
        match usize::try_from(position).ok().and_then(|i| elements.get(i)) {
            Some(value) => out.push(value),
            None if lax => {}
            None => {
                return Err(PathError::Structural(format!(
                    "array index {position} is out of bounds (array size {len})"
                )));
            }
        }
        Ok(())
    };
    for subscript in subscripts {
        match *subscript {
            Subscript::At(index) => take(index.resolve(len))?,
            Subscript::Range(from, to) => {
                let (from, to) = (from.resolve(len), to.resolve(len));
                if from > to && !lax {
                    return Err(PathError::Structural(format!(
                        "invalid array range [{from} to {to}]"
                    )));
                }
                // Lax mode skips positions out of bounds, so only those in bounds are visited
                // (a range may be as large as `[0 to 9223372036854775807]`). Strict mode stops
                // at the first one out of bounds.
                let (from, to) = if lax {
                    (from.max(0), to.min(len as i64 - 1))
                } else {
                    (from, to)
                };
                for position in from..=to {
                    take(position)?;
                }
            }
        }
    }
    Ok(())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A cursor over SQL/JSON path text.
struct PathParser<'t> {
    text: &'t str,
    rest: &'t str,
}

impl PathParser<'_> {
    fn error(&self, why: &str) -> String {
        format!("Invalid JSON path: '{}' ({why})", self.text)
    }

    /// Names what is left, for a path using constructs Vivace does not evaluate.
    fn unsupported(&self) -> String {
        let rest = self.rest.trim_start();
        let construct = if rest.starts_with('?') {
            "filter expressions are not supported"
        } else if rest.starts_with('+') || rest.starts_with('-') || rest.starts_with('*') {
            "arithmetic is not supported"
        } else if rest.starts_with("like_regex") || rest.starts_with("starts with") {
            "predicates are not supported"
        } else {
            "unexpected text"
        };
        format!(
            "Invalid JSON path: '{}' ({construct} at '{rest}')",
            self.text
        )
    }

    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// Consumes `word` when it stands alone (followed by a non-identifier character).
    fn keyword(&mut self, word: &str) -> bool {
        self.skip_space();
        let Some(rest) = self.rest.strip_prefix(word) else {
            return false;
        };
        if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            return false;
        }
        self.rest = rest;
        true
    }

    /// After `.`: `*`, a name, or a double-quoted name. A name followed by `(` is an item
    /// method, which is not supported.
    fn member(&mut self) -> Result<Accessor, String> {
        if self.rest.starts_with('.') {
            return Err(self.error("the descendant accessor '..' is not supported"));
        }
        if self.eat('*') {
            return Ok(Accessor::AnyMember);
        }
        self.skip_space();
        if self.rest.starts_with('"') {
            return self.quoted_member();
        }
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return Err(self.error("a member name is missing after '.'"));
        }
        let (name, rest) = self.rest.split_at(end);
        if rest.trim_start().starts_with('(') {
            return Err(self.error(&format!("item method {name}() is not supported")));
        }
        self.rest = rest;
        Ok(Accessor::Member(name.to_string()))
    }

    /// A double-quoted member name, a JSON string with JSON's escapes.
    fn quoted_member(&mut self) -> Result<Accessor, String> {
        let mut escaped = false;
        let mut end = None;
        for (i, c) in self.rest.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| self.error("a quoted member name has no closing quote"))?;
        let literal = &self.rest[..=end];
        let name = serde_json::from_str::<String>(literal)
            .map_err(|_| self.error(&format!("bad escape in the member name {literal}")))?;
        self.rest = &self.rest[end + 1..];
        Ok(Accessor::Member(name))
    }

    /// After `[`: `*]`, or a comma-separated list of indexes and `a to b` ranges, then `]`.
    fn subscripts(&mut self) -> Result<Accessor, String> {
        if self.eat('*') {
            return if self.eat(']') {
                Ok(Accessor::AnyElement)
            } else {
                Err(self.error("'[*' is not closed by ']'"))
            };
        }
        let mut subscripts = Vec::new();
        loop {
            let from = self.index()?;
            if self.keyword("to") {
                subscripts.push(Subscript::Range(from, self.index()?));
            } else {
                subscripts.push(Subscript::At(from));
            }
            if self.eat(']') {
                return Ok(Accessor::Elements(subscripts));
            }
            if !self.eat(',') {
                return Err(self.unsupported());
            }
        }
    }

    /// A number, `last`, or `last - number`.
    fn index(&mut self) -> Result<Index, String> {
        if self.keyword("last") {
            if self.eat('-') {
                return Ok(Index::FromLast(self.number()?));
            }
            return Ok(Index::FromLast(0));
        }
        Ok(Index::Number(self.number()?))
    }

    fn number(&mut self) -> Result<i64, String> {
        self.skip_space();
        let end = self
            .rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest.len());
        if end == 0 {
            return Err(self.unsupported());
        }
        let (digits, rest) = self.rest.split_at(end);
        let number = digits
            .parse()
            .map_err(|_| self.error(&format!("array index {digits} is too large")))?;
        self.rest = rest;
        Ok(number)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn legacy_paths_follow_members_and_indexes() {
        let doc = json!({"store": {"book": [{"title": "A"}, {"title": "B"}]}, "a b": 1});
        let select = |path: &str| LegacyPath::parse(path).unwrap().select(&doc).cloned();
        assert_eq!(select("$.store.book[1].title"), Some(json!("B")));
        assert_eq!(
            select("$[\"store\"][\"book\"][0]"),
            Some(json!({"title": "A"}))
        );
        assert_eq!(select("$[\"a b\"]"), Some(json!(1)));
        assert_eq!(select("$.store.book.1.title"), Some(json!("B")));
        assert_eq!(select("$[store][book][0]"), Some(json!({"title": "A"})));
        assert_eq!(select("$"), Some(doc.clone()));
        assert_eq!(select("$.missing"), None);
        assert_eq!(select("$.store.book[5]"), None);
    }

    #[test]
    fn legacy_paths_reject_bad_syntax() {
        let bad_paths = [
            "",
            "a.b",
            " $.a",
            "$.",
            "$. a",
            "$[",
            "$[1",
            "$[ 1]",
            "$[-1]",
            "$.a b",
            "$[\"x]",
            "$.*",
            "$[*]",
            "$..a",
            "$[a:b]",
            "$[\"a\\nb\"]",
        ];
        for bad in bad_paths {
            let error = LegacyPath::parse(bad).unwrap_err();
            assert!(error.starts_with("Invalid JSON path"), "{bad}: {error}");
        }
    }

    #[test]
    fn lax_paths_adapt_to_arrays_and_skip_missing_members() {
        let doc = json!({"a": [{"b": 1}, {"b": 2}, {"c": 3}], "s": 7});
        let eval = |path: &str| -> Vec<Value> {
            let path = SqlJsonPath::parse(path).unwrap();
            path.evaluate(&doc).unwrap().into_iter().cloned().collect()
        };
        assert_eq!(eval("lax $.a.b"), vec![json!(1), json!(2)]);
        assert_eq!(eval("lax $.a[*].b"), vec![json!(1), json!(2)]);
        assert_eq!(eval("lax $.a[last].c"), vec![json!(3)]);
        assert_eq!(eval("lax $.a[0 to 1].b"), vec![json!(1), json!(2)]);
        assert_eq!(eval("lax $.a[last - 2, 1].b"), vec![json!(1), json!(2)]);
        assert_eq!(eval("lax $.s[0]"), vec![json!(7)]);
        assert_eq!(eval("lax $.missing"), Vec::<Value>::new());
        assert_eq!(eval("lax $.\"s\""), vec![json!(7)]);
        assert_eq!(eval("lax $.\"\\u0073\""), vec![json!(7)]);
        assert_eq!(eval("lax $.a[9]"), Vec::<Value>::new());
        assert_eq!(eval("lax $.a[1 to 9223372036854775807].b"), vec![json!(2)]);
        assert_eq!(
            eval("lax $.a[last - 9223372036854775807]"),
            Vec::<Value>::new()
        );
    }

    #[test]
    fn strict_paths_report_structural_errors() {
        let doc = json!({"a": [1, 2], "s": 7});
        let eval = |path: &str| SqlJsonPath::parse(path).unwrap().evaluate(&doc);
        assert!(eval("strict $.missing").is_err());
        assert!(eval("strict $.a.b").is_err());
        assert!(eval("strict $.a[5]").is_err());
        assert!(eval("strict $.s[0]").is_err());
        assert_eq!(eval("strict $.a[1]").unwrap(), vec![&json!(2)]);
    }

    #[test]
    fn paths_cannot_select_without_bound() {
        let doc = json!(1);
        let path = format!("lax ${}", "[0,0,0,0,0,0,0,0,0,0]".repeat(7));
        let result = SqlJsonPath::parse(&path).unwrap().evaluate(&doc);
        assert_eq!(result, Err(PathError::TooManyItems(MAX_ITEMS)));
    }

    #[test]
    fn unsupported_path_constructs_are_named() {
        let error = SqlJsonPath::parse("lax $.a ? (@ > 1)").unwrap_err();
        assert!(
            error.contains("filter expressions are not supported"),
            "{error}"
        );
        let error = SqlJsonPath::parse("lax $.a.size()").unwrap_err();
        assert!(
            error.contains("item method size() is not supported"),
            "{error}"
        );
        let error = SqlJsonPath::parse("lax $.a + 1").unwrap_err();
        assert!(error.contains("arithmetic is not supported"), "{error}");
        assert!(SqlJsonPath::parse("a").is_err());
        let error = SqlJsonPath::parse("$.a").unwrap_err();
        assert!(error.contains("'lax' or 'strict'"), "{error}");
        let error = SqlJsonPath::parse("lax $..a").unwrap_err();
        assert!(error.contains("descendant"), "{error}");
    }
}
