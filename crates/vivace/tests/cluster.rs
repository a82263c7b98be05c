//! Membership with real processes on 127.0.0.x: workers announce to the coordinator, nodes with
//! the wrong shared secret or environment are refused, a worker without one does not start,
//! dead nodes become INACTIVE and expire (also when a stranger takes their address), workers leave on SIGTERM and come back after a
//! coordinator restart.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use support::free_port;
use support::nodes::{
    COORDINATOR_AND_TWO_WORKERS, Node, SECRET, coordinator_args, wait_for_log, wait_for_nodes,
    worker,
};
use vivace_client::{Client, ClientSession};

#[tokio::test]
async fn workers_join_are_checked_fail_and_leave() {
    let dir = tempfile::tempdir().expect("temp dir");
    let coordinator_port = free_port();
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

    wait_for_nodes(&coordinator, COORDINATOR_AND_TWO_WORKERS).await;
    wait_for_log(&wrong_secret, "refused the announcement with 401").await;
    wait_for_log(&wrong_secret, "internal-communication.shared-secret").await;
    // Without the secret a worker does not start at all.
    wait_for_log(
        &no_secret,
        "internal-communication.shared-secret is required for a cluster",
    )
    .await;
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

    // A killed worker turns INACTIVE, then expires, even when another process takes its
    // address at once: that process answers, but not as the member.
    second.child.kill().expect("kill");
    let _ = second.child.wait();
    let second_port: u16 = second
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("worker port");
    let _stranger = Node::start(dir.path(), "stranger", "127.0.0.3", second_port, &[]);
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
