//! Trino's JSON functions. Their JSON arguments are `json` or `varchar` values (both are text in
//! Arrow); paths are read by [`super::json_path`].
//!
//! Like Trino, the legacy functions (`json_extract`, `json_array_length`, ...) answer NULL for
//! text that is not JSON, and the SQL/JSON ones (`json_value`, `json_query`, `json_exists`)
//! answer with their default `ON ERROR` behaviour (NULL, or false for `json_exists`). An
//! invalid path is an `INVALID_FUNCTION_ARGUMENT` error.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int64Array, Int64Builder, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, FieldRef, Float64Type, Int64Type};
use datafusion::common::{Result as DfResult, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};
use serde_json::Value;
use vivace_protocol::TrinoType;

use super::json_path::{LegacyPath, PathError, SqlJsonPath};
use super::{invalid_argument, text_array};

/// Which JSON function a [`JsonFunction`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum JsonFn {
    Extract,
    ExtractScalar,
    Size,
    ArrayLength,
    ArrayGet,
    ArrayContains,
    IsScalar,
    Value,
    Query,
    Exists,
}

impl JsonFn {
    const ALL: [JsonFn; 10] = [
        JsonFn::Extract,
        JsonFn::ExtractScalar,
        JsonFn::Size,
        JsonFn::ArrayLength,
        JsonFn::ArrayGet,
        JsonFn::ArrayContains,
        JsonFn::IsScalar,
        JsonFn::Value,
        JsonFn::Query,
        JsonFn::Exists,
    ];

    fn name(self) -> &'static str {
        match self {
            JsonFn::Extract => "json_extract",
            JsonFn::ExtractScalar => "json_extract_scalar",
            JsonFn::Size => "json_size",
            JsonFn::ArrayLength => "json_array_length",
            JsonFn::ArrayGet => "json_array_get",
            JsonFn::ArrayContains => "json_array_contains",
            JsonFn::IsScalar => "is_json_scalar",
            JsonFn::Value => "json_value",
            JsonFn::Query => "json_query",
            JsonFn::Exists => "json_exists",
        }
    }

    fn result(self) -> TrinoType {
        match self {
            JsonFn::Extract | JsonFn::ArrayGet => TrinoType::Json,
            JsonFn::ExtractScalar | JsonFn::Value | JsonFn::Query => TrinoType::VARCHAR,
            JsonFn::Size | JsonFn::ArrayLength => TrinoType::Bigint,
            JsonFn::ArrayContains | JsonFn::IsScalar | JsonFn::Exists => TrinoType::Boolean,
        }
    }

    fn signature(self) -> Signature {
        use DataType::{Boolean, Float64, Int64, Utf8};
        let exact = |types: Vec<DataType>| TypeSignature::Exact(types);
        let signatures = match self {
            JsonFn::ArrayLength | JsonFn::IsScalar => vec![exact(vec![Utf8])],
            JsonFn::ArrayGet => vec![exact(vec![Utf8, Int64])],
            JsonFn::ArrayContains => vec![
                exact(vec![Utf8, Boolean]),
                exact(vec![Utf8, Int64]),
                exact(vec![Utf8, Float64]),
                exact(vec![Utf8, Utf8]),
            ],
            _ => vec![exact(vec![Utf8, Utf8])],
        };
        Signature::one_of(signatures, Volatility::Immutable)
    }
}

/// One answer of a JSON function for one row.
enum Answer {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
}

/// A Trino JSON function as a DataFusion UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonFunction {
    kind: JsonFn,
    signature: Signature,
}

impl ScalarUDFImpl for JsonFunction {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(crate::types::arrow_type_of(&self.kind.result(), "UTC"))
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        Ok(Arc::new(crate::types::tagged_field(
            self.name(),
            &self.kind.result(),
            "UTC",
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let (arrays, rows, all_scalar) = super::argument_arrays(&args)?;
        let [document, rest @ ..] = arrays.as_slice() else {
            return exec_err!("{} needs a JSON argument", self.name());
        };
        let documents = text_array(document)?;
        let second = self.second_argument(rest.first())?;
        let mut answers = Vec::with_capacity(rows);
        let mut paths = PathCache::default();
        for row in 0..rows {
            let text = (!documents.is_null(row)).then(|| documents.value(row));
            answers.push(self.answer(text, second.as_ref(), row, &mut paths)?);
        }
        super::columnar(build(self.kind.result(), answers), all_scalar)
    }
}

/// The second argument of a JSON function, converted once per batch.
enum Second {
    /// A path, for the functions that take one.
    Path(StringArray),
    /// The index of `json_array_get`.
    Index(Int64Array),
    /// The value `json_array_contains` looks for: boolean, bigint, double or varchar.
    Needle(ArrayRef),
}

impl Second {
    fn path(&self, row: usize) -> Option<&str> {
        match self {
            Second::Path(paths) if !paths.is_null(row) => Some(paths.value(row)),
            _ => None,
        }
    }
}

impl JsonFunction {
    fn second_argument(&self, array: Option<&ArrayRef>) -> DfResult<Option<Second>> {
        let kind = self.kind;
        let second = match (kind, array) {
            (JsonFn::ArrayLength | JsonFn::IsScalar, _) => return Ok(None),
            (_, None) => return exec_err!("{} takes two arguments", self.name()),
            (JsonFn::ArrayGet, Some(array)) => {
                let integers = arrow::compute::cast(array, &DataType::Int64)?;
                Second::Index(integers.as_primitive::<Int64Type>().clone())
            }
            (JsonFn::ArrayContains, Some(array)) => match array.data_type() {
                DataType::Boolean | DataType::Int64 | DataType::Float64 => {
                    Second::Needle(array.clone())
                }
                _ => Second::Needle(Arc::new(text_array(array)?)),
            },
            (_, Some(array)) => Second::Path(text_array(array)?),
        };
        Ok(Some(second))
    }

    /// The answer for one row: `text` is its JSON text (`None` for NULL) and `second` the
    /// second argument. Paths are checked even when the JSON is NULL.
    fn answer(
        &self,
        text: Option<&str>,
        second: Option<&Second>,
        row: usize,
        paths: &mut PathCache,
    ) -> DfResult<Answer> {
        let path = second.and_then(|second| second.path(row));
        match self.kind {
            JsonFn::Extract | JsonFn::ExtractScalar | JsonFn::Size => {
                let Some(path) = path else {
                    return Ok(Answer::Null);
                };
                let path = paths.legacy(path)?;
                let Some(Ok(document)) = text.map(serde_json::from_str::<Value>) else {
                    return Ok(Answer::Null);
                };
                Ok(match (self.kind, path.select(&document)) {
                    (_, None) => Answer::Null,
                    (JsonFn::Extract, Some(value)) => Answer::Text(value.to_string()),
                    (JsonFn::ExtractScalar, Some(value)) => match scalar_text(value) {
                        Some(text) => Answer::Text(text),
                        None => Answer::Null,
                    },
                    (_, Some(value)) => Answer::Int(size_of(value)),
                })
            }
            JsonFn::Value | JsonFn::Query | JsonFn::Exists => {
                let Some(path_text) = path else {
                    return Ok(Answer::Null);
                };
                let path = paths.sql_json(path_text)?;
                let Some(text) = text else {
                    return Ok(Answer::Null);
                };
                let Ok(document) = serde_json::from_str::<Value>(text) else {
                    return Ok(sql_json_answer(self.kind, None));
                };
                match path.evaluate(&document) {
                    Ok(items) => Ok(sql_json_answer(self.kind, Some(items))),
                    Err(PathError::Structural(_)) => Ok(sql_json_answer(self.kind, None)),
                    Err(PathError::TooManyItems(limit)) => Err(invalid_argument(format!(
                        "JSON path '{path_text}' selects more than {limit} items"
                    ))),
                }
            }
            JsonFn::ArrayLength | JsonFn::ArrayGet | JsonFn::ArrayContains | JsonFn::IsScalar => {
                let Some(text) = text else {
                    return Ok(Answer::Null);
                };
                self.array_answer(text, second, row)
            }
        }
    }

    /// The answers of the functions without a path, for non-NULL JSON `text`.
    fn array_answer(&self, text: &str, second: Option<&Second>, row: usize) -> DfResult<Answer> {
        let parsed = serde_json::from_str::<Value>(text);
        Ok(match (self.kind, second) {
            (JsonFn::IsScalar, _) => match parsed {
                Ok(value) => Answer::Bool(!matches!(value, Value::Array(_) | Value::Object(_))),
                Err(_) => return Err(invalid_argument(format!("Invalid JSON value: {text}"))),
            },
            (JsonFn::ArrayLength, _) => match parsed {
                Ok(Value::Array(items)) => Answer::Int(items.len() as i64),
                _ => Answer::Null,
            },
            (JsonFn::ArrayGet, Some(Second::Index(indexes))) => {
                let (Ok(Value::Array(items)), false) = (parsed, indexes.is_null(row)) else {
                    return Ok(Answer::Null);
                };
                let index = indexes.value(row);
                let position = if index < 0 {
                    (items.len() as i64).saturating_add(index)
                } else {
                    index
                };
                // As in Trino, a string element comes back as its bare text (not valid JSON:
                // Trino documents this), and a JSON null element as NULL.
                match usize::try_from(position).ok().and_then(|i| items.get(i)) {
                    Some(Value::String(text)) => Answer::Text(text.clone()),
                    Some(Value::Null) | None => Answer::Null,
                    Some(item) => Answer::Text(item.to_string()),
                }
            }
            (JsonFn::ArrayContains, Some(Second::Needle(needles))) => {
                let (Ok(Value::Array(items)), Some(needle)) = (parsed, Needle::at(needles, row))
                else {
                    return Ok(Answer::Null);
                };
                Answer::Bool(items.iter().any(|item| needle.matches(item)))
            }
            _ => return exec_err!("{} got unexpected arguments", self.name()),
        })
    }
}

/// The default-clause answers of `json_value` (NULL ON EMPTY, NULL ON ERROR), `json_query`
/// (WITHOUT ARRAY WRAPPER, NULL ON EMPTY, NULL ON ERROR) and `json_exists` (FALSE ON ERROR),
/// given the path's items, or `None` when the input or the path failed.
fn sql_json_answer(kind: JsonFn, items: Option<Vec<&Value>>) -> Answer {
    let Some(items) = items else {
        return match kind {
            JsonFn::Exists => Answer::Bool(false),
            _ => Answer::Null,
        };
    };
    match (kind, items.as_slice()) {
        (JsonFn::Exists, items) => Answer::Bool(!items.is_empty()),
        (JsonFn::Value, [item]) => match scalar_text(item) {
            Some(text) => Answer::Text(text),
            None => Answer::Null,
        },
        (JsonFn::Query, [item]) => Answer::Text(item.to_string()),
        _ => Answer::Null,
    }
}

/// The text of a JSON scalar as `json_extract_scalar` and `json_value` give it; `None` for
/// null, arrays and objects.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// `json_size`: members of an object, elements of an array, 0 for a scalar.
fn size_of(value: &Value) -> i64 {
    match value {
        Value::Object(members) => members.len() as i64,
        Value::Array(items) => items.len() as i64,
        _ => 0,
    }
}

/// What `json_array_contains` looks for.
enum Needle {
    Bool(bool),
    Int(i64),
    Double(f64),
    Text(String),
}

impl Needle {
    fn matches(&self, item: &Value) -> bool {
        match (self, item) {
            (Needle::Bool(b), Value::Bool(v)) => b == v,
            (Needle::Int(i), Value::Number(n)) => n.as_i64() == Some(*i),
            // Trino compares a bigint only with integer numbers and a double only with the
            // others.
            (Needle::Double(d), Value::Number(n)) => {
                !n.is_i64() && !n.is_u64() && n.as_f64() == Some(*d)
            }
            (Needle::Text(s), Value::String(v)) => s == v,
            _ => false,
        }
    }
}

impl Needle {
    /// The value in `row` of the (boolean, bigint, double or `Utf8`) array, unless NULL.
    fn at(array: &ArrayRef, row: usize) -> Option<Needle> {
        if array.is_null(row) {
            return None;
        }
        Some(match array.data_type() {
            DataType::Boolean => Needle::Bool(array.as_boolean().value(row)),
            DataType::Int64 => Needle::Int(array.as_primitive::<Int64Type>().value(row)),
            DataType::Float64 => Needle::Double(array.as_primitive::<Float64Type>().value(row)),
            _ => Needle::Text(array.as_string::<i32>().value(row).to_string()),
        })
    }
}

/// Paths parsed once per batch while the text stays the same (it is usually a constant).
#[derive(Default)]
struct PathCache {
    legacy: Option<(String, LegacyPath)>,
    sql_json: Option<(String, SqlJsonPath)>,
}

impl PathCache {
    fn legacy(&mut self, text: &str) -> DfResult<&LegacyPath> {
        cached(&mut self.legacy, text, LegacyPath::parse)
    }

    fn sql_json(&mut self, text: &str) -> DfResult<&SqlJsonPath> {
        cached(&mut self.sql_json, text, SqlJsonPath::parse)
    }
}

/// The path in `slot` when it was parsed from `text`; otherwise `text` parsed into `slot`.
fn cached<'c, P>(
    slot: &'c mut Option<(String, P)>,
    text: &str,
    parse: impl FnOnce(&str) -> Result<P, String>,
) -> DfResult<&'c P> {
    if slot.as_ref().is_some_and(|(cached, _)| cached != text) {
        *slot = None;
    }
    match slot {
        Some((_, path)) => Ok(path),
        None => {
            let path = parse(text).map_err(invalid_argument)?;
            Ok(&slot.insert((text.to_string(), path)).1)
        }
    }
}

fn build(result: TrinoType, answers: Vec<Answer>) -> ArrayRef {
    match result {
        TrinoType::Bigint => {
            let mut out = Int64Builder::with_capacity(answers.len());
            for answer in answers {
                out.append_option(match answer {
                    Answer::Int(i) => Some(i),
                    _ => None,
                });
            }
            Arc::new(out.finish())
        }
        TrinoType::Boolean => {
            let mut out = BooleanBuilder::with_capacity(answers.len());
            for answer in answers {
                out.append_option(match answer {
                    Answer::Bool(b) => Some(b),
                    _ => None,
                });
            }
            Arc::new(out.finish())
        }
        _ => {
            let mut out = StringBuilder::new();
            for answer in answers {
                match answer {
                    Answer::Text(text) => out.append_value(text),
                    _ => out.append_null(),
                }
            }
            Arc::new(out.finish())
        }
    }
}

/// The JSON functions, for registration.
pub fn json_functions() -> Vec<Arc<ScalarUDF>> {
    JsonFn::ALL
        .iter()
        .map(|&kind| {
            Arc::new(ScalarUDF::from(JsonFunction {
                kind,
                signature: kind.signature(),
            }))
        })
        .collect()
}
