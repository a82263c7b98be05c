//! End-to-end tests of `vivace server` as a process: configuration errors, memory limits,
//! graceful shutdown and the filesystem catalog from an `etc/` directory.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::ServerProcess;
use vivace_client::ClientError;

fn error_name(error: &ClientError) -> String {
    match error {
        ClientError::Query { error, .. } => error.error_name.clone(),
        other => format!("not a query error: {other}"),
    }
}

/// Runs `vivace server` with `args` and an etc directory holding `files` (path, text); the
/// server must refuse to start: returns its stderr after checking the exit code. Test setup
/// may panic on I/O failure.
#[allow(clippy::unwrap_used)]
fn failed_startup(args: &[&str], files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_vivace"));
    command.arg("server").args(args);
    if !files.is_empty() {
        command.arg("--etc").arg(dir.path());
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn unknown_property_stops_startup_naming_file_line_and_key() {
    let stderr = failed_startup(
        &[],
        &[(
            "config.properties",
            "coordinator=true\nhttp-server.http.prot=8080\n",
        )],
    );
    assert!(
        stderr.contains("config.properties:2: property 'http-server.http.prot': unknown property"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn malformed_override_and_unknown_connector_are_reported() {
    let stderr = failed_startup(&["-Dnovalue"], &[]);
    assert!(stderr.contains("expected -Dkey=value"), "{stderr}");

    let stderr = failed_startup(
        &[],
        &[
            ("config.properties", "coordinator=true\n"),
            ("catalog/hive.properties", "connector.name=hive\n"),
        ],
    );
    assert!(
        stderr.contains("hive.properties:1: property 'connector.name': unknown connector 'hive'"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_over_memory_limit_fails_and_server_keeps_serving() {
    let server = ServerProcess::start(&["-Dquery.max-memory-per-node=8MB"], None).unwrap();
    server.wait_ready().await.unwrap();
    let client = server.client("memory");
    let error = client
        .execute("SELECT array_agg(comment) FROM tpch.sf1.lineitem")
        .await
        .unwrap_err();
    assert_eq!(error_name(&error), "EXCEEDED_LOCAL_MEMORY_LIMIT", "{error}");
    let output = client.execute("SELECT count(*) FROM nation").await.unwrap();
    assert_eq!(output.rows[0][0], serde_json::json!(25));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_running_queries_finish_then_exits_zero() {
    let mut server = ServerProcess::start(&["-Dshutdown.grace-period=60s"], None).unwrap();
    server.wait_ready().await.unwrap();
    let client = server.client("shutdown");
    let running = tokio::spawn(async move {
        client
            .execute("SELECT count(*) FROM tpch.sf1.orders WHERE comment LIKE '%never-there%'")
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // New statements are refused while draining.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = server.client("late").execute("SELECT 1").await;
    assert!(refused.is_err(), "a statement was accepted during shutdown");
    let result = running.await.unwrap().unwrap();
    assert_eq!(result.rows, vec![vec![serde_json::json!(0)]]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status.code();
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_etc_serves_a_filesystem_catalog() {
    let lake = tempfile::tempdir().unwrap();
    std::fs::create_dir(lake.path().join("sales")).unwrap();
    std::fs::write(
        lake.path().join("sales/orders.csv"),
        "id,region,amount\n1,north,10.5\n2,south,20\n3,north,1.25\n",
    )
    .unwrap();
    let etc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/etc");
    let data_dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_vivace"))
        .args(["server", "--etc"])
        .arg(&etc)
        .arg(format!("-Dhttp-server.http.port={port}"))
        .arg("-Dhttp-server.http.bind-address=127.0.0.1")
        .arg(format!("-Dnode.data-dir={}", data_dir.path().display()))
        .env("VIVACE_LAKE_ROOT", lake.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = ServerProcess {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    server.wait_ready().await.unwrap();
    let client = server.client("lake");
    let output = client
        .execute(
            "SELECT region, sum(amount) FROM lake.sales.orders GROUP BY region ORDER BY region",
        )
        .await
        .unwrap();
    assert_eq!(output.rows.len(), 2);
    assert_eq!(output.rows[0][0], serde_json::json!("north"));
    let tables = client.execute("SHOW TABLES FROM lake.sales").await.unwrap();
    assert_eq!(tables.rows, vec![vec![serde_json::json!("orders")]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_whose_client_stops_polling_is_abandoned() {
    let server = ServerProcess::start(&["-Dquery.client.timeout=1s"], None).unwrap();
    server.wait_ready().await.unwrap();
    let http = reqwest::Client::new();
    let posted: serde_json::Value = http
        .post(format!("{}/v1/statement", server.url))
        .header("X-Trino-User", "idle")
        .body("SELECT * FROM tpch.sf1.lineitem")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = posted["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info: serde_json::Value = http
            .get(format!("{}/v1/query/{id}", server.url))
            .header("X-Trino-User", "idle")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if info["state"] == "FAILED" {
            assert_eq!(info["errorCode"]["name"], "ABANDONED_QUERY", "{info}");
            break;
        }
        assert!(Instant::now() < deadline, "query was not abandoned: {info}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Another user cannot see it, nor learn that it exists.
    let status = http
        .get(format!("{}/v1/query/{id}", server.url))
        .header("X-Trino-User", "someone-else")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 404);
}
