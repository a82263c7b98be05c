//! `SHOW FUNCTIONS`: every function a query can call, one row per name and exactly-typed
//! overload, with Trino's columns (`Function`, `Return Type`, `Argument Types`,
//! `Function Type`, `Deterministic`, `Description`).
//!
//! Types are shown where the function's signature names them exactly; for functions that
//! accept families of types (any numeric, any array, ...) both type columns are empty rather
//! than guessed.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{ReturnFieldArgs, Signature, TypeSignature, Volatility};
use serde_json::Value;

use vivace_functions::types::{trino_type_of, trino_type_of_field};
use vivace_sql::statement::Like;

/// One row of `SHOW FUNCTIONS`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FunctionRow {
    pub(crate) name: String,
    pub(crate) return_type: String,
    pub(crate) argument_types: String,
    pub(crate) kind: &'static str,
    pub(crate) deterministic: bool,
    pub(crate) description: String,
}

impl FunctionRow {
    /// The row as protocol values.
    pub(crate) fn values(&self) -> Vec<Value> {
        vec![
            Value::from(self.name.clone()),
            Value::from(self.return_type.clone()),
            Value::from(self.argument_types.clone()),
            Value::from(self.kind),
            Value::from(self.deterministic),
            Value::from(self.description.clone()),
        ]
    }
}

/// Whether a registered name is internal (our rewrite targets), not for users.
fn is_internal(name: &str) -> bool {
    name.starts_with("__")
}

/// The signatures of `signature` that name their argument types exactly.
fn exact_overloads(signature: &TypeSignature) -> Option<Vec<Vec<DataType>>> {
    match signature {
        TypeSignature::Exact(types) => Some(vec![types.clone()]),
        TypeSignature::Nullary => Some(vec![vec![]]),
        TypeSignature::String(count) => Some(vec![vec![DataType::Utf8; *count]]),
        TypeSignature::Uniform(count, types) => Some(
            types
                .iter()
                .map(|t| std::iter::repeat_n(t.clone(), *count).collect())
                .collect(),
        ),
        TypeSignature::OneOf(signatures) => {
            let mut all = Vec::new();
            for inner in signatures {
                all.extend(exact_overloads(inner)?);
            }
            Some(all)
        }
        _ => None,
    }
}

/// Rows for one function name: one per exact overload, or one with empty types.
fn rows_for(
    name: &str,
    signature: &Signature,
    kind: &'static str,
    description: Option<&str>,
    return_type: impl Fn(&[FieldRef]) -> Option<FieldRef>,
) -> Vec<FunctionRow> {
    let deterministic = signature.volatility == Volatility::Immutable;
    let description = description
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let row = |return_type: String, argument_types: String| FunctionRow {
        name: name.to_string(),
        return_type,
        argument_types,
        kind,
        deterministic,
        description: description.clone(),
    };
    let typed: Vec<FunctionRow> = exact_overloads(&signature.type_signature)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|arguments| {
            let fields: Vec<FieldRef> = arguments
                .iter()
                .enumerate()
                .map(|(i, t)| Arc::new(Field::new(format!("arg{i}"), t.clone(), true)))
                .collect();
            let returned = return_type(&fields)?;
            let names: Vec<String> = arguments
                .iter()
                .map(|t| trino_type_of(t).to_string())
                .collect();
            Some(row(
                trino_type_of_field(&returned).to_string(),
                names.join(", "),
            ))
        })
        .collect();
    if typed.is_empty() {
        vec![row(String::new(), String::new())]
    } else {
        typed
    }
}

/// Every function of `state` whose name matches `like`, sorted by name and types.
pub(crate) fn function_rows(state: &SessionState, like: Option<&Like>) -> Vec<FunctionRow> {
    let matcher = like.map(|l| vivace_sql::LikeMatcher::new(&l.pattern, l.escape.as_deref()));
    let wanted =
        |name: &str| !is_internal(name) && matcher.as_ref().is_none_or(|m| m.matches(name));
    let mut rows = Vec::new();
    for (name, udf) in state.scalar_functions() {
        if wanted(name) {
            let description = udf.documentation().map(|d| d.description.as_str());
            rows.extend(rows_for(
                name,
                udf.signature(),
                "scalar",
                description,
                |fields| {
                    let scalars = vec![None; fields.len()];
                    udf.return_field_from_args(ReturnFieldArgs {
                        arg_fields: fields,
                        scalar_arguments: &scalars,
                    })
                    .ok()
                },
            ));
        }
    }
    for (name, udf) in state.higher_order_functions() {
        if wanted(name) {
            let description = udf.documentation().map(|d| d.description.as_str());
            let deterministic = udf.signature().volatility == Volatility::Immutable;
            rows.push(FunctionRow {
                name: name.clone(),
                return_type: String::new(),
                argument_types: String::new(),
                kind: "scalar",
                deterministic,
                description: description
                    .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
                    .unwrap_or_default(),
            });
        }
    }
    for (name, udaf) in state.aggregate_functions() {
        if wanted(name) {
            let description = udaf.documentation().map(|d| d.description.as_str());
            rows.extend(rows_for(
                name,
                udaf.signature(),
                "aggregate",
                description,
                |fields| udaf.return_field(fields).ok(),
            ));
        }
    }
    for (name, udwf) in state.window_functions() {
        if wanted(name) {
            let description = udwf.documentation().map(|d| d.description.as_str());
            rows.extend(rows_for(
                name,
                udwf.signature(),
                "window",
                description,
                |_| None,
            ));
        }
    }
    rows.sort();
    rows.dedup();
    rows
}
