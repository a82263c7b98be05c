//! The token rewrites of Trino-only syntax, and the check for syntax Trino rejects.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vivace_sql::trino_sql;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::on_query_thread(data, |sql, _limits| {
        let rewritten = trino_sql::rewrite(sql);
        // Rewriting twice must not fail either: rewritten text is plain SQL again.
        let _ = trino_sql::rewrite(&rewritten);
        let _ = trino_sql::unsupported_syntax(sql);
    });
});
