//! Membership with real processes on 127.0.0.x: workers announce to the coordinator, nodes with
//! the wrong shared secret or environment are refused, dead nodes become INACTIVE and expire,
//! workers leave on SIGTERM and come back after a coordinator restart.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vivace_client::{Client, ClientSession};

const SECRET: &str = "-Dinternal-communication.shared-secret=cluster-test-secret";

/// A `vivace server` process bound to `ip`, logging to a file.
struct Node {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Node {
    fn start(dir: &Path, name: &str, ip: &str, port: u16, extra: &[String]) -> Node {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_vivace"))
            .arg("server")
            .arg(format!("-Dhttp-server.http.bind-address={ip}"))
            .arg(format!("-Dhttp-server.http.port={port}"))
            .arg(format!("-Dnode.id={name}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start vivace");
        Node {
            child,
            url: format!("http://{ip}:{port}"),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn worker(dir: &Path, name: &str, ip: &str, coordinator: &Node, extra: &[&str]) -> Node {
    let mut args = vec![
        "-Dcoordinator=false".to_string(),
        format!("-Ddiscovery.uri={}", coordinator.url),
        "-Ddiscovery.announcement-interval=200ms".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Node::start(dir, name, ip, support::free_port(), &args)
}

fn coordinator_args() -> Vec<String> {
    vec![
        SECRET.to_string(),
        "-Dfailure-detector.heartbeat-interval=200ms".to_string(),
        "-Ddiscovery.max-age=3s".to_string(),
    ]
}

/// `(node_id, state)` rows of `system.runtime.nodes`, sorted.
async fn nodes(coordinator: &Node) -> Vec<(String, String)> {
    let client = Client::new(
        &coordinator.url,
        ClientSession {
            user: "cluster-test".to_string(),
            ..ClientSession::default()
        },
    )
    .expect("client");
    match client
        .execute("SELECT node_id, state FROM system.runtime.nodes ORDER BY node_id")
        .await
    {
        Ok(output) => output
            .rows
            .iter()
            .map(|row| {
                (
                    row[0].as_str().unwrap_or_default().to_string(),
                    row[1].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        Err(_) => vec![],
    }
}

/// Waits until `system.runtime.nodes` is exactly `expected`.
async fn wait_for_nodes(coordinator: &Node, expected: &[(&str, &str)]) {
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = nodes(coordinator).await;
        if seen == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nodes are {seen:?}, expected {expected:?}\ncoordinator log:\n{}",
            coordinator.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_log(node: &Node, fragment: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !node.log().contains(fragment) {
        assert!(
            Instant::now() < deadline,
            "{fragment:?} not in log:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn workers_join_are_checked_fail_and_leave() {
    let dir = tempfile::tempdir().expect("temp dir");
    let coordinator_port = support::free_port();
    let mut coordinator = Node::start(
        dir.path(),
        "coordinator",
        "127.0.0.1",
        coordinator_port,
        &coordinator_args(),
    );
    let mut first = worker(dir.path(), "worker-1", "127.0.0.2", &coordinator, &[SECRET]);
    let mut second = worker(dir.path(), "worker-2", "127.0.0.3", &coordinator, &[SECRET]);
    let wrong_secret = worker(
        dir.path(),
        "worker-wrong-secret",
        "127.0.0.4",
        &coordinator,
        &["-Dinternal-communication.shared-secret=not-the-secret"],
    );
    let no_secret = worker(
        dir.path(),
        "worker-no-secret",
        "127.0.0.6",
        &coordinator,
        &[],
    );
    let wrong_environment = worker(
        dir.path(),
        "worker-other-env",
        "127.0.0.5",
        &coordinator,
        &[SECRET, "-Dnode.environment=staging"],
    );

    wait_for_nodes(
        &coordinator,
        &[
            ("coordinator", "active"),
            ("worker-1", "active"),
            ("worker-2", "active"),
        ],
    )
    .await;
    wait_for_log(&wrong_secret, "refused the announcement with 401").await;
    wait_for_log(&wrong_secret, "internal-communication.shared-secret").await;
    wait_for_log(&no_secret, "refused the announcement with 401").await;
    wait_for_log(
        &wrong_environment,
        "Environment mismatch. Expected: vivace, Provided: staging",
    )
    .await;
    assert!(!coordinator.log().contains("cluster-test-secret"));

    // A worker takes no statements.
    let on_worker = Client::new(
        &first.url,
        ClientSession {
            user: "u".to_string(),
            ..ClientSession::default()
        },
    )
    .expect("client");
    let error = on_worker
        .execute("SELECT 1")
        .await
        .expect_err("worker ran a query");
    assert!(error.to_string().contains("worker"), "{error}");

    // A killed worker turns INACTIVE, then expires.
    second.child.kill().expect("kill");
    let _ = second.child.wait();
    wait_for_nodes(
        &coordinator,
        &[
            ("coordinator", "active"),
            ("worker-1", "active"),
            ("worker-2", "inactive"),
        ],
    )
    .await;
    wait_for_nodes(
        &coordinator,
        &[("coordinator", "active"), ("worker-1", "active")],
    )
    .await;

    // After a coordinator restart the worker announces itself again.
    coordinator.terminate();
    let coordinator = Node::start(
        dir.path(),
        "coordinator",
        "127.0.0.1",
        coordinator_port,
        &coordinator_args(),
    );
    wait_for_nodes(
        &coordinator,
        &[("coordinator", "active"), ("worker-1", "active")],
    )
    .await;

    // SIGTERM: the worker leaves the cluster.
    first.terminate();
    wait_for_nodes(&coordinator, &[("coordinator", "active")]).await;
    assert!(first.log().contains("announced to the coordinator"));
}
