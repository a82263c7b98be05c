//! Runs every `tests/slt/**/*.slt` file against a real `vivace server` process through the
//! client protocol.
//!
//! Every file runs in two modes: `single` (one node) and `cluster` (a coordinator that runs no
//! tasks, `node-scheduler.include-coordinator=false`, and two workers on 127.0.0.2 and
//! 127.0.0.3, with tpch scans spread over both workers).

mod support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};
use support::nodes::{self, Node};
use support::{ServerProcess, free_port};
use vivace_client::{Client, ClientError, ClientSession};

fn session() -> ClientSession {
    ClientSession {
        user: "slt".to_string(),
        catalog: Some("tpch".to_string()),
        schema: Some("tiny".to_string()),
        ..ClientSession::default()
    }
}

struct VivaceDb {
    client: Client,
}

fn render(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_string(),
        Value::String(s) if s.is_empty() => "(empty)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn column_type(type_name: &str) -> DefaultColumnType {
    match type_name {
        "tinyint" | "smallint" | "integer" | "bigint" => DefaultColumnType::Integer,
        "real" | "double" => DefaultColumnType::FloatingPoint,
        t if t.starts_with("decimal") => DefaultColumnType::FloatingPoint,
        _ => DefaultColumnType::Text,
    }
}

#[async_trait]
impl AsyncDB for VivaceDb {
    type Error = ClientError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Self::ColumnType>, Self::Error> {
        let output = self.client.execute(sql).await?;
        // Carry `SET SESSION`, `USE`, `SET TIME ZONE` and the like to the next statement, as
        // clients do.
        self.client.session.apply(&output.session_update);
        if let Some(count) = output.update_count {
            return Ok(DBOutput::StatementComplete(count.max(0) as u64));
        }
        if output.update_type.is_some() {
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows {
            types: output
                .columns
                .iter()
                .map(|c| column_type(&c.type_name))
                .collect(),
            rows: output
                .rows
                .iter()
                .map(|row| row.iter().map(render).collect())
                .collect(),
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "vivace"
    }

    async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

async fn run_single(files: &[PathBuf], filter: Option<&str>) -> (usize, usize) {
    let server = match ServerProcess::start(&[], None) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("single: {e}");
            return (0, files.len());
        }
    };
    if let Err(e) = server.wait_ready().await {
        eprintln!("single: {e}");
        return (0, files.len());
    }
    run_files("single", &server.url, files, filter).await
}

async fn run_cluster(files: &[PathBuf], filter: Option<&str>) -> (usize, usize) {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("cluster: {e}");
            return (0, files.len());
        }
    };
    let etc = nodes::cluster_etc(dir.path());
    let etc_arg = etc.display().to_string();
    let mut args = nodes::coordinator_args();
    args.extend([
        "-Dnode-scheduler.include-coordinator=false".to_string(),
        "--etc".to_string(),
        etc_arg.clone(),
    ]);
    let coordinator = Node::start(dir.path(), "coordinator", "127.0.0.1", free_port(), &args);
    let worker_args = [nodes::SECRET, "--etc", etc_arg.as_str()];
    let _workers = [
        nodes::worker(
            dir.path(),
            "worker-1",
            "127.0.0.2",
            &coordinator,
            &worker_args,
        ),
        nodes::worker(
            dir.path(),
            "worker-2",
            "127.0.0.3",
            &coordinator,
            &worker_args,
        ),
    ];
    nodes::wait_for_nodes(&coordinator, nodes::COORDINATOR_AND_TWO_WORKERS).await;
    run_files("cluster", &coordinator.url, files, filter).await
}

async fn run_files(
    mode: &str,
    url: &str,
    files: &[PathBuf],
    filter: Option<&str>,
) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for file in files {
        let name = file.display().to_string();
        if filter.is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let url = url.to_string();
        let mut runner = Runner::new(move || {
            let url = url.clone();
            async move {
                Ok(VivaceDb {
                    client: Client::new(&url, session())?,
                })
            }
        });
        runner.with_column_validator(|_, _| true);
        runner.add_label(mode);
        match runner.run_file_async(file).await {
            Ok(()) => {
                println!("test {mode}::{name} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test {mode}::{name} ... FAILED\n{e}");
                failed += 1;
            }
        }
    }
    (passed, failed)
}

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/slt");
    let mut files = Vec::new();
    slt_files(&root, &mut files);
    files.sort();
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (mut passed, mut failed) = runtime.block_on(run_single(&files, filter.as_deref()));
    let (cluster_passed, cluster_failed) = runtime.block_on(run_cluster(&files, filter.as_deref()));
    passed += cluster_passed;
    failed += cluster_failed;
    println!("\nsqllogictest: {passed} passed, {failed} failed");
    if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
