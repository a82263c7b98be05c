//! Trino functions that DataFusion has under another name or shape, rewritten in the parsed
//! SQL before planning. Only rewrites whose result matches Trino's documented semantics live
//! here; a function that needs different behaviour gets its own UDF instead.
//!
//! - renames: `arbitrary` → `any_value`, `variance` → `var_samp`, `approx_percentile` →
//!   `approx_percentile_cont`, `sequence` → `generate_series` (both ends included, as in
//!   Trino), `split(s, d)` → `string_to_array`, `transform(a, x -> ...)` → `array_transform`,
//!   `filter(a, x -> ...)` → `array_filter`;
//! - `if(c, a [, b])` → `CASE WHEN c THEN a [ELSE b] END`;
//! - `count_if(c)` → `count(CASE WHEN c THEN 1 END)`;
//! - `max_by(x, y)` / `min_by(x, y)` → `first_value(x ORDER BY y DESC|ASC) FILTER (WHERE y IS
//!   NOT NULL)`;
//! - `listagg(x, sep) WITHIN GROUP (ORDER BY o)` → `string_agg(x, sep ORDER BY o)`;
//! - date fields (`year`, `month`, `day`, `hour`, `day_of_week`, ...) → `CAST(date_part(f, x)
//!   AS BIGINT)`, with Trino's ISO weekday (Monday is 1).

use std::ops::ControlFlow;

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    BinaryOperator, CaseWhen, CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    ObjectNamePart, OrderByExpr, OrderByOptions, TableFactor, UnaryOperator, Value, VisitorMut,
};
use sqlparser::tokenizer::Span;
use vivace_common::ErrorCode;

use crate::{SqlLocation, TrinoError};

/// The visitor applying every function rewrite.
pub(crate) struct FunctionRewrites;

/// The lower-cased name of an unqualified, unquoted function.
fn simple_name(function: &Function) -> Option<String> {
    match function.name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] if ident.quote_style.is_none() => {
            Some(ident.value.to_lowercase())
        }
        _ => None,
    }
}

/// The arguments of a call with only plain positional arguments.
fn plain_arguments(function: &Function) -> Option<Vec<Expr>> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return None;
    }
    list.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr.clone()),
            _ => None,
        })
        .collect()
}

fn set_name(function: &mut Function, name: &str) {
    function.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]);
}

fn set_arguments(function: &mut Function, args: Vec<Expr>, clauses: Vec<FunctionArgumentClause>) {
    function.args = FunctionArguments::List(FunctionArgumentList {
        duplicate_treatment: None,
        args: args
            .into_iter()
            .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
            .collect(),
        clauses,
    });
}

fn string(text: &str) -> Expr {
    Expr::Value(Value::SingleQuotedString(text.to_string()).into())
}

/// A plain call `name(args)`.
fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

fn as_bigint(expr: Expr) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type: DataType::BigInt(None),
        array: false,
        format: None,
    }
}

/// `NULL` when any of `args` is NULL, else `value`: Trino's rule for `concat`, `greatest`
/// and `least`, where DataFusion skips NULL arguments.
fn null_if_any_null(args: &[Expr], value: Expr) -> Expr {
    let condition = args
        .iter()
        .map(|a| Expr::IsNull(Box::new(a.clone())))
        .reduce(|left, right| Expr::BinaryOp {
            left: Box::new(left),
            op: BinaryOperator::Or,
            right: Box::new(right),
        });
    match condition {
        Some(condition) => case_when(condition, Expr::Value(Value::Null.into()), Some(value)),
        None => value,
    }
}

/// Trino's `$1` group references in a `regexp_replace` replacement, as DataFusion's `\1`.
fn replacement_groups(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // `\$` is a literal dollar, which the regex crate writes `$$`.
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(next) => out.push(next),
                None => {}
            },
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('\\'),
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    out
}

fn case_when(condition: Expr, result: Expr, otherwise: Option<Expr>) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen { condition, result }],
        else_result: otherwise.map(Box::new),
    }
}

fn location(function: &Function) -> Option<SqlLocation> {
    let span: Span = match function.name.0.first() {
        Some(ObjectNamePart::Identifier(ident)) => ident.span,
        _ => return None,
    };
    (span.start.line > 0).then_some(SqlLocation {
        line: span.start.line as u32,
        column: span.start.column as u32,
    })
}

fn wrong_arguments(function: &Function, name: &str, expected: &str) -> TrinoError {
    TrinoError::at(
        ErrorCode::FUNCTION_NOT_FOUND,
        format!("Unexpected parameters for function {name}. Expected: {name}({expected})"),
        location(function),
    )
}

/// The value of an integer literal, possibly negated.
fn integer_literal(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Number(text, _) => text.parse().ok(),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => integer_literal(expr).map(|v| -v),
        Expr::Nested(inner) => integer_literal(inner),
        _ => None,
    }
}

/// The `date_part` field for a Trino date-field function.
fn date_field(name: &str) -> Option<&'static str> {
    Some(match name {
        "year" => "year",
        "quarter" => "quarter",
        "month" => "month",
        "week" | "week_of_year" => "week",
        "day" | "day_of_month" => "day",
        "day_of_week" | "dow" => "isodow",
        "day_of_year" | "doy" => "doy",
        "year_of_week" | "yow" => "isoyear",
        "hour" => "hour",
        "minute" => "minute",
        "second" => "second",
        _ => return None,
    })
}

/// Rewrites one call; `Ok(None)` leaves it alone.
fn rewrite(function: &mut Function) -> Result<Option<Expr>, TrinoError> {
    let Some(name) = simple_name(function) else {
        return Ok(None);
    };
    let renamed = match name.as_str() {
        "arbitrary" => Some("any_value"),
        "variance" => Some("var_samp"),
        "approx_percentile" => Some("approx_percentile_cont"),
        "sequence" => Some("generate_series"),
        "transform" => Some("array_transform"),
        "filter" => Some("array_filter"),
        "contains" => Some("array_has"),
        "ceiling" => Some("ceil"),
        "truncate" => Some("trunc"),
        "sign" => Some("signum"),
        "levenshtein_distance" => Some("levenshtein"),
        "codepoint" => Some("ascii"),
        "every" => Some("bool_and"),
        "now" => Some("current_timestamp"),
        "array_remove" => Some("array_remove_all"),
        _ => None,
    };
    if let Some(target) = renamed {
        set_name(function, target);
        return Ok(None);
    }
    let windowed = function.over.is_some() || function.filter.is_some();
    match name.as_str() {
        "split" => {
            if let Some(args) = plain_arguments(function)
                && args.len() == 2
            {
                set_name(function, "string_to_array");
            }
            Ok(None)
        }
        "if" => {
            let args = plain_arguments(function)
                .filter(|a| (2..=3).contains(&a.len()))
                .ok_or_else(|| wrong_arguments(function, "if", "boolean, T[, T]"))?;
            let mut args = args.into_iter();
            let (Some(condition), Some(then)) = (args.next(), args.next()) else {
                return Err(wrong_arguments(function, "if", "boolean, T[, T]"));
            };
            Ok(Some(case_when(condition, then, args.next())))
        }
        "count_if" if !windowed => {
            let Some([condition]) =
                plain_arguments(function).and_then(|a| <[Expr; 1]>::try_from(a).ok())
            else {
                return Err(wrong_arguments(function, "count_if", "boolean"));
            };
            let one = Expr::Value(Value::Number("1".to_string(), false).into());
            set_name(function, "count");
            set_arguments(function, vec![case_when(condition, one, None)], vec![]);
            Ok(None)
        }
        "max_by" | "min_by" if !windowed => {
            let args = plain_arguments(function)
                .filter(|a| a.len() == 2)
                .ok_or_else(|| wrong_arguments(function, &name, "V, K"))?;
            let mut args = args.into_iter();
            let (Some(value), Some(key)) = (args.next(), args.next()) else {
                return Err(wrong_arguments(function, &name, "V, K"));
            };
            let order = OrderByExpr {
                expr: key.clone(),
                options: OrderByOptions {
                    asc: Some(name == "min_by"),
                    nulls_first: None,
                },
                with_fill: None,
            };
            set_name(function, "first_value");
            set_arguments(
                function,
                vec![value],
                vec![FunctionArgumentClause::OrderBy(vec![order])],
            );
            function.filter = Some(Box::new(Expr::IsNotNull(Box::new(key))));
            Ok(None)
        }
        "listagg" if function.over.is_none() => {
            let FunctionArguments::List(list) = &function.args else {
                return Ok(None);
            };
            if list
                .clauses
                .iter()
                .any(|c| matches!(c, FunctionArgumentClause::OnOverflow(_)))
            {
                return Err(TrinoError::at(
                    ErrorCode::NOT_SUPPORTED,
                    "LISTAGG ... ON OVERFLOW is not supported",
                    location(function),
                ));
            }
            let mut args: Vec<Expr> = list
                .args
                .iter()
                .map(|arg| match arg {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .filter(|a| (1..=2).contains(&a.len()))
                .ok_or_else(|| wrong_arguments(function, "listagg", "varchar[, varchar]"))?;
            if args.len() == 1 {
                args.push(string(""));
            }
            let order = std::mem::take(&mut function.within_group);
            let clauses = if order.is_empty() {
                vec![]
            } else {
                vec![FunctionArgumentClause::OrderBy(order)]
            };
            set_name(function, "string_agg");
            set_arguments(function, args, clauses);
            Ok(None)
        }
        "replace" => {
            if let Some(Ok([text, search])) = plain_arguments(function).map(<[Expr; 2]>::try_from) {
                set_arguments(function, vec![text, search, string("")], vec![]);
            }
            Ok(None)
        }
        "regexp_replace" => {
            // Trino replaces every match; its replacement names groups `$1`.
            let args = plain_arguments(function).unwrap_or_default();
            let (text, pattern, replacement) = match args.as_slice() {
                [text, pattern] => (text.clone(), pattern.clone(), string("")),
                [text, pattern, Expr::Value(value)] => match &value.value {
                    Value::SingleQuotedString(r) => (
                        text.clone(),
                        pattern.clone(),
                        string(&replacement_groups(r)),
                    ),
                    _ => (text.clone(), pattern.clone(), args[2].clone()),
                },
                [text, pattern, replacement] => {
                    (text.clone(), pattern.clone(), replacement.clone())
                }
                _ => return Ok(None),
            };
            set_arguments(
                function,
                vec![text, pattern, replacement, string("g")],
                vec![],
            );
            Ok(None)
        }
        "length" | "strpos" | "approx_distinct" if !windowed || name == "approx_distinct" => {
            // Trino answers bigint; DataFusion int or unsigned. approx_distinct's error bound
            // argument is accepted and ignored.
            if name == "approx_distinct"
                && let Some(args) = plain_arguments(function)
                && args.len() == 2
            {
                set_arguments(function, vec![args[0].clone()], vec![]);
            }
            Ok(Some(as_bigint(Expr::Function(function.clone()))))
        }
        "slice" => {
            let Some(Ok([array, start, length])) =
                plain_arguments(function).map(<[Expr; 3]>::try_from)
            else {
                return Err(wrong_arguments(
                    function,
                    "slice",
                    "array(E), bigint, bigint",
                ));
            };
            // slice(a, start, length) = array_slice(a, start, start + length - 1)
            let end = Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(Expr::BinaryOp {
                    left: Box::new(start.clone()),
                    op: BinaryOperator::Plus,
                    right: Box::new(Expr::Nested(Box::new(length))),
                }))),
                op: BinaryOperator::Minus,
                right: Box::new(Expr::Value(Value::Number("1".to_string(), false).into())),
            };
            // An end counted from the back must stay negative: slice([1,2,3], -1, 2) is [3].
            let zero = || Expr::Value(Value::Number("0".to_string(), false).into());
            let from_back = Expr::BinaryOp {
                left: Box::new(Expr::BinaryOp {
                    left: Box::new(start.clone()),
                    op: BinaryOperator::Lt,
                    right: Box::new(zero()),
                }),
                op: BinaryOperator::And,
                right: Box::new(Expr::BinaryOp {
                    left: Box::new(end.clone()),
                    op: BinaryOperator::GtEq,
                    right: Box::new(zero()),
                }),
            };
            let minus_one = Expr::Value(Value::Number("-1".to_string(), false).into());
            let end = case_when(from_back, minus_one, Some(end));
            set_name(function, "array_slice");
            set_arguments(function, vec![array, start, end], vec![]);
            Ok(None)
        }
        "mod" => {
            let Some(Ok([dividend, divisor])) =
                plain_arguments(function).map(<[Expr; 2]>::try_from)
            else {
                return Err(wrong_arguments(function, "mod", "n, m"));
            };
            Ok(Some(Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(dividend))),
                op: BinaryOperator::Modulo,
                right: Box::new(Expr::Nested(Box::new(divisor))),
            }))))
        }
        "zip" => {
            set_name(function, "arrays_zip");
            Ok(None)
        }
        "greatest" | "least" | "concat" => {
            let Some(args) = plain_arguments(function).filter(|a| !a.is_empty()) else {
                return Ok(None);
            };
            Ok(Some(null_if_any_null(
                &args,
                Expr::Function(function.clone()),
            )))
        }
        "all_match" | "none_match" => {
            let Some(Ok([array, Expr::Lambda(mut lambda)])) =
                plain_arguments(function).map(<[Expr; 2]>::try_from)
            else {
                return Err(wrong_arguments(
                    function,
                    &name,
                    "array(T), function(T, boolean)",
                ));
            };
            // all_match(a, p) = NOT any_match(a, NOT p); none_match(a, p) = NOT any_match(a, p).
            // Both keep Trino's NULL when an element's answer is NULL and none decides.
            if name == "all_match" {
                lambda.body = Box::new(Expr::UnaryOp {
                    op: UnaryOperator::Not,
                    expr: Box::new(Expr::Nested(lambda.body)),
                });
            }
            let mut call = function.clone();
            set_name(&mut call, "any_match");
            set_arguments(&mut call, vec![array, Expr::Lambda(lambda)], vec![]);
            Ok(Some(Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: Box::new(Expr::Function(call)),
            }))
        }
        "array_sort" => match plain_arguments(function).as_deref() {
            // Trino sorts NULLs last; DataFusion puts them first unless told.
            Some([array]) => {
                let array = array.clone();
                set_arguments(
                    function,
                    vec![array, string("ASC"), string("NULLS LAST")],
                    vec![],
                );
                Ok(None)
            }
            Some([_, Expr::Lambda(_)]) => Err(TrinoError::at(
                ErrorCode::NOT_SUPPORTED,
                "array_sort with a comparator function is not supported",
                location(function),
            )),
            _ => Ok(None),
        },
        "array_position" => {
            // Trino answers 0 for a missing element, as a bigint.
            let mut call_position = function.clone();
            set_name(&mut call_position, "array_position");
            let zero = Expr::Value(Value::Number("0".to_string(), false).into());
            let found = call("coalesce", vec![Expr::Function(call_position), zero]);
            let found = match plain_arguments(function).as_deref() {
                Some([array, element]) => {
                    null_if_any_null(&[array.clone(), element.clone()], found)
                }
                _ => found,
            };
            Ok(Some(Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(found),
                data_type: DataType::BigInt(None),
                array: false,
                format: None,
            }))
        }
        "map_agg" if function.over.is_none() => {
            let Some(Ok([key, value])) = plain_arguments(function).map(<[Expr; 2]>::try_from)
            else {
                return Err(wrong_arguments(function, "map_agg", "K, V"));
            };
            // map_agg(k, v) = __map_agg_entries(array_agg(struct(k, v)) FILTER (WHERE k IS NOT NULL)):
            // one aggregate keeps each key next to its value, on every node.
            let mut pair = function.clone();
            set_name(&mut pair, "struct");
            set_arguments(&mut pair, vec![key.clone(), value], vec![]);
            pair.filter = None;
            Ok(Some(finish_array_agg(
                function,
                Expr::Function(pair),
                key,
                crate::internal_functions::MAP_AGG_ENTRIES,
            )))
        }
        "histogram" if function.over.is_none() => {
            let Some(Ok([value])) = plain_arguments(function).map(<[Expr; 1]>::try_from) else {
                return Err(wrong_arguments(function, "histogram", "T"));
            };
            // histogram(x) = __histogram(array_agg(x) FILTER (WHERE x IS NOT NULL)).
            Ok(Some(finish_array_agg(
                function,
                value.clone(),
                value,
                crate::internal_functions::HISTOGRAM,
            )))
        }
        "from_unixtime" => {
            // from_unixtime(x, hours, minutes) = from_unixtime(x, '+hh:mm'): the zone must be
            // known while planning, as it is part of the result's type.
            let Some(Ok([seconds, hours, minutes])) =
                plain_arguments(function).map(<[Expr; 3]>::try_from)
            else {
                return Ok(None);
            };
            let (Some(hours), Some(minutes)) = (integer_literal(&hours), integer_literal(&minutes))
            else {
                return Ok(None);
            };
            // Trino adds the two: from_unixtime(x, -5, 30) is at -04:30.
            let total = hours
                .checked_mul(60)
                .and_then(|h| h.checked_add(minutes))
                .filter(|t| (-18 * 60..=18 * 60).contains(t))
                .ok_or_else(|| {
                    TrinoError::at(
                        ErrorCode::INVALID_FUNCTION_ARGUMENT,
                        format!("Invalid offset of {hours} hours and {minutes} minutes"),
                        location(function),
                    )
                })?;
            let sign = if total < 0 { '-' } else { '+' };
            let offset = format!("{sign}{:02}:{:02}", total.abs() / 60, total.abs() % 60);
            set_arguments(function, vec![seconds, string(&offset)], vec![]);
            Ok(None)
        }
        "date" => match plain_arguments(function).map(<[Expr; 1]>::try_from) {
            Some(Ok([value])) => Ok(Some(Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(value),
                data_type: DataType::Date,
                array: false,
                format: None,
            })),
            _ => Err(wrong_arguments(function, "date", "varchar|timestamp")),
        },
        "millisecond" => match plain_arguments(function).map(<[Expr; 1]>::try_from) {
            // date_part counts the seconds too (5.123 s is 5123).
            Some(Ok([value])) => {
                let mut call = function.clone();
                set_name(&mut call, "date_part");
                set_arguments(&mut call, vec![string("millisecond"), value], vec![]);
                let whole = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(Expr::Function(call)),
                    data_type: DataType::BigInt(None),
                    array: false,
                    format: None,
                };
                Ok(Some(Expr::BinaryOp {
                    left: Box::new(Expr::Nested(Box::new(whole))),
                    op: BinaryOperator::Modulo,
                    right: Box::new(Expr::Value(Value::Number("1000".to_string(), false).into())),
                }))
            }
            _ => Err(wrong_arguments(function, "millisecond", "timestamp|time")),
        },
        other => {
            let Some(field) = date_field(other) else {
                return Ok(None);
            };
            let Some(args) = plain_arguments(function).filter(|a| a.len() == 1) else {
                return Ok(None);
            };
            let mut call = function.clone();
            set_name(&mut call, "date_part");
            set_arguments(&mut call, vec![string(field), args[0].clone()], vec![]);
            Ok(Some(Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(Expr::Function(call)),
                data_type: DataType::BigInt(None),
                array: false,
                format: None,
            }))
        }
    }
}

/// `UNNEST(a, b) WITH ORDINALITY` becomes `UNNEST(a, b, sequence(1, n))` with `n` the longest
/// array's length: DataFusion unnests arrays side by side, padding the shorter with NULLs.
fn unnest_with_ordinality(factor: &mut TableFactor) {
    let TableFactor::UNNEST {
        array_exprs,
        with_ordinality,
        ..
    } = factor
    else {
        return;
    };
    if !*with_ordinality || array_exprs.is_empty() {
        return;
    }
    let lengths: Vec<Expr> = array_exprs
        .iter()
        .map(|array| {
            let zero = Expr::Value(Value::Number("0".to_string(), false).into());
            call(
                "coalesce",
                vec![call("cardinality", vec![array.clone()]), zero],
            )
        })
        .collect();
    let longest = if lengths.len() == 1 {
        lengths
            .into_iter()
            .next()
            .unwrap_or(Expr::Value(Value::Null.into()))
    } else {
        call("greatest", lengths)
    };
    let one = Expr::Value(Value::Number("1".to_string(), false).into());
    array_exprs.push(call("generate_series", vec![one, longest]));
    *with_ordinality = false;
}

impl VisitorMut for FunctionRewrites {
    type Break = TrinoError;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<TrinoError> {
        unnest_with_ordinality(factor);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<TrinoError> {
        let Expr::Function(function) = expr else {
            return ControlFlow::Continue(());
        };
        match rewrite(function) {
            Ok(Some(replacement)) => {
                *expr = replacement;
                ControlFlow::Continue(())
            }
            Ok(None) => ControlFlow::Continue(()),
            Err(error) => ControlFlow::Break(error),
        }
    }
}

/// `finish(array_agg(element) FILTER (WHERE <function's filter> AND present IS NOT NULL))`:
/// an aggregate of `function`'s call, collected by `array_agg` and finished by a scalar.
fn finish_array_agg(function: &Function, element: Expr, present: Expr, finish: &str) -> Expr {
    let mut aggregate = function.clone();
    set_name(&mut aggregate, "array_agg");
    set_arguments(&mut aggregate, vec![element], vec![]);
    add_filter(&mut aggregate, Expr::IsNotNull(Box::new(present)));
    let mut call = function.clone();
    set_name(&mut call, finish);
    set_arguments(&mut call, vec![Expr::Function(aggregate)], vec![]);
    call.filter = None;
    Expr::Function(call)
}

/// Adds `condition` to an aggregate's `FILTER (WHERE ...)`.
fn add_filter(aggregate: &mut Function, condition: Expr) {
    aggregate.filter = Some(Box::new(match aggregate.filter.take() {
        Some(filter) => Expr::BinaryOp {
            left: Box::new(Expr::Nested(filter)),
            op: BinaryOperator::And,
            right: Box::new(condition),
        },
        None => condition,
    }));
}

#[cfg(test)]
mod tests {
    use sqlparser::ast::VisitMut;

    use super::*;
    use crate::test_support::parse_one;

    fn rewritten(sql: &str) -> String {
        let mut statement = parse_one(sql);
        let flow = statement.visit(&mut FunctionRewrites);
        assert!(flow.is_continue(), "{sql}");
        statement.to_string()
    }

    #[test]
    fn trino_functions_become_datafusion_forms() {
        assert_eq!(
            rewritten("SELECT if(a > 1, 'x'), IF(b, 1, 2) FROM t"),
            "SELECT CASE WHEN a > 1 THEN 'x' END, CASE WHEN b THEN 1 ELSE 2 END FROM t"
        );
        assert_eq!(
            rewritten("SELECT count_if(a > 1), arbitrary(b), variance(c) FROM t"),
            "SELECT count(CASE WHEN a > 1 THEN 1 END), any_value(b), var_samp(c) FROM t"
        );
        assert_eq!(
            rewritten("SELECT max_by(name, price), min_by(name, price) FROM t"),
            "SELECT first_value(name ORDER BY price DESC) FILTER (WHERE price IS NOT NULL), \
             first_value(name ORDER BY price ASC) FILTER (WHERE price IS NOT NULL) FROM t"
        );
        assert_eq!(
            rewritten("SELECT listagg(name, ', ') WITHIN GROUP (ORDER BY name) FROM t"),
            "SELECT string_agg(name, ', ' ORDER BY name) FROM t"
        );
        assert_eq!(
            rewritten("SELECT year(d), day_of_week(d), \"year\"(d) FROM t"),
            "SELECT CAST(date_part('year', d) AS BIGINT), CAST(date_part('isodow', d) AS BIGINT), \"year\"(d) FROM t"
        );
        assert_eq!(
            rewritten("SELECT sequence(1, 5), split('a,b', ',') FROM t"),
            "SELECT generate_series(1, 5), string_to_array('a,b', ',') FROM t"
        );
    }

    #[test]
    fn wrong_argument_counts_are_named() {
        let mut statement = parse_one("SELECT if(a)");
        let flow = statement.visit(&mut FunctionRewrites);
        let ControlFlow::Break(TrinoError { code, message, .. }) = flow else {
            panic!("not refused");
        };
        assert_eq!(code, ErrorCode::FUNCTION_NOT_FOUND);
        assert!(
            message.contains("Expected: if(boolean, T[, T])"),
            "{message}"
        );
    }
}
