//! The path of a query to the planner: recognition, token rewrites, parsing with the Trino
//! dialect under the recursion limit, then the AST rewrites to Trino's semantics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqlparser::parser::Parser;
use vivace_sql::statement::{self, Statement};
use vivace_sql::{TrinoDialect, rewrite, trino_sql};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::on_query_thread(data, |sql, limits| {
        let Ok(Statement::Sql(text)) = statement::parse(sql) else {
            return;
        };
        let rewritten = trino_sql::rewrite(&text);
        let parsed = Parser::new(&TrinoDialect)
            .with_recursion_limit(limits.parser_recursion_limit())
            .try_with_sql(&rewritten)
            .and_then(|mut parser| parser.parse_statements());
        let Ok(statements) = parsed else {
            return;
        };
        for mut statement in statements {
            let _ = rewrite::inspect_statement(&statement);
            let _ = rewrite::aliased_columns(&statement);
            let _ = rewrite::rewrite_statement(&mut statement);
        }
    });
});
