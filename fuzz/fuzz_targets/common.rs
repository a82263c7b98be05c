//! What every SQL target shares: the engine's order of checks, on a thread with the engine's
//! stack size, so that the fuzzer meets exactly what a query thread would.

use vivace_sql::SqlLimits;
use vivace_sql::limits::QUERY_THREAD_STACK_SIZE;

/// Runs `check` on `sql` as a query thread would, after the limits accepted the text.
pub fn on_query_thread(data: &[u8], check: fn(&str, &SqlLimits)) {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let limits = SqlLimits::default();
    if limits.check(sql).is_err() {
        return;
    }
    let sql = sql.to_string();
    let worker = std::thread::Builder::new()
        .stack_size(QUERY_THREAD_STACK_SIZE)
        .spawn(move || check(&sql, &limits));
    match worker {
        // A panic on the thread is a finding: re-raise it where libFuzzer sees it.
        Ok(handle) => {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(error) => panic!("cannot start a query thread: {error}"),
    }
}
