//! Tab completion in interactive mode: SQL keywords, and the catalogs, schemas and tables
//! of the current session, fetched in the background.

use std::sync::{Arc, Mutex};

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use vivace_client::Client;

/// Keywords offered by completion.
const KEYWORDS: &[&str] = &[
    "ALL",
    "ALTER",
    "ANALYZE",
    "AND",
    "ARRAY",
    "AS",
    "ASC",
    "BETWEEN",
    "BIGINT",
    "BOOLEAN",
    "BY",
    "CALL",
    "CASE",
    "CAST",
    "CATALOGS",
    "COLUMN",
    "COLUMNS",
    "COMMENT",
    "COMMIT",
    "CREATE",
    "CROSS",
    "CURRENT_DATE",
    "CURRENT_TIMESTAMP",
    "DATE",
    "DEALLOCATE",
    "DECIMAL",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "DOUBLE",
    "DROP",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXECUTE",
    "EXISTS",
    "EXPLAIN",
    "EXTRACT",
    "FALSE",
    "FETCH",
    "FIRST",
    "FROM",
    "FULL",
    "FUNCTIONS",
    "GROUP",
    "HAVING",
    "IF",
    "IN",
    "INNER",
    "INSERT",
    "INTEGER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MAP",
    "NOT",
    "NULL",
    "NULLS",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "PREPARE",
    "REAL",
    "RENAME",
    "REPLACE",
    "RESET",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SCHEMA",
    "SCHEMAS",
    "SELECT",
    "SESSION",
    "SET",
    "SHOW",
    "SMALLINT",
    "START",
    "TABLE",
    "TABLES",
    "THEN",
    "TIMESTAMP",
    "TINYINT",
    "TRANSACTION",
    "TRUE",
    "TRY_CAST",
    "UNION",
    "UNNEST",
    "UPDATE",
    "USE",
    "USING",
    "VALUES",
    "VARCHAR",
    "VIEW",
    "WHEN",
    "WHERE",
    "WITH",
];

/// Names the completion offers besides keywords; refreshed after `USE`.
pub type Names = Arc<Mutex<Vec<String>>>;

/// The line editor's helper: completion only (no hints, colours or validation).
pub struct SqlHelper {
    names: Names,
}

impl SqlHelper {
    /// A helper completing from `names`.
    pub fn new(names: Names) -> Self {
        SqlHelper { names }
    }
}

/// Where the word being completed starts.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphanumeric() || c == '_' || c == '.')
        .last()
        .map_or(pos, |(at, _)| at)
}

/// The candidates for `word`: keywords in the case the user types, then names.
fn candidates(word: &str, names: &[String]) -> Vec<String> {
    if word.is_empty() {
        return Vec::new();
    }
    let lower_case = word.chars().all(|c| !c.is_uppercase());
    let wanted = word.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    if !word.contains('.') {
        for keyword in KEYWORDS {
            if keyword.to_lowercase().starts_with(&wanted) {
                out.push(if lower_case {
                    keyword.to_lowercase()
                } else {
                    (*keyword).to_string()
                });
            }
        }
    }
    for name in names {
        if name.to_lowercase().starts_with(&wanted) && !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

impl Completer for SqlHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let start = word_start(line, pos);
        let names = match self.names.lock() {
            Ok(names) => names.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        Ok((start, candidates(&line[start..pos], &names)))
    }
}

impl Hinter for SqlHelper {
    type Hint = String;
}

impl Highlighter for SqlHelper {}

impl Validator for SqlHelper {}

impl Helper for SqlHelper {}

/// Fetches the catalogs, the current catalog's schemas, the current schema's tables and the
/// server's functions into `names`. A statement that fails (an older server without `SHOW
/// FUNCTIONS`, say) only leaves its names out: completion is a convenience.
pub async fn refresh(client: Client, names: Names) {
    let mut found = Vec::new();
    let column = |sql: String| {
        let client = &client;
        async move {
            client
                .execute(&sql)
                .await
                .map(|output| {
                    output
                        .rows
                        .into_iter()
                        .filter_map(|row| row.first().and_then(|v| v.as_str()).map(str::to_string))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    found.extend(column("SHOW CATALOGS".to_string()).await);
    if let Some(catalog) = client.session.catalog.clone() {
        let schemas = column(format!("SHOW SCHEMAS FROM {}", quote(&catalog))).await;
        for schema in &schemas {
            found.push(format!("{catalog}.{schema}"));
        }
        found.extend(schemas);
        if let Some(schema) = client.session.schema.clone() {
            let tables = column(format!(
                "SHOW TABLES FROM {}.{}",
                quote(&catalog),
                quote(&schema)
            ))
            .await;
            for table in &tables {
                found.push(format!("{schema}.{table}"));
            }
            found.extend(tables);
        }
    }
    found.extend(column("SHOW FUNCTIONS".to_string()).await);
    found.sort();
    found.dedup();
    match names.lock() {
        Ok(mut names) => *names = found,
        Err(poisoned) => *poisoned.into_inner() = found,
    }
}

/// A quoted SQL identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_start_after_spaces_and_punctuation() {
        assert_eq!(word_start("SELECT * FROM tpch.ti", 21), 14);
        assert_eq!(word_start("sel", 3), 0);
        assert_eq!(word_start("SELECT (", 8), 8);
    }

    #[test]
    fn keywords_follow_the_typed_case_and_names_follow_keywords() {
        let names = vec![
            "tpch".to_string(),
            "tpch.tiny".to_string(),
            "nation".to_string(),
        ];
        assert_eq!(candidates("sel", &names), vec!["select"]);
        assert_eq!(candidates("SEL", &names), vec!["SELECT"]);
        assert_eq!(candidates("tp", &names), vec!["tpch", "tpch.tiny"]);
        assert_eq!(candidates("tpch.t", &names), vec!["tpch.tiny"]);
        assert_eq!(candidates("na", &names), vec!["nation"]);
        assert!(candidates("", &names).is_empty());
    }
}
