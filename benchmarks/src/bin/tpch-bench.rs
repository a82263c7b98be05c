//! `tpch-bench`: runs the 22 TPC-H queries in-process on DataFusion and through a Vivace server
//! (filesystem catalog over the same Parquet files, Trino protocol via `vivace-client`), and
//! compares the best-of-N wall times.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use vivace_benchmarks::server::ServerProcess;
use vivace_benchmarks::tpch::{QUERIES, Query, TABLES, schema_name};
use vivace_benchmarks::{BenchResult, Context, error, millis};
use vivace_client::{Client, ClientSession};

/// Compare TPC-H query times in-process and through the Vivace server.
#[derive(Debug, Parser)]
#[command(name = "tpch-bench")]
struct Args {
    /// The directory `tpch-gen` wrote (holding `sf{scale}/`).
    #[arg(long, value_name = "DIR", default_value = "benchmarks/data")]
    data: PathBuf,
    /// The `vivace` binary to start.
    #[arg(long, value_name = "PATH", default_value = "target/release/vivace")]
    server_bin: PathBuf,
    /// The TPC-H scale factor of the data.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Runs of each query on each side; the fastest counts.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    iterations: u32,
    /// The queries to run, as in `1,3,18` (default: all 22).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..=22))]
    queries: Vec<u32>,
    /// Enable Parquet filter pushdown in the in-process context too (the server enables it);
    /// by default the in-process side uses DataFusion's defaults.
    #[arg(long)]
    pushdown_filters: bool,
    /// The longest one run of a query may take, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

/// One side's outcome for one query: best time and row count, or why it failed.
type Outcome = Result<(Duration, usize), String>;

/// The outcomes of one query.
struct Row {
    query: Query,
    in_process: Outcome,
    server: Outcome,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    vivace_benchmarks::run_until_interrupted("tpch-bench", run(&args)).await
}

async fn run(args: &Args) -> BenchResult<()> {
    let data = std::path::absolute(&args.data)
        .context(format!("cannot resolve {}", args.data.display()))?;
    let schema = schema_name(args.scale);
    let queries: Vec<Query> = QUERIES
        .into_iter()
        .filter(|q| args.queries.is_empty() || args.queries.iter().any(|&n| n as usize == q.number))
        .collect();
    let timeout = Duration::from_secs(args.timeout);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

    let ctx = in_process_context(&data, args.scale, cores, args.pushdown_filters).await?;

    let mut server = ServerProcess::spawn(
        &args.server_bin,
        &[(
            "lake",
            format!(
                "connector.name=filesystem\nfilesystem.root={}\n",
                data.display()
            ),
        )],
    )?;
    server.wait_for_info(Duration::from_secs(30)).await?;
    let client = Client::new(
        server.url(),
        ClientSession {
            user: "bench".to_string(),
            catalog: Some("lake".to_string()),
            schema: Some(schema.clone()),
            ..ClientSession::default()
        },
    )
    .context("cannot create the client")?;
    client.execute("SELECT 1").await.context(format!(
        "the server does not answer SELECT 1; log:\n{}",
        server.log_tail()
    ))?;

    println!(
        "TPC-H {schema}: {} queries, best of {} runs, {cores} cores; in-process DataFusion \
         (target_partitions = {cores}, parquet pushdown_filters = {}) vs vivace server at {}",
        queries.len(),
        args.iterations,
        args.pushdown_filters,
        server.url()
    );
    let mut rows = Vec::new();
    for query in queries {
        let sql = query.text();
        let in_process = best_of(args.iterations, timeout, || async {
            let batches = ctx
                .sql(sql)
                .await
                .map_err(|e| e.to_string())?
                .collect()
                .await
                .map_err(|e| e.to_string())?;
            Ok(batches.iter().map(|b| b.num_rows()).sum())
        })
        .await;
        let server_outcome = best_of(args.iterations, timeout, || async {
            let output = client.execute(sql).await.map_err(|e| e.to_string())?;
            Ok(output.rows.len())
        })
        .await;
        let row = Row {
            query,
            in_process,
            server: server_outcome,
        };
        eprintln!(
            "Q{:02}: in-process {}, server {}",
            query.number,
            describe(&row.in_process),
            describe(&row.server)
        );
        rows.push(row);
    }
    print_report(&rows, args.scale);
    Ok(())
}

/// A DataFusion context with default options (but `target_partitions` = cores, and optionally
/// Parquet filter pushdown) and the eight tables registered from their Parquet files.
async fn in_process_context(
    data: &Path,
    scale: f64,
    cores: usize,
    pushdown_filters: bool,
) -> BenchResult<SessionContext> {
    let mut config = SessionConfig::new().with_target_partitions(cores);
    if pushdown_filters {
        let options = config.options_mut();
        options.execution.parquet.pushdown_filters = true;
        options.execution.parquet.reorder_filters = true;
    }
    let ctx = SessionContext::new_with_config(config);
    for table in TABLES {
        let path = table.parquet_path(data, scale);
        if !path.exists() {
            return Err(error(format!(
                "{} is missing; run tpch-gen --scale {scale} --out {} first",
                path.display(),
                data.display()
            )));
        }
        let location = path
            .to_str()
            .ok_or_else(|| error(format!("{} is not valid UTF-8", path.display())))?;
        ctx.register_parquet(table.name, location, ParquetReadOptions::default())
            .await
            .context(format!("cannot register {}", path.display()))?;
    }
    Ok(ctx)
}

/// Runs `run` `iterations` times and keeps the fastest; stops at the first failure. Every run
/// must return the same row count.
async fn best_of<F, Fut>(iterations: u32, timeout: Duration, run: F) -> Outcome
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<usize, String>>,
{
    let mut best: Option<(Duration, usize)> = None;
    for _ in 0..iterations {
        let started = Instant::now();
        let rows = match tokio::time::timeout(timeout, run()).await {
            Ok(result) => result?,
            Err(_) => return Err(format!("timed out after {timeout:?}")),
        };
        let elapsed = started.elapsed();
        best = match best {
            Some((_, previous)) if previous != rows => {
                return Err(format!(
                    "row count changed between runs: {previous} then {rows}"
                ));
            }
            Some((fastest, _)) if fastest <= elapsed => best,
            _ => Some((elapsed, rows)),
        };
    }
    best.ok_or_else(|| "no runs".to_string())
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Ok((time, rows)) => format!("{:.1} ms ({rows} rows)", millis(*time)),
        Err(e) => format!("FAILED: {e}"),
    }
}

/// Prints the results as a Markdown table, then the totals over the queries that succeeded on
/// both sides with the same row count.
fn print_report(rows: &[Row], scale: f64) {
    println!();
    println!("| query | in-process ms | server ms | ratio | rows | note |");
    println!("| --- | ---: | ---: | ---: | ---: | --- |");
    let mut total_in_process = Duration::ZERO;
    let mut total_server = Duration::ZERO;
    let mut excluded = Vec::new();
    let mut failures = Vec::new();
    for row in rows {
        let number = row.query.number;
        let cell = |outcome: &Outcome| match outcome {
            Ok((time, _)) => format!("{:.1}", millis(*time)),
            Err(_) => "FAILED".to_string(),
        };
        let (ratio, rows_cell, note) = match (&row.in_process, &row.server) {
            (Ok((local, local_rows)), Ok((remote, remote_rows))) if local_rows == remote_rows => {
                total_in_process += *local;
                total_server += *remote;
                let note = if scale == 1.0 && *local_rows != row.query.sf1_rows {
                    format!("expected {} rows at SF1", row.query.sf1_rows)
                } else {
                    String::new()
                };
                (
                    format!("{:.2}", remote.as_secs_f64() / local.as_secs_f64()),
                    local_rows.to_string(),
                    note,
                )
            }
            (Ok((_, local_rows)), Ok((_, remote_rows))) => {
                excluded.push(number);
                (
                    "-".to_string(),
                    format!("{local_rows} / {remote_rows}"),
                    "row counts differ (excluded)".to_string(),
                )
            }
            (local, remote) => {
                excluded.push(number);
                for (side, outcome) in [("in-process", local), ("server", remote)] {
                    if let Err(e) = outcome {
                        failures.push(format!("Q{number:02} {side}: {e}"));
                    }
                }
                (
                    "-".to_string(),
                    "-".to_string(),
                    "failed (excluded)".to_string(),
                )
            }
        };
        println!(
            "| Q{number:02} | {} | {} | {ratio} | {rows_cell} | {note} |",
            cell(&row.in_process),
            cell(&row.server)
        );
    }
    let ratio = if total_in_process.is_zero() {
        "-".to_string()
    } else {
        format!(
            "{:.2}",
            total_server.as_secs_f64() / total_in_process.as_secs_f64()
        )
    };
    println!(
        "| **total** | **{:.1}** | **{:.1}** | **{ratio}** | | {} of {} queries |",
        millis(total_in_process),
        millis(total_server),
        rows.len() - excluded.len(),
        rows.len()
    );
    if !excluded.is_empty() {
        let list: Vec<String> = excluded.iter().map(|n| format!("Q{n:02}")).collect();
        println!();
        println!("Excluded from the totals: {}.", list.join(", "));
    }
    for failure in failures {
        println!("- {failure}");
    }
}
