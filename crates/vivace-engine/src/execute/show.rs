//! `SHOW` statements: most become SQL over the metadata tables, so they list what a query
//! would see.

use serde_json::Value;
use vivace_protocol::TrinoType;

use crate::error::{EngineResult, find_word};
use crate::session_properties::{self};
use crate::show_functions;
use vivace_sql::LikeMatcher;
use vivace_sql::quote::{quote_ident, quote_literal};
use vivace_sql::statement::Like;

use super::{Completion, Execution};

impl Execution {
    /// `SHOW CATALOGS [LIKE p]`, as SQL over `system.metadata.catalogs`.
    pub(super) async fn show_catalogs(&self, like: Option<&Like>) -> EngineResult<Completion> {
        let sql = format!(
            "SELECT catalog_name AS \"Catalog\" FROM system.metadata.catalogs{} ORDER BY 1",
            like_clause("WHERE", "catalog_name", like)
        );
        self.sql(&sql, false).await
    }

    /// `SHOW SCHEMAS [FROM c] [LIKE p]`, as SQL over `information_schema.schemata`.
    pub(super) async fn show_schemas(
        &self,
        catalog: Option<String>,
        like: Option<&Like>,
    ) -> EngineResult<Completion> {
        let catalog = self.catalog_or_session(catalog)?;
        let sql = format!(
            "SELECT schema_name AS \"Schema\" FROM {}.information_schema.schemata{} ORDER BY 1",
            quote_ident(&catalog),
            like_clause("WHERE", "schema_name", like)
        );
        self.sql(&sql, false).await
    }

    /// `SHOW TABLES [FROM [c.]s] [LIKE p]`, as SQL over `information_schema.tables`.
    pub(super) async fn show_tables(
        &self,
        qualifier: &[String],
        like: Option<&Like>,
    ) -> EngineResult<Completion> {
        let (catalog, schema) = self.resolve_schema(qualifier)?;
        let sql = format!(
            "SELECT table_name AS \"Table\" FROM {}.information_schema.tables WHERE table_schema = {}{} ORDER BY 1",
            quote_ident(&catalog),
            quote_literal(&schema),
            like_clause("AND", "table_name", like)
        );
        self.sql(&sql, false).await
    }

    /// `SHOW COLUMNS FROM t` and `DESCRIBE t`, as SQL over `information_schema.columns`.
    pub(super) async fn show_columns(
        &self,
        table: &[String],
        sql: &str,
    ) -> EngineResult<Completion> {
        let location = table.first().and_then(|p| find_word(sql, p));
        let (catalog, schema, name) = self.resolve_table(table, location)?;
        let sql = format!(
            "SELECT column_name AS \"Column\", data_type AS \"Type\", \
             coalesce(extra_info, '') AS \"Extra\", coalesce(comment, '') AS \"Comment\" \
             FROM {}.information_schema.columns WHERE table_schema = {} AND table_name = {} \
             ORDER BY ordinal_position",
            quote_ident(&catalog),
            quote_literal(&schema),
            quote_literal(&name)
        );
        self.sql(&sql, false).await
    }

    /// `SHOW FUNCTIONS [LIKE p]`.
    pub(super) async fn show_functions(&self, like: Option<&Like>) -> EngineResult<Completion> {
        let rows = show_functions::function_rows(self.engine.contexts.base_state(), like)
            .iter()
            .map(show_functions::FunctionRow::values)
            .collect();
        let varchar = || TrinoType::VARCHAR;
        self.values(
            &[
                ("Function", varchar()),
                ("Return Type", varchar()),
                ("Argument Types", varchar()),
                ("Function Type", varchar()),
                ("Deterministic", TrinoType::Boolean),
                ("Description", varchar()),
            ],
            rows,
        )
        .await
    }

    pub(super) async fn show_session(&self, like: Option<&Like>) -> EngineResult<Completion> {
        let matcher = like.map(|l| LikeMatcher::new(&l.pattern, l.escape.as_deref()));
        let rows = session_properties::system_properties(&self.engine.config)
            .into_iter()
            .filter(|p| matcher.as_ref().is_none_or(|m| m.matches(p.name)))
            .map(|p| {
                let value = self
                    .session()
                    .properties
                    .get(p.name)
                    .cloned()
                    .unwrap_or_else(|| p.default.clone());
                vec![
                    Value::from(p.name),
                    Value::from(value),
                    Value::from(p.default),
                    Value::from(p.type_name),
                    Value::from(p.description),
                ]
            })
            .collect();
        let varchar = || TrinoType::VARCHAR;
        self.values(
            &[
                ("Name", varchar()),
                ("Value", varchar()),
                ("Default", varchar()),
                ("Type", varchar()),
                ("Description", varchar()),
            ],
            rows,
        )
        .await
    }
}

pub(super) fn like_clause(keyword: &str, column: &str, like: Option<&Like>) -> String {
    match like {
        None => String::new(),
        Some(like) => {
            let escape = like
                .escape
                .as_ref()
                .map(|e| format!(" ESCAPE {}", quote_literal(e)))
                .unwrap_or_default();
            format!(
                " {keyword} {column} LIKE {}{escape}",
                quote_literal(&like.pattern)
            )
        }
    }
}
