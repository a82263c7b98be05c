//! Distributed execution with real processes on 127.0.0.x: a coordinator that runs no tasks
//! (`node-scheduler.include-coordinator=false`) and workers that come and go. Queries wait for
//! a worker, give the single node's answers, survive a killed worker, use a worker that joined
//! late, and a worker drained with SIGTERM fails none of them.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::nodes::{
    COORDINATOR_AND_TWO_WORKERS, Node, SECRET, TASKS_STARTED, cluster_etc, coordinator_args,
    wait_for_more_logs, wait_for_nodes, worker,
};
use support::{ServerProcess, free_port};

/// A join of sf1 lineitem with its orders: long enough to lose a worker in the middle.
const LONG_QUERY: &str =
    "SELECT count(*) FROM tpch.sf1.lineitem l JOIN tpch.sf1.orders o ON l.orderkey = o.orderkey";
/// Rows of sf1 lineitem; every one has its order.
const SF1_LINEITEM_ROWS: i64 = 6_001_215;

fn start_coordinator(dir: &Path, etc: &Path) -> Node {
    let mut args = coordinator_args();
    args.extend([
        "-Dnode-scheduler.include-coordinator=false".to_string(),
        "-Dquery.max-queued-time=2s".to_string(),
        "--etc".to_string(),
        etc.display().to_string(),
    ]);
    Node::start(dir, "coordinator", "127.0.0.1", free_port(), &args)
}

fn start_worker(dir: &Path, etc: &Path, name: &str, ip: &str, coordinator: &Node) -> Node {
    let etc = etc.display().to_string();
    worker(dir, name, ip, coordinator, &[SECRET, "--etc", &etc])
}

async fn count(node: &Node, sql: &str) -> i64 {
    let output = node
        .client("distributed-test")
        .execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}\ncoordinator log:\n{}", node.log()));
    output.rows[0][0].as_i64().expect("a count")
}

/// Equal, with doubles compared to 1e-9 relative (sums over parts add up in another order).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        _ => a == b,
    }
}

async fn tpch_queries_match(coordinator: &Node) {
    let single = ServerProcess::start(&[], None).expect("single node");
    single.wait_ready().await.expect("single node ready");
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benchmarks/queries");
    for number in 1..=22 {
        let sql = std::fs::read_to_string(queries.join(format!("q{number:02}.sql"))).unwrap();
        let expected = single
            .client("single")
            .execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("q{number} on one node: {e}"));
        let actual = coordinator
            .client("cluster")
            .execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("q{number} on the cluster: {e}\n{}", coordinator.log()));
        assert_eq!(
            expected.rows.len(),
            actual.rows.len(),
            "q{number} row count"
        );
        for (e, a) in expected.rows.iter().zip(&actual.rows) {
            assert!(
                same_value(&Value::Array(e.clone()), &Value::Array(a.clone())),
                "q{number}: {e:?} on one node, {a:?} on the cluster"
            );
        }
    }
}

#[tokio::test]
async fn queries_run_on_workers_and_survive_losing_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let etc = cluster_etc(dir.path());
    let coordinator = start_coordinator(dir.path(), &etc);
    coordinator.wait_ready().await;

    // No worker yet: a tpch query waits for one, then fails; metadata still answers.
    let started = Instant::now();
    let error = coordinator
        .client("early")
        .execute("SELECT count(*) FROM lineitem")
        .await
        .expect_err("ran without workers");
    assert!(
        error.to_string().contains("No worker nodes available"),
        "{error}"
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(
        count(&coordinator, "SELECT count(*) FROM system.runtime.nodes").await,
        1
    );

    let w1 = start_worker(dir.path(), &etc, "worker-1", "127.0.0.2", &coordinator);
    let mut w2 = start_worker(dir.path(), &etc, "worker-2", "127.0.0.3", &coordinator);
    wait_for_nodes(&coordinator, COORDINATOR_AND_TWO_WORKERS).await;

    // The plan is split into stages with tasks on the workers.
    let plan = coordinator
        .client("explain")
        .execute("EXPLAIN (TYPE DISTRIBUTED) SELECT returnflag, count(*) FROM lineitem GROUP BY returnflag")
        .await
        .expect("explain");
    let text = plan.rows[0][0].as_str().unwrap_or_default().to_string();
    assert!(text.contains("Stage"), "{text}");
    assert!(text.contains("TpchScanExec"), "{text}");

    tpch_queries_match(&coordinator).await;

    // kill -9 of a worker in the middle of a long query: it runs again on the other.
    let client = coordinator.client("long");
    let seen = w2.log().matches(TASKS_STARTED).count();
    let long = tokio::spawn(async move { client.execute(LONG_QUERY).await });
    wait_for_more_logs(&w2, TASKS_STARTED, seen).await;
    w2.child.kill().expect("kill worker-2");
    let output = long
        .await
        .expect("task")
        .expect("query survived the lost worker");
    assert_eq!(output.rows[0][0].as_i64(), Some(SF1_LINEITEM_ROWS));
    assert!(
        coordinator.log().contains("running the query again"),
        "the query did not lose a worker:\n{}",
        coordinator.log()
    );

    // A worker that joins is used: once the others are gone, it runs the query alone.
    let w3 = start_worker(dir.path(), &etc, "worker-3", "127.0.0.4", &coordinator);
    drop(w1);
    wait_for_nodes(
        &coordinator,
        &[("coordinator", "active"), ("worker-3", "active")],
    )
    .await;
    assert_eq!(
        count(&coordinator, "SELECT count(*) FROM lineitem").await,
        60_175
    );

    // SIGTERM drains a worker: the query it works on still succeeds, and it exits cleanly.
    let mut w4 = start_worker(dir.path(), &etc, "worker-4", "127.0.0.5", &coordinator);
    wait_for_nodes(
        &coordinator,
        &[
            ("coordinator", "active"),
            ("worker-3", "active"),
            ("worker-4", "active"),
        ],
    )
    .await;
    let client = coordinator.client("drain");
    let seen = w4.log().matches(TASKS_STARTED).count();
    let long = tokio::spawn(async move { client.execute(LONG_QUERY).await });
    wait_for_more_logs(&w4, TASKS_STARTED, seen).await;
    w4.signal_term();
    let output = long.await.expect("task").expect("query survived the drain");
    assert_eq!(output.rows[0][0].as_i64(), Some(SF1_LINEITEM_ROWS));
    let status = w4.child.wait().expect("worker-4 exit");
    assert!(
        status.success(),
        "worker-4 exited with {status}\n{}",
        w4.log()
    );
    wait_for_nodes(
        &coordinator,
        &[("coordinator", "active"), ("worker-3", "active")],
    )
    .await;
    drop(w3);
}

#[tokio::test]
async fn node_state_changes_need_the_internal_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let etc = cluster_etc(dir.path());
    let secured = start_coordinator(dir.path(), &etc);
    secured.wait_ready().await;
    let http = reqwest::Client::new();
    let put = |url: &str| {
        http.put(format!("{url}/v1/info/state"))
            .body("\"SHUTTING_DOWN\"")
            .send()
    };
    let response = put(&secured.url).await.expect("PUT");
    assert_eq!(response.status().as_u16(), 401);
    let state: String = http
        .get(format!("{}/v1/info/state", secured.url))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(state, "ACTIVE");

    // Without a shared secret (single-node mode) this host may still drain the node: the PUT
    // from 127.0.0.1 drains it, and it exits cleanly. (Other addresses are refused; see
    // tests/clients/test_hostile_connections.py.)
    let mut open = Node::start(
        dir.path(),
        "open",
        "127.0.0.7",
        free_port(),
        &["-Dshutdown.grace-period=5s".to_string()],
    );
    open.wait_ready().await;
    let response = http
        .put(format!("{}/v1/info/state", open.url))
        .body("\"RUNNING\"")
        .send()
        .await
        .expect("PUT");
    assert_eq!(response.status().as_u16(), 400);
    let response = put(&open.url).await.expect("PUT");
    assert_eq!(response.status().as_u16(), 200);
    let status = open.child.wait().expect("exit");
    assert!(status.success(), "{status}\n{}", open.log());
    assert!(open.log().contains("shutdown complete"), "{}", open.log());
}

#[tokio::test]
async fn query_max_memory_holds_across_the_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let etc = cluster_etc(dir.path());
    let mut args = coordinator_args();
    args.extend([
        "-Dnode-scheduler.include-coordinator=false".to_string(),
        "-Dquery.max-memory=24MB".to_string(),
        "--etc".to_string(),
        etc.display().to_string(),
    ]);
    let coordinator = Node::start(dir.path(), "coordinator", "127.0.0.1", free_port(), &args);
    let _w1 = start_worker(dir.path(), &etc, "worker-1", "127.0.0.2", &coordinator);
    let _w2 = start_worker(dir.path(), &etc, "worker-2", "127.0.0.3", &coordinator);
    wait_for_nodes(&coordinator, COORDINATOR_AND_TWO_WORKERS).await;
    // A small query fits; a hash join building on all of sf1 orders (which cannot spill) does
    // not fit in 8MB per node.
    assert_eq!(
        count(&coordinator, "SELECT count(*) FROM lineitem").await,
        60_175
    );
    let error = coordinator
        .client("memory")
        .execute("SELECT count(*) FROM tpch.sf1.orders o JOIN tpch.sf1.lineitem l ON o.orderkey = l.orderkey AND o.comment <> l.comment")
        .await
        .expect_err("the query fit in the cluster's memory limit");
    assert!(
        error.to_string().to_lowercase().contains("memory"),
        "{error}\n{}",
        coordinator.log()
    );
}
