//! Statement recognition on the token stream, and `EXECUTE ... USING` parameter binding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vivace_sql::statement::{self, Statement};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::on_query_thread(data, |sql, _limits| {
        let recognised = statement::parse(sql);
        if let Ok(Statement::Prepare { sql: body, .. }) = &recognised {
            // EXECUTE binds parameters into the prepared text: try it with as many as it asks for.
            if let Ok(count) = statement::parameter_count(body) {
                let parameters = vec!["'x'".to_string(); count.min(64)];
                let _ = statement::bind_parameters(body, &parameters);
            }
        }
        if let Ok(count) = statement::parameter_count(sql) {
            let _ = statement::bind_parameters(sql, &vec!["NULL".to_string(); count.min(64)]);
        }
    });
});
