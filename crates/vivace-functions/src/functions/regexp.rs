//! Trino's regular-expression functions DataFusion lacks: `regexp_extract`,
//! `regexp_extract_all` and `regexp_split`. Patterns use the `regex` crate, which reads Java's
//! syntax except lookaround and back-references; those are refused with the crate's message.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Array, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{Result as DfResult, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use regex::Regex;

use super::{invalid_argument, is_text, text_array};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Function {
    Extract,
    ExtractAll,
    Split,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpUdf {
    function: Function,
    signature: Signature,
}

/// The regular-expression functions.
pub(super) fn regexp_functions() -> Vec<Arc<ScalarUDF>> {
    [Function::Extract, Function::ExtractAll, Function::Split]
        .into_iter()
        .map(|function| {
            Arc::new(ScalarUDF::from(RegexpUdf {
                function,
                signature: Signature::user_defined(Volatility::Immutable),
            }))
        })
        .collect()
}

impl ScalarUDFImpl for RegexpUdf {
    fn name(&self) -> &str {
        match self.function {
            Function::Extract => "regexp_extract",
            Function::ExtractAll => "regexp_extract_all",
            Function::Split => "regexp_split",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> DfResult<Vec<DataType>> {
        let text = DataType::Utf8;
        match (self.function, types) {
            (_, [s, p]) if is_text(s) && is_text(p) => Ok(vec![text.clone(), text]),
            (Function::Extract | Function::ExtractAll, [s, p, g])
                if is_text(s) && is_text(p) && (g.is_integer() || g.is_null()) =>
            {
                Ok(vec![text.clone(), text, DataType::Int64])
            }
            _ => {
                let expected = match self.function {
                    Function::Split => "regexp_split(varchar, varchar)",
                    Function::Extract => "regexp_extract(varchar, varchar[, bigint])",
                    Function::ExtractAll => "regexp_extract_all(varchar, varchar[, bigint])",
                };
                super::unexpected_parameters(self.name(), types, expected)
            }
        }
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(match self.function {
            Function::Extract => DataType::Utf8,
            Function::ExtractAll | Function::Split => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
            }
        })
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs<'_>) -> DfResult<FieldRef> {
        Ok(Arc::new(Field::new(
            self.name(),
            self.return_type(&[])?,
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let (arrays, rows, all_scalar) = super::argument_arrays(&args)?;
        let (texts, patterns) = match arrays.as_slice() {
            [t, p, ..] => (text_array(t)?, text_array(p)?),
            _ => return exec_err!("{} takes a string and a pattern", self.name()),
        };
        let groups: Option<Int64Array> = match arrays.get(2) {
            Some(g) => Some(
                arrow::compute::cast(g, &DataType::Int64)?
                    .as_primitive::<Int64Type>()
                    .clone(),
            ),
            None => None,
        };
        let mut cache: Option<(String, Regex)> = None;
        let mut scalar_out = StringBuilder::new();
        let mut list_out = ListBuilder::new(StringBuilder::new());
        for row in 0..rows {
            let group = match &groups {
                Some(g) if g.is_null(row) => None,
                Some(g) => Some(g.value(row)),
                None => Some(0),
            };
            let (Some(text), Some(pattern), Some(group)) =
                (value(&texts, row), value(&patterns, row), group)
            else {
                scalar_out.append_null();
                list_out.append_null();
                continue;
            };
            let regex = compiled(&mut cache, pattern)?;
            let group = checked_group(regex, group)?;
            match self.function {
                Function::Extract => match regex.captures(text).and_then(|c| c.get(group)) {
                    Some(found) => scalar_out.append_value(found.as_str()),
                    None => scalar_out.append_null(),
                },
                Function::ExtractAll => {
                    for captures in regex.captures_iter(text) {
                        match captures.get(group) {
                            Some(found) => list_out.values().append_value(found.as_str()),
                            None => list_out.values().append_null(),
                        }
                    }
                    list_out.append(true);
                }
                Function::Split => {
                    for piece in regex.split(text) {
                        list_out.values().append_value(piece);
                    }
                    list_out.append(true);
                }
            }
        }
        let result: arrow::array::ArrayRef = match self.function {
            Function::Extract => Arc::new(scalar_out.finish()),
            Function::ExtractAll | Function::Split => Arc::new(list_out.finish()),
        };
        super::columnar(result, all_scalar)
    }
}

fn value(array: &StringArray, row: usize) -> Option<&str> {
    (!array.is_null(row)).then(|| array.value(row))
}

/// The compiled `pattern`, reusing the previous row's when it is the same.
fn compiled<'c>(cache: &'c mut Option<(String, Regex)>, pattern: &str) -> DfResult<&'c Regex> {
    let stale = cache.as_ref().is_none_or(|(text, _)| text != pattern);
    if stale {
        let regex = Regex::new(pattern).map_err(|e| {
            invalid_argument(format!("Invalid regular expression '{pattern}': {e}"))
        })?;
        *cache = Some((pattern.to_string(), regex));
    }
    match cache {
        Some((_, regex)) => Ok(regex),
        None => exec_err!("no pattern"),
    }
}

fn checked_group(regex: &Regex, group: i64) -> DfResult<usize> {
    let groups = regex.captures_len() - 1;
    match usize::try_from(group) {
        Ok(g) if g <= groups => Ok(g),
        _ => Err(invalid_argument(format!(
            "Pattern has {groups} groups. Cannot access group {group}"
        ))),
    }
}
