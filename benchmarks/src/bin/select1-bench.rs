//! `select1-bench`: the protocol's fixed costs. Starts a Vivace server (embedded default
//! configuration) and measures time to ready, idle memory, `SELECT 1` latency with one client
//! and `SELECT 1` throughput with many concurrent clients.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use vivace_benchmarks::server::{ServerProcess, process_cpu_time};
use vivace_benchmarks::{BenchResult, Context, error, millis};
use vivace_client::{Client, ClientSession};

/// Measure SELECT 1 latency and throughput, start-up time and idle memory of a Vivace server.
#[derive(Debug, Parser)]
#[command(name = "select1-bench")]
struct Args {
    /// The `vivace` binary to start.
    #[arg(long, value_name = "PATH", default_value = "target/release/vivace")]
    server_bin: PathBuf,
    /// How long the throughput phase runs, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// Concurrent clients in the throughput phase.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    clients: u32,
    /// Sequential queries in the latency phase (at least 2000).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(2000..=10_000_000))]
    latency_queries: u32,
    /// Untimed queries before the latency phase.
    #[arg(long, default_value_t = 200)]
    warmup: u32,
}

/// Targets from the project's goals.
const TARGET_MEDIAN_MS: f64 = 2.0;
const TARGET_QPS: f64 = 2000.0;
const TARGET_RSS_MIB: f64 = 100.0;
const TARGET_READY_MS: f64 = 1000.0;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    vivace_benchmarks::run_until_interrupted("select1-bench", run(&args)).await
}

fn new_client(url: &str) -> BenchResult<Client> {
    Client::new(
        url,
        ClientSession {
            user: "bench".to_string(),
            ..ClientSession::default()
        },
    )
    .context("cannot create the client")
}

/// Runs `SELECT 1` and checks that it returns one row.
async fn select1(client: &Client) -> BenchResult<()> {
    let output = client
        .execute("SELECT 1")
        .await
        .context("SELECT 1 failed")?;
    if output.rows.len() == 1 {
        Ok(())
    } else {
        Err(error(format!(
            "SELECT 1 returned {} rows",
            output.rows.len()
        )))
    }
}

async fn run(args: &Args) -> BenchResult<()> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut server = ServerProcess::spawn(&args.server_bin, &[])?;
    let info_ready = server.wait_for_info(Duration::from_secs(30)).await?;
    let idle_rss_kib = server.rss_kib()?;

    // Ready to serve: the first SELECT 1 that succeeds.
    let client = new_client(server.url())?;
    let ready = loop {
        match select1(&client).await {
            Ok(()) => break server.since_spawn(),
            Err(e) if server.since_spawn() > Duration::from_secs(30) => {
                return Err(error(format!("{e}; log:\n{}", server.log_tail())));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    };

    for _ in 0..args.warmup {
        select1(&client).await?;
    }
    let mut latencies = Vec::with_capacity(args.latency_queries as usize);
    let latency_started = Instant::now();
    for _ in 0..args.latency_queries {
        let started = Instant::now();
        select1(&client).await?;
        latencies.push(started.elapsed());
    }
    let latency_wall = latency_started.elapsed();
    latencies.sort();

    let server_cpu_before = server.cpu_time()?;
    let client_cpu_before = process_cpu_time("/proc/self/stat")?;
    let throughput = throughput(
        server.url(),
        args.clients,
        Duration::from_secs(args.seconds),
    )
    .await?;
    let server_cpu = server.cpu_time()?.saturating_sub(server_cpu_before);
    let client_cpu = process_cpu_time("/proc/self/stat")?.saturating_sub(client_cpu_before);
    let loaded_rss_kib = server.rss_kib()?;

    let idle_rss_mib = idle_rss_kib as f64 / 1024.0;
    let median = millis(percentile(&latencies, 50.0));
    let p99 = millis(percentile(&latencies, 99.0));
    let qps = throughput.completed as f64 / throughput.elapsed.as_secs_f64();
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };

    println!(
        "select1-bench: server {}, {cores} cores (client and server share them)",
        args.server_bin.display()
    );
    println!();
    println!("| measure | result | target | |");
    println!("| --- | ---: | ---: | --- |");
    println!(
        "| /v1/info answers after spawn | {:.0} ms | | |",
        millis(info_ready)
    );
    println!(
        "| ready to serve (first SELECT 1 succeeds) after spawn | {:.0} ms | < {TARGET_READY_MS:.0} ms | {} |",
        millis(ready),
        verdict(millis(ready) < TARGET_READY_MS)
    );
    println!(
        "| idle RSS (VmRSS before any query) | {idle_rss_mib:.1} MiB | < {TARGET_RSS_MIB:.0} MB | {} |",
        verdict(idle_rss_mib < TARGET_RSS_MIB)
    );
    println!(
        "| SELECT 1 median, 1 client ({} queries) | {median:.2} ms | < {TARGET_MEDIAN_MS:.0} ms | {} |",
        latencies.len(),
        verdict(median < TARGET_MEDIAN_MS)
    );
    println!("| SELECT 1 p99, 1 client | {p99:.2} ms | | |");
    println!(
        "| SELECT 1 sequential rate, 1 client | {:.0} queries/s | | |",
        latencies.len() as f64 / latency_wall.as_secs_f64()
    );
    println!(
        "| SELECT 1 throughput, {} clients, {:.1} s | {qps:.0} queries/s | > {TARGET_QPS:.0} queries/s | {} |",
        args.clients,
        throughput.elapsed.as_secs_f64(),
        verdict(qps > TARGET_QPS)
    );
    println!(
        "| SELECT 1 median / p99 under load | {:.2} / {:.2} ms | | |",
        millis(percentile(&throughput.latencies, 50.0)),
        millis(percentile(&throughput.latencies, 99.0))
    );
    let per_query = |cpu: Duration| millis(cpu) * 1000.0 / (throughput.completed.max(1)) as f64;
    println!(
        "| CPU during the load: server / benchmark client | {:.1} / {:.1} core-s ({:.0} / {:.0} us per query) | | |",
        server_cpu.as_secs_f64(),
        client_cpu.as_secs_f64(),
        per_query(server_cpu),
        per_query(client_cpu)
    );
    println!(
        "| RSS after the load | {:.1} MiB | | |",
        loaded_rss_kib as f64 / 1024.0
    );
    if throughput.errors > 0 {
        println!();
        println!(
            "{} queries failed in the throughput phase; first error: {}",
            throughput.errors,
            throughput.first_error.unwrap_or_default()
        );
    }
    Ok(())
}

/// The outcome of the throughput phase.
struct Throughput {
    completed: u64,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// `clients` tasks, each with its own connection pool, run `SELECT 1` back to back until
/// `duration` has passed.
async fn throughput(url: &str, clients: u32, duration: Duration) -> BenchResult<Throughput> {
    let mut tasks = Vec::new();
    let started = Instant::now();
    let deadline = started + duration;
    for _ in 0..clients {
        let client = new_client(url)?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            while Instant::now() < deadline {
                let began = Instant::now();
                match select1(&client).await {
                    Ok(()) => latencies.push(began.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e.to_string());
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut result = Throughput {
        completed: 0,
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for task in tasks {
        let (latencies, errors, first_error) = task.await.context("a client task failed")?;
        result.completed += latencies.len() as u64;
        result.latencies.extend(latencies);
        result.errors += errors;
        if result.first_error.is_none() {
            result.first_error = first_error;
        }
    }
    result.elapsed = started.elapsed();
    result.latencies.sort();
    Ok(result)
}

/// The `p`th percentile (nearest rank) of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
