//! The catalog, schema and table names a metadata table's filters ask for, so that
//! `information_schema` and `system.jdbc` list only those instead of opening every table.
//!
//! Understood: `col = 'x'`, `col IN ('x', 'y')`, and `col LIKE 'x'` without wildcards (the JDBC
//! driver sends its name patterns as `LIKE ... ESCAPE '\'`), joined by `AND`. Anything else
//! narrows nothing. The tables declare their filters inexact, so the engine still applies
//! every filter to the rows listed.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::{BinaryExpr, Expr, Like, Operator};

/// Which part of a table's name a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NamePart {
    Catalog,
    Schema,
    Table,
}

/// The names the filters allow; `None` is any name.
#[derive(Debug, Default)]
pub(crate) struct NameFilter {
    catalogs: Option<Vec<String>>,
    schemas: Option<Vec<String>>,
    tables: Option<Vec<String>>,
}

impl NameFilter {
    /// The names `filters` allow, `part_of` telling which part each column holds.
    pub(crate) fn from_filters(filters: &[Expr], part_of: fn(&str) -> Option<NamePart>) -> Self {
        let mut names = NameFilter::default();
        for filter in filters {
            names.collect(filter, part_of);
        }
        names
    }

    #[recursive::recursive]
    fn collect(&mut self, expr: &Expr, part_of: fn(&str) -> Option<NamePart>) {
        let (column, values) = match expr {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::And,
                right,
            }) => {
                self.collect(left, part_of);
                self.collect(right, part_of);
                return;
            }
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Eq,
                right,
            }) => match (left.as_ref(), right.as_ref()) {
                (Expr::Column(c), Expr::Literal(v, _)) | (Expr::Literal(v, _), Expr::Column(c)) => {
                    match string_value(v) {
                        Some(s) => (c, vec![s]),
                        None => return,
                    }
                }
                _ => return,
            },
            Expr::InList(InList {
                expr,
                list,
                negated: false,
            }) => match expr.as_ref() {
                Expr::Column(c) => {
                    let values: Option<Vec<String>> = list
                        .iter()
                        .map(|item| match item {
                            Expr::Literal(v, _) => string_value(v),
                            _ => None,
                        })
                        .collect();
                    match values {
                        Some(values) => (c, values),
                        None => return,
                    }
                }
                _ => return,
            },
            Expr::Like(Like {
                negated: false,
                expr,
                pattern,
                escape_char,
                case_insensitive: false,
            }) => match (expr.as_ref(), pattern.as_ref()) {
                (Expr::Column(c), Expr::Literal(v, _)) => {
                    match string_value(v).and_then(|p| literal_of_pattern(&p, *escape_char)) {
                        Some(s) => (c, vec![s]),
                        None => return,
                    }
                }
                _ => return,
            },
            _ => return,
        };
        let slot = match part_of(&column.name) {
            Some(NamePart::Catalog) => &mut self.catalogs,
            Some(NamePart::Schema) => &mut self.schemas,
            Some(NamePart::Table) => &mut self.tables,
            None => return,
        };
        // Two conditions on one column: only names both allow can match.
        *slot = Some(match slot.take() {
            Some(existing) => existing
                .into_iter()
                .filter(|n| values.contains(n))
                .collect(),
            None => values,
        });
    }

    /// Whether the filters allow the catalog `name`.
    pub(crate) fn catalog_matches(&self, name: &str) -> bool {
        allows(&self.catalogs, name)
    }

    /// Whether the filters allow the schema `name`.
    pub(crate) fn schema_matches(&self, name: &str) -> bool {
        allows(&self.schemas, name)
    }

    /// The table names the filters allow, if they name any.
    pub(crate) fn tables(&self) -> Option<&[String]> {
        self.tables.as_deref()
    }
}

fn allows(names: &Option<Vec<String>>, name: &str) -> bool {
    names.as_ref().is_none_or(|n| n.iter().any(|n| n == name))
}

fn string_value(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The string a LIKE pattern matches when it has no unescaped wildcard.
fn literal_of_pattern(pattern: &str, escape: Option<char>) -> Option<String> {
    let mut literal = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            literal.push(chars.next()?);
        } else if c == '%' || c == '_' {
            return None;
        } else {
            literal.push(c);
        }
    }
    Some(literal)
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::{col, in_list, lit};

    use super::*;

    fn part_of(column: &str) -> Option<NamePart> {
        match column {
            "cat" => Some(NamePart::Catalog),
            "schem" => Some(NamePart::Schema),
            "name" => Some(NamePart::Table),
            _ => None,
        }
    }

    #[test]
    fn like_patterns_without_wildcards_are_names() {
        assert_eq!(
            literal_of_pattern(r"my\_schema", Some('\\')),
            Some("my_schema".to_string())
        );
        assert_eq!(literal_of_pattern("t%", Some('\\')), None);
        assert_eq!(literal_of_pattern("a_b", None), None);
        assert_eq!(literal_of_pattern("plain", None), Some("plain".into()));
        assert_eq!(literal_of_pattern(r"ends\", Some('\\')), None);
    }

    #[test]
    fn equalities_lists_and_likes_narrow_the_names() {
        let filters = [
            col("cat").eq(lit("memory")),
            in_list(col("name"), vec![lit("a"), lit("b")], false).and(col("name").eq(lit("b"))),
            Expr::Like(Like::new(
                false,
                Box::new(col("schem")),
                Box::new(lit(r"s\_1")),
                Some('\\'),
                false,
            )),
            col("other").eq(lit("x")),
        ];
        let names = NameFilter::from_filters(&filters, part_of);
        assert!(names.catalog_matches("memory"));
        assert!(!names.catalog_matches("tpch"));
        assert!(names.schema_matches("s_1"));
        assert!(!names.schema_matches("sx1"));
        assert_eq!(names.tables(), Some(&["b".to_string()][..]));
    }

    #[test]
    fn other_filters_narrow_nothing() {
        let filters = [
            col("name").not_eq(lit("a")),
            in_list(col("name"), vec![lit("a")], true),
            col("cat").eq(lit("a")).or(col("cat").eq(lit("b"))),
            col("schem").like(lit("s%")),
        ];
        let names = NameFilter::from_filters(&filters, part_of);
        assert!(names.catalog_matches("anything"));
        assert!(names.schema_matches("anything"));
        assert_eq!(names.tables(), None);
    }
}
