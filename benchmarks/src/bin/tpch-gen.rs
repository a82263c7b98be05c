//! `tpch-gen`: writes the eight TPC-H tables as Parquet files, `DIR/sf{scale}/{table}.parquet`,
//! with Trino's simplified column names (`orderkey`, not `l_orderkey`). Existing files are kept.

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use vivace_benchmarks::tpch::{TABLES, Table};
use vivace_benchmarks::{BenchResult, Context, error};

/// Generate TPC-H data as Parquet files for the benchmarks.
#[derive(Debug, Parser)]
#[command(name = "tpch-gen")]
struct Args {
    /// The TPC-H scale factor.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The output directory; files go to DIR/sf{scale}/{table}.parquet.
    #[arg(long, value_name = "DIR", default_value = "benchmarks/data")]
    out: PathBuf,
    /// The Parquet compression codec.
    #[arg(long, value_enum, default_value_t = Codec::Zstd)]
    compression: Codec,
    /// Generator threads (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// Parquet compression codecs.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Codec {
    /// Zstandard, level 1.
    Zstd,
    /// Snappy.
    Snappy,
    /// No compression.
    None,
}

fn main() -> std::process::ExitCode {
    match run(&Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tpch-gen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> BenchResult<()> {
    if !(args.scale.is_finite() && args.scale > 0.0) {
        return Err(error(format!(
            "--scale must be positive, got {}",
            args.scale
        )));
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let compression = match args.compression {
        Codec::Zstd => Compression::ZSTD(ZstdLevel::default()),
        Codec::Snappy => Compression::SNAPPY,
        Codec::None => Compression::UNCOMPRESSED,
    };
    let started = Instant::now();
    for table in TABLES {
        let path = table.parquet_path(&args.out, args.scale);
        if path.exists() {
            println!("{:<10} exists, skipped ({})", table.name, path.display());
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .context(format!("cannot create {}", parent.display()))?;
        }
        let table_started = Instant::now();
        let rows = write_table(table, args.scale, threads, compression, &path)?;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!(
            "{:<10} {:>10} rows {:>9.1} MiB {:>7.1} s  {}",
            table.name,
            rows,
            bytes as f64 / (1024.0 * 1024.0),
            table_started.elapsed().as_secs_f64(),
            path.display()
        );
    }
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Generates `table` in parallel parts and writes it to `path` (through a temporary file, so
/// an interrupted run never leaves a partial table behind). Returns the row count.
fn write_table(
    table: Table,
    scale: f64,
    threads: usize,
    compression: Compression,
    path: &Path,
) -> BenchResult<usize> {
    let parts = if table.is_fixed_size() { 1 } else { threads };
    let parts_i32 = i32::try_from(parts).context("too many threads")?;
    let schema = table.simplified_schema(table.generator(scale, 1, parts_i32).schema());
    let temporary = path.with_extension("parquet.tmp");
    let file = std::fs::File::create(&temporary)
        .context(format!("cannot create {}", temporary.display()))?;
    let properties = WriterProperties::builder()
        .set_compression(compression)
        .build();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))
        .context(format!("cannot start writing {}", temporary.display()))?;

    // Generators run on their own threads; batches arrive in any part order.
    let (sender, receiver) = sync_channel::<RecordBatch>(parts * 2);
    let mut rows = 0;
    let written: BenchResult<()> = std::thread::scope(|scope| {
        for part in 1..=parts_i32 {
            let sender = sender.clone();
            scope.spawn(move || {
                for batch in table.generator(scale, part, parts_i32) {
                    if sender.send(batch).is_err() {
                        break; // The writer failed and stopped listening.
                    }
                }
            });
        }
        drop(sender);
        for batch in receiver {
            let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
                .context(format!("cannot rename the columns of {}", table.name))?;
            rows += batch.num_rows();
            writer
                .write(&batch)
                .context(format!("cannot write {}", temporary.display()))?;
        }
        Ok(())
    });
    let closed = written.and_then(|()| {
        writer
            .close()
            .map(|_| ())
            .context(format!("cannot finish {}", temporary.display()))
    });
    if let Err(e) = closed {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    std::fs::rename(&temporary, path).context(format!(
        "cannot rename {} to {}",
        temporary.display(),
        path.display()
    ))?;
    Ok(rows)
}
