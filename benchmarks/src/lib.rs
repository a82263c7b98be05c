//! Shared pieces of the Vivace benchmarks: a small error type, a server process that is killed
//! when dropped, and the TPC-H table and query lists.

use std::fmt;

pub mod server;
pub mod tpch;

/// A benchmark error: one message with its context.
#[derive(Debug)]
pub struct BenchError(pub String);

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

/// Results of the benchmarks.
pub type BenchResult<T> = Result<T, BenchError>;

/// Adds context to any displayable error.
pub trait Context<T> {
    /// Wraps the error as `"{context}: {error}"`.
    fn context(self, context: impl fmt::Display) -> BenchResult<T>;
}

impl<T, E: fmt::Display> Context<T> for Result<T, E> {
    fn context(self, context: impl fmt::Display) -> BenchResult<T> {
        self.map_err(|e| BenchError(format!("{context}: {e}")))
    }
}

/// Builds a [`BenchError`] from a message.
pub fn error(message: impl Into<String>) -> BenchError {
    BenchError(message.into())
}

/// Milliseconds of a duration, with fractions.
pub fn millis(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs a benchmark's body until it finishes or Ctrl-C arrives (dropping the body kills any
/// server it started), printing errors as `NAME: error` and mapping them to a failing exit.
pub async fn run_until_interrupted(
    name: &str,
    body: impl Future<Output = BenchResult<()>>,
) -> std::process::ExitCode {
    let result = tokio::select! {
        result = body => result,
        _ = tokio::signal::ctrl_c() => Err(error("interrupted")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
