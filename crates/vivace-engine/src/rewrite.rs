//! Rewrites of the parsed SQL that make DataFusion answer as Trino does: output column names
//! and the types of integer literals.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    CastKind, DataType, Expr, GroupByExpr, Ident, LimitClause, OrderByKind, Query, Select,
    SelectItem, SetExpr, Statement, Value, VisitMut, VisitorMut,
};

/// Applies every rewrite to a statement.
pub fn rewrite_statement(statement: &mut Statement) {
    let _ = statement.visit(&mut LiteralTyping);
    if let Statement::Query(query) = statement {
        name_unnamed_columns(query);
    }
}

/// Trino types an integer literal `integer` when it fits, `bigint` otherwise; DataFusion makes
/// every integer literal `bigint`. Literals that are positions (`ORDER BY 1`, `GROUP BY 1`) or
/// counts (`LIMIT`, `OFFSET`, `FETCH`) are left alone.
struct LiteralTyping;

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
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statement = Parser::parse_sql(&GenericDialect {}, sql)
            .unwrap()
            .remove(0);
        rewrite_statement(&mut statement);
        statement.to_string()
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
