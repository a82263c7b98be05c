//! Running one statement: submit it, page through it with a progress line, print its rows
//! or update count, and report its failure. Shared by batch and interactive mode.

use std::io::Write;
use std::pin::pin;
use std::time::{Duration, Instant};

use serde_json::Value;
use vivace_client::{Client, ClientError, Statement};
use vivace_protocol::{Column, FailureInfo, StatementStats};

use crate::format::OutputFormat;
use crate::{pager, progress, terminal};

/// How results and progress are shown.
#[derive(Debug, Clone)]
pub struct Display {
    /// Interactive mode: results are gathered and shown through the pager; final statistics
    /// follow every query.
    pub interactive: bool,
    /// Show progress (a live line on a terminal, final statistics at the end).
    pub progress: bool,
    /// Add query ids, info URIs and stack traces.
    pub debug: bool,
    /// The pager for interactive results, when stdout is a terminal.
    pub pager: Option<String>,
}

/// How a statement ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It finished and its output was printed.
    Finished,
    /// It failed; the failure was printed.
    Failed,
    /// The user pressed Ctrl-C and the query was cancelled.
    Aborted,
}

/// Runs `sql` on `client`, printing as `display` says, and applies the session changes it
/// asked for (`USE`, `SET SESSION`, ...) to the client.
pub async fn run(
    client: &mut Client,
    sql: &str,
    format: OutputFormat,
    display: &Display,
) -> Outcome {
    let started = Instant::now();
    let mut live = LiveLine::new(display);
    let result = {
        let submitted = client.submit(sql).await;
        match submitted {
            Ok(statement) => follow(statement, format, display, &mut live, started).await,
            Err(error) => Err(error),
        }
    };
    live.clear();
    match result {
        Ok((outcome, update)) => {
            client.session.apply(&update);
            outcome
        }
        Err(error) => {
            report(&error, display.debug);
            Outcome::Failed
        }
    }
}

/// Pages through a submitted statement to its end, or until Ctrl-C.
async fn follow(
    mut statement: Statement<'_>,
    format: OutputFormat,
    display: &Display,
    live: &mut LiveLine,
    started: Instant,
) -> Result<(Outcome, vivace_client::SessionUpdate), ClientError> {
    let mut output = Output::new(format, !display.interactive && format.streams());
    let tick = Duration::from_millis(500);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + tick, tick);
    let mut ctrl_c = pin!(tokio::signal::ctrl_c());
    loop {
        let rows = statement.take_rows();
        if let Some(columns) = statement.columns()
            && statement.update_type().is_none()
        {
            output.push(columns, rows, live);
        }
        statement.check()?;
        if !statement.has_next() {
            break;
        }
        let stats = statement.stats().clone();
        let id = statement.id().to_string();
        let interrupted = {
            let mut advance = pin!(statement.advance());
            loop {
                tokio::select! {
                    result = &mut advance => {
                        result?;
                        break false;
                    }
                    _ = ticker.tick() => live.draw(&stats, &id, started.elapsed()),
                    _ = &mut ctrl_c => break true,
                }
            }
        };
        if interrupted {
            live.clear();
            let _ = statement.cancel().await;
            eprintln!("Query aborted by user");
            return Ok((Outcome::Aborted, statement.session_update().clone()));
        }
    }
    live.clear();
    for warning in statement.warnings() {
        eprintln!("WARNING: {}", warning.message);
    }
    if let Some(update_type) = statement.update_type() {
        match statement.update_count() {
            Some(1) => eprintln!("{update_type}: 1 row"),
            Some(n) => eprintln!("{update_type}: {n} rows"),
            None => eprintln!("{update_type}"),
        }
    } else if let Some(text) = output.finish(statement.columns()) {
        let pager = display
            .pager
            .as_deref()
            .filter(|_| terminal::stdout_is_terminal());
        pager::show(&text, pager);
    }
    if display.interactive || display.progress {
        eprint!(
            "{}",
            progress::final_info(
                statement.stats(),
                statement.id(),
                statement.info_uri(),
                started.elapsed(),
                display.debug
            )
        );
    }
    Ok((Outcome::Finished, statement.session_update().clone()))
}

/// Prints a failure: `Query <id> failed: <message>` for a query, else `Error running
/// command: <reason>`; with `--debug`, the server's stack trace too.
pub fn report(error: &ClientError, debug: bool) {
    match error {
        ClientError::Query { query_id, error } => {
            eprintln!("Query {query_id} failed: {}", error.message);
            if debug && let Some(failure) = &error.failure_info {
                eprint!("{}", stack_text(failure));
            }
        }
        other => eprintln!("Error running command: {other}"),
    }
}

/// A failure and its causes, as Java prints a stack trace.
fn stack_text(failure: &FailureInfo) -> String {
    let mut out = String::new();
    let mut current = Some(failure);
    let mut first = true;
    while let Some(info) = current {
        let prefix = if first { "" } else { "Caused by: " };
        first = false;
        match &info.message {
            Some(message) => out.push_str(&format!("{prefix}{}: {message}\n", info.type_name)),
            None => out.push_str(&format!("{prefix}{}\n", info.type_name)),
        }
        for frame in &info.stack {
            out.push_str(&format!("\tat {frame}\n"));
        }
        current = info.cause.as_deref();
    }
    out
}

/// Where rows go: written page by page (batch mode, streaming formats), or gathered for
/// one rendering at the end.
struct Output {
    format: OutputFormat,
    streaming: bool,
    header_written: bool,
    rows: Vec<Vec<Value>>,
    broken: bool,
}

impl Output {
    fn new(format: OutputFormat, streaming: bool) -> Self {
        Output {
            format,
            streaming,
            header_written: false,
            rows: Vec::new(),
            broken: false,
        }
    }

    fn push(&mut self, columns: &[Column], rows: Vec<Vec<Value>>, live: &mut LiveLine) {
        if !self.streaming {
            self.rows.extend(rows);
            return;
        }
        if self.header_written && rows.is_empty() {
            return;
        }
        let text = self
            .format
            .render_page(columns, &rows, !self.header_written);
        self.header_written = true;
        live.clear();
        self.write(&text);
    }

    /// Writes to stdout; once the reader has gone (`| head`), the rest is dropped quietly.
    fn write(&mut self, text: &str) {
        if self.broken || text.is_empty() {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            self.broken = true;
        }
    }

    /// The gathered result's text; `None` when it was streamed.
    fn finish(mut self, columns: Option<&[Column]>) -> Option<String> {
        if self.streaming {
            if !self.header_written
                && let Some(columns) = columns
            {
                let text = self.format.render_page(columns, &[], true);
                self.write(&text);
            }
            return None;
        }
        let columns = columns?;
        Some(self.format.render(columns, &self.rows))
    }
}

/// The live progress line on stderr, when progress is on and stderr is a terminal.
struct LiveLine {
    enabled: bool,
    debug: bool,
    drawn: bool,
    ticks: u64,
}

impl LiveLine {
    fn new(display: &Display) -> Self {
        LiveLine {
            enabled: (display.interactive || display.progress) && terminal::stderr_is_terminal(),
            debug: display.debug,
            drawn: false,
            ticks: 0,
        }
    }

    fn draw(&mut self, stats: &StatementStats, query_id: &str, elapsed: Duration) {
        if !self.enabled {
            return;
        }
        self.ticks += 1;
        let width = terminal::stderr_width().saturating_sub(1);
        let id = self.debug.then_some(query_id);
        let text = progress::line(stats, id, elapsed, width, self.ticks);
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r{text}\x1b[K");
        let _ = stderr.flush();
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
            self.drawn = false;
        }
    }
}
