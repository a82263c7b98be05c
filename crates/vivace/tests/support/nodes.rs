//! Cluster nodes as real `vivace server` processes on 127.0.0.x, for the multi-node tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vivace_client::Client;

/// The nodes of a coordinator with workers `worker-1` and `worker-2`, all active.
pub const COORDINATOR_AND_TWO_WORKERS: &[(&str, &str)] = &[
    ("coordinator", "active"),
    ("worker-1", "active"),
    ("worker-2", "active"),
];

pub const SECRET: &str = "-Dinternal-communication.shared-secret=cluster-test-secret";

/// A `vivace server` process bound to `ip`, logging to a file.
pub struct Node {
    pub child: Child,
    pub url: String,
    pub log: PathBuf,
}

impl Node {
    pub fn start(dir: &Path, name: &str, ip: &str, port: u16, extra: &[String]) -> Node {
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

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn terminate(&mut self) {
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

pub fn worker(dir: &Path, name: &str, ip: &str, coordinator: &Node, extra: &[&str]) -> Node {
    let mut args = vec![
        "-Dcoordinator=false".to_string(),
        format!("-Ddiscovery.uri={}", coordinator.url),
        "-Ddiscovery.announcement-interval=200ms".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Node::start(dir, name, ip, super::free_port(), &args)
}

pub fn coordinator_args() -> Vec<String> {
    vec![
        SECRET.to_string(),
        "-Dfailure-detector.heartbeat-interval=200ms".to_string(),
        "-Ddiscovery.max-age=3s".to_string(),
    ]
}

/// `(node_id, state)` rows of `system.runtime.nodes`, sorted.
pub async fn nodes(coordinator: &Node) -> Vec<(String, String)> {
    match coordinator
        .client("cluster-test")
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
pub async fn wait_for_nodes(coordinator: &Node, expected: &[(&str, &str)]) {
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

pub async fn wait_for_log(node: &Node, fragment: &str) {
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

/// What a worker logs when the first task of a query reaches it.
pub const TASKS_STARTED: &str = "running tasks of a query";

/// Waits until `node` has logged `fragment` more than `seen` times.
pub async fn wait_for_more_logs(node: &Node, fragment: &str, seen: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while node.log().matches(fragment).count() <= seen {
        assert!(
            Instant::now() < deadline,
            "{fragment:?} not logged again:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Node {
    /// A client as `user` with tpch.tiny as defaults.
    pub fn client(&self, user: &str) -> Client {
        super::tpch_client(&self.url, user)
    }

    /// Sends SIGTERM without waiting for the process to exit.
    pub fn signal_term(&self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }
}

/// Writes `dir/etc`: an empty `config.properties` and the tpch and memory catalogs, tpch
/// spreading every scan over all workers (`tpch.splits-per-node`) as Trino's does.
pub fn cluster_etc(dir: &Path) -> PathBuf {
    let etc = dir.join("etc");
    std::fs::create_dir_all(etc.join("catalog")).expect("etc dir");
    std::fs::write(etc.join("config.properties"), "").expect("config.properties");
    std::fs::write(
        etc.join("catalog/tpch.properties"),
        "connector.name=tpch\ntpch.splits-per-node=2\n",
    )
    .expect("tpch.properties");
    std::fs::write(
        etc.join("catalog/memory.properties"),
        "connector.name=memory\n",
    )
    .expect("memory.properties");
    etc
}

impl Node {
    /// Waits until the node answers `GET /v1/info`.
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let http = reqwest::Client::new();
        loop {
            if let Ok(response) = http.get(format!("{}/v1/info", self.url)).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {} never answered:\n{}",
                self.url,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
