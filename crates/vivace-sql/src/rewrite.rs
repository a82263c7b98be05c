//! Rewrites of the parsed SQL that make DataFusion answer as Trino does: output column names
//! and the types of integer literals.

use std::ops::ControlFlow;

use sqlparser::ast::{
    CastKind, DataType, ExcludeSelectItem, Expr, GroupByExpr, Ident, LimitClause, ObjectName,
    ObjectNamePart, OrderByKind, Query, Select, SelectItem, SetExpr, Statement, TableFactor, Value,
    Visit, VisitMut, Visitor, VisitorMut,
};
use vivace_common::ErrorCode;

use crate::{SqlLocation, SqlResult, TrinoError};

/// Trino's reserved words: never a table name unless quoted.
const RESERVED: &[&str] = &[
    "ALTER",
    "AND",
    "AS",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CUBE",
    "CURRENT_CATALOG",
    "CURRENT_DATE",
    "CURRENT_PATH",
    "CURRENT_ROLE",
    "CURRENT_SCHEMA",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "DEALLOCATE",
    "DELETE",
    "DESCRIBE",
    "DISTINCT",
    "DROP",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXECUTE",
    "EXISTS",
    "EXTRACT",
    "FALSE",
    "FOR",
    "FROM",
    "FULL",
    "GROUP",
    "GROUPING",
    "HAVING",
    "IN",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LISTAGG",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "NATURAL",
    "NORMALIZE",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "PREPARE",
    "RECURSIVE",
    "RIGHT",
    "ROLLUP",
    "SELECT",
    "SKIP",
    "TABLE",
    "THEN",
    "TRIM",
    "TRUE",
    "UESCAPE",
    "UNION",
    "UNNEST",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
    "WITH",
];

/// Where each table name appears in the SQL text, and syntax Trino rejects that the parser
/// accepted (a reserved word as a table name, an empty select list).
#[derive(Debug, Default)]
pub struct Relations {
    /// Each relation's name parts (unquoted parts lower-cased) and position.
    pub locations: Vec<(Vec<String>, Option<SqlLocation>)>,
    error: Option<TrinoError>,
}

impl Relations {
    /// The position of a relation named `parts`, matching on the trailing parts.
    pub fn location_of(&self, parts: &[String]) -> Option<SqlLocation> {
        self.locations
            .iter()
            .find(|(name, _)| name.ends_with(parts) || parts.ends_with(name))
            .and_then(|(_, location)| *location)
    }
}

fn span_location(ident: &Ident) -> Option<SqlLocation> {
    let start = ident.span.start;
    (start.line > 0).then_some(SqlLocation {
        line: start.line as u32,
        column: start.column as u32,
    })
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        let mut parts = Vec::new();
        let mut location = None;
        for part in &relation.0 {
            if let ObjectNamePart::Identifier(ident) = part {
                if location.is_none() {
                    location = span_location(ident);
                }
                if ident.quote_style.is_none() {
                    if relation.0.len() == 1
                        && RESERVED.contains(&ident.value.to_ascii_uppercase().as_str())
                        && self.error.is_none()
                    {
                        self.error = Some(TrinoError::at(
                            ErrorCode::SYNTAX_ERROR,
                            format!(
                                "mismatched input '{}'. Expecting: <identifier>",
                                ident.value
                            ),
                            span_location(ident),
                        ));
                    }
                    parts.push(ident.value.to_lowercase());
                } else {
                    parts.push(ident.value.clone());
                }
            }
        }
        self.locations.push((parts, location));
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        if select.projection.is_empty() && self.error.is_none() {
            self.error = Some(TrinoError::at(
                ErrorCode::SYNTAX_ERROR,
                "mismatched input 'FROM'. Expecting: <expression>, '*'",
                (select.select_token.0.span.start.line > 0).then_some(SqlLocation {
                    line: select.select_token.0.span.start.line as u32,
                    column: select.select_token.0.span.end.column as u32 + 1,
                }),
            ));
        }
        ControlFlow::Continue(())
    }
}

/// Checks what the parser accepted but Trino does not, and records table positions.
pub fn inspect_statement(statement: &Statement) -> SqlResult<Relations> {
    let mut relations = Relations::default();
    let _ = statement.visit(&mut relations);
    match relations.error.take() {
        Some(error) => Err(error),
        None => Ok(relations),
    }
}

/// Whether each output column of a query was named by an alias (`DESCRIBE OUTPUT`), by
/// position; `None` when the select list has a wildcard.
pub fn aliased_columns(statement: &Statement) -> Option<Vec<bool>> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let mut body = query.body.as_ref();
    loop {
        match body {
            SetExpr::Select(select) => {
                return select
                    .projection
                    .iter()
                    .map(|item| match item {
                        SelectItem::ExprWithAlias { .. } => Some(true),
                        SelectItem::UnnamedExpr(_) => Some(false),
                        _ => None,
                    })
                    .collect();
            }
            SetExpr::SetOperation { left, .. } => body = left.as_ref(),
            SetExpr::Query(inner) => body = inner.body.as_ref(),
            _ => return None,
        }
    }
}

/// Applies every rewrite to a statement.
pub fn rewrite_statement(statement: &mut Statement) -> SqlResult<()> {
    if let ControlFlow::Break(error) = Visit::visit(&*statement, &mut RefuseUnsupported) {
        return Err(error);
    }
    if let ControlFlow::Break(error) = statement.visit(&mut FetchToLimit) {
        return Err(error);
    }
    if let ControlFlow::Break(error) =
        statement.visit(&mut crate::function_rewrite::FunctionRewrites)
    {
        return Err(error);
    }
    let _ = statement.visit(&mut LiteralTyping);
    let _ = statement.visit(&mut HideColumns);
    if let Statement::Query(query) = statement {
        name_unnamed_columns(query);
    }
    Ok(())
}

/// `SELECT *` from a metadata table with hidden columns (`information_schema.columns`,
/// `information_schema.tables`) leaves them out, as Trino does: the wildcard gets an `EXCLUDE`
/// of them. Only a query over that one table is rewritten, named with its schema; with joins,
/// `*` still shows the hidden columns.
struct HideColumns;

impl VisitorMut for HideColumns {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        hide_in_body(&mut query.body);
        ControlFlow::Continue(())
    }
}

#[recursive::recursive]
fn hide_in_body(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => hide_in_select(select),
        SetExpr::SetOperation { left, right, .. } => {
            hide_in_body(left);
            hide_in_body(right);
        }
        _ => {}
    }
}

fn hide_in_select(select: &mut Select) {
    let [from] = select.from.as_slice() else {
        return;
    };
    if !from.joins.is_empty() {
        return;
    }
    let TableFactor::Table { name, .. } = &from.relation else {
        return;
    };
    let parts: Vec<&str> = name
        .0
        .iter()
        .filter_map(|part| part.as_ident().map(|ident| ident.value.as_str()))
        .collect();
    let [.., schema, table] = parts.as_slice() else {
        return;
    };
    let hidden = crate::hidden_columns(schema, table);
    if hidden.is_empty() {
        return;
    }
    for item in &mut select.projection {
        let options = match item {
            SelectItem::Wildcard(options) | SelectItem::QualifiedWildcard(_, options) => options,
            _ => continue,
        };
        let mut excluded = match options.opt_exclude.take() {
            None => Vec::new(),
            Some(ExcludeSelectItem::Single(name)) => vec![name],
            Some(ExcludeSelectItem::Multiple(names)) => names,
        };
        for column in hidden {
            let already = excluded.iter().any(|name| {
                name.0
                    .last()
                    .and_then(|part| part.as_ident())
                    .is_some_and(|ident| ident.value.eq_ignore_ascii_case(column))
            });
            if !already {
                excluded.push(ObjectName::from(vec![Ident::new(*column)]));
            }
        }
        options.opt_exclude = Some(ExcludeSelectItem::Multiple(excluded));
    }
}

/// `FETCH FIRST n ROWS ONLY` (which DataFusion does not plan) becomes `LIMIT n`; `FETCH
/// FIRST ROW ONLY` is `LIMIT 1`. `WITH TIES` and `PERCENT` are refused by name.
/// Relations Trino reads that Vivace does not, refused by name rather than planned wrong
/// (DataFusion would ignore a `TABLESAMPLE`) or failed with a planner's internals.
struct RefuseUnsupported;

impl Visitor for RefuseUnsupported {
    type Break = TrinoError;

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<TrinoError> {
        let what = match factor {
            TableFactor::Table {
                sample: Some(_), ..
            } => "TABLESAMPLE is",
            TableFactor::Table {
                version: Some(_), ..
            } => "Time travel (FOR VERSION | TIMESTAMP AS OF) is",
            TableFactor::Table { args: Some(_), .. }
            | TableFactor::TableFunction { .. }
            | TableFactor::Function { .. } => "Table functions are",
            TableFactor::MatchRecognize { .. } => "MATCH_RECOGNIZE is",
            TableFactor::JsonTable { .. } | TableFactor::OpenJsonTable { .. } => "JSON_TABLE is",
            TableFactor::Pivot { .. } | TableFactor::Unpivot { .. } => "PIVOT and UNPIVOT are",
            _ => return ControlFlow::Continue(()),
        };
        ControlFlow::Break(TrinoError::new(
            ErrorCode::NOT_SUPPORTED,
            format!("{what} not supported"),
        ))
    }
}

struct FetchToLimit;

impl VisitorMut for FetchToLimit {
    type Break = TrinoError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<TrinoError> {
        let Some(fetch) = query.fetch.take() else {
            return ControlFlow::Continue(());
        };
        if fetch.with_ties {
            return ControlFlow::Break(TrinoError::new(
                ErrorCode::NOT_SUPPORTED,
                "FETCH FIRST ... WITH TIES is not supported",
            ));
        }
        if fetch.percent {
            return ControlFlow::Break(TrinoError::new(
                ErrorCode::SYNTAX_ERROR,
                "FETCH FIRST ... PERCENT is not valid in Trino",
            ));
        }
        let count = fetch
            .quantity
            .unwrap_or_else(|| Expr::Value(Value::Number("1".to_string(), false).into()));
        match &mut query.limit_clause {
            None => {
                query.limit_clause = Some(LimitClause::LimitOffset {
                    limit: Some(count),
                    offset: None,
                    limit_by: vec![],
                });
            }
            Some(LimitClause::LimitOffset {
                limit: limit @ None,
                ..
            }) => *limit = Some(count),
            Some(_) => {
                return ControlFlow::Break(TrinoError::new(
                    ErrorCode::SYNTAX_ERROR,
                    "A query cannot have both LIMIT and FETCH FIRST",
                ));
            }
        }
        ControlFlow::Continue(())
    }
}

/// Trino types an integer literal `integer` when it fits, `bigint` otherwise; DataFusion makes
/// every integer literal `bigint`. Literals that are positions (`ORDER BY 1`, `GROUP BY 1`) or
/// counts (`LIMIT`, `OFFSET`, `FETCH`) are left alone.
struct LiteralTyping;

/// `1e3` is a double in Trino; DataFusion (reading literals as decimals) would make it a
/// decimal with a negative scale.
fn scientific_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(text, false) if text.contains(['e', 'E']) => Some(text.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A string literal's text.
fn string_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// `__trino_cast('text', 'varchar(n)')`: Trino types a string literal `varchar(n)`.
fn typed_string(text: &str) -> Expr {
    let sql = format!(
        "{}('{}', 'varchar({})', false)",
        crate::internal_functions::TRINO_CAST,
        text.replace('\'', "''"),
        text.chars().count()
    );
    sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_expr())
        .unwrap_or_else(|_| Expr::Value(Value::SingleQuotedString(text.to_string()).into()))
}

fn is_int_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(text, false) => text.parse::<i32>().is_ok(),
            _ => false,
        },
        _ => false,
    }
}

/// Undoes this rewrite where a literal must stay a plain number.
fn unwrap_literal(expr: &mut Expr) {
    if let Expr::Cast {
        kind: CastKind::Cast,
        expr: inner,
        data_type: DataType::Integer(None),
        format: None,
        ..
    } = expr
        && is_int_literal(inner)
    {
        *expr = (**inner).clone();
    }
}

impl VisitorMut for LiteralTyping {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(text) = scientific_literal(expr) {
            *expr = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(Expr::Value(Value::SingleQuotedString(text).into())),
                data_type: DataType::Double(sqlparser::ast::ExactNumberInfo::None),
                array: false,
                format: None,
            };
            return ControlFlow::Continue(());
        }
        if let Expr::Function(function) = expr
            && function.name.to_string().eq_ignore_ascii_case("struct")
            && let sqlparser::ast::FunctionArguments::List(list) = &mut function.args
        {
            for arg in &mut list.args {
                if let sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                    inner,
                )) = arg
                    && let Some(text) = string_literal(inner)
                {
                    *inner = typed_string(text);
                }
            }
        }
        if is_int_literal(expr) {
            *expr = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(expr.clone()),
                data_type: DataType::Integer(None),
                array: false,
                format: None,
            };
        }
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        if let GroupByExpr::Expressions(exprs, _) = &mut select.group_by {
            exprs.iter_mut().for_each(unwrap_literal);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Some(order_by) = &mut query.order_by
            && let OrderByKind::Expressions(exprs) = &mut order_by.kind
        {
            exprs.iter_mut().for_each(|e| unwrap_literal(&mut e.expr));
        }
        match &mut query.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                if let Some(limit) = limit {
                    unwrap_literal(limit);
                }
                if let Some(offset) = offset {
                    unwrap_literal(&mut offset.value);
                }
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                unwrap_literal(offset);
                unwrap_literal(limit);
            }
            None => {}
        }
        if let Some(fetch) = &mut query.fetch
            && let Some(quantity) = &mut fetch.quantity
        {
            unwrap_literal(quantity);
        }
        ControlFlow::Continue(())
    }
}

/// Trino names output columns that are not plain column references `_col0`, `_col1`, ...
/// (by position).
pub fn name_unnamed_columns(query: &mut Query) {
    let mut body = query.body.as_mut();
    loop {
        match body {
            SetExpr::Select(select) => {
                let has_wildcard = select.projection.iter().any(|item| {
                    matches!(
                        item,
                        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(_, _)
                    )
                });
                if has_wildcard {
                    return;
                }
                for (index, item) in select.projection.iter_mut().enumerate() {
                    if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } =
                        item
                        && let Some(text) = string_literal(expr)
                    {
                        *expr = typed_string(text);
                    }
                    if let SelectItem::UnnamedExpr(expr) = item {
                        if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                            continue;
                        }
                        *item = SelectItem::ExprWithAlias {
                            expr: expr.clone(),
                            alias: Ident::new(format!("_col{index}")),
                        };
                    }
                }
                return;
            }
            SetExpr::SetOperation { left, .. } => body = left.as_mut(),
            SetExpr::Query(inner) => body = inner.body.as_mut(),
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::parse_one;

    fn rewritten(sql: &str) -> String {
        let mut statement = parse_one(sql);
        rewrite_statement(&mut statement).unwrap();
        statement.to_string()
    }

    #[test]
    fn fetch_first_becomes_limit() {
        assert_eq!(
            rewritten("SELECT a FROM t ORDER BY a OFFSET 2 ROWS FETCH FIRST 3 ROWS ONLY"),
            "SELECT a FROM t ORDER BY a LIMIT 3 OFFSET 2 ROWS"
        );
        assert_eq!(
            rewritten("SELECT a FROM t FETCH NEXT ROW ONLY"),
            "SELECT a FROM t LIMIT 1"
        );
        let mut statement = parse_one("SELECT a FROM t ORDER BY a FETCH FIRST 1 ROWS WITH TIES");
        assert!(rewrite_statement(&mut statement).is_err());
    }

    #[test]
    fn names_and_literal_types() {
        assert_eq!(
            rewritten("SELECT 1, a, t.b, a + 1 AS c, upper(x) FROM t"),
            "SELECT CAST(1 AS INTEGER) AS _col0, a, t.b, a + CAST(1 AS INTEGER) AS c, upper(x) AS _col4 FROM t"
        );
        assert_eq!(
            rewritten("SELECT a FROM t GROUP BY 1 ORDER BY 1 LIMIT 5 OFFSET 2"),
            "SELECT a FROM t GROUP BY 1 ORDER BY 1 LIMIT 5 OFFSET 2"
        );
        assert_eq!(
            rewritten("SELECT 3000000000 AS big"),
            "SELECT 3000000000 AS big"
        );
    }
}
