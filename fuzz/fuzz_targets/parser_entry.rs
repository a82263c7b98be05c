//! The path of a query to the planner: recognition, then the front end's `parse_sql` (token
//! rewrites, parsing with the Trino dialect under the recursion limit, the AST checks and
//! rewrites to Trino's semantics), and `check_syntax` as `PREPARE` uses it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vivace_sql::parse;
use vivace_sql::statement::{self, Statement};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::on_query_thread(data, |sql, limits| {
        let Ok(Statement::Sql(text)) = statement::parse(sql) else {
            return;
        };
        let limit = limits.parser_recursion_limit();
        let _ = parse::parse_sql(&text, limit);
        let _ = parse::check_syntax(&text, limit);
    });
});
