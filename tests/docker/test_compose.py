"""The compose cluster (deploy/compose/docker-compose.yml) on a real Docker engine: a
coordinator and two workers from the Vivace image, queried from the host with the ``trino``
client while containers are killed, cut off, stopped, added and restarted.

Tests run in file order against one cluster; each leaves it with its two workers active.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import zlib
from pathlib import Path
from typing import Callable, Iterator

import pytest

from compose_support import REPO, Background, Client, Cluster, docker, free_port, same_value, wait_until

IMAGE = os.environ.get("VIVACE_IMAGE", "vivace:test")
# Long enough (about 10 s with two workers) to lose a worker in the middle.
LONG_QUERY = "SELECT count(*) FROM tpch.sf10.lineitem l JOIN tpch.sf10.orders o ON l.orderkey = o.orderkey"
SF10_LINEITEM_ROWS = 59986052
SF1_LINEITEM_ROWS = 6001215
# What a worker logs when the first task of a query reaches it.
TASKS_STARTED = "running tasks of a query"
# Size target for the image as a registry stores and a node pulls it, gzip-compressed (the
# Trino image is over 1 GB). Unpacked it is larger: see README.
COMPRESSED_IMAGE_LIMIT = 60_000_000


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    port = free_port()
    cluster = Cluster("docker-compose.yml", "vivacetest", port, {
        "VIVACE_IMAGE": IMAGE, "VIVACE_PORT": str(port),
        "VIVACE_SHARED_SECRET": "compose-test-" + os.urandom(16).hex(),
    })
    with cluster.running(request, workers=2):
        yield cluster


@pytest.fixture(scope="module")
def client(cluster: Cluster) -> Client:
    client = Client(cluster.port)
    client.wait_workers([cluster.hostname(c) for c in cluster.containers("worker")])
    return client


def workers(cluster: Cluster) -> list:
    return cluster.containers("worker")


def test_image_is_small_non_root_and_healthy(cluster: Cluster) -> None:
    size = int(docker("image", "inspect", "-f", "{{.Size}}", IMAGE).stdout)
    save = subprocess.Popen(["docker", "save", IMAGE], stdout=subprocess.PIPE)
    assert save.stdout is not None
    compressed = zlib.compressobj(6, zlib.DEFLATED, 31)
    compressed_size = 0
    for chunk in iter(lambda: save.stdout.read(1 << 20), b""):
        compressed_size += len(compressed.compress(chunk))
    compressed_size += len(compressed.flush())
    assert save.wait() == 0
    print(f"image {IMAGE}: {size / 1e6:.1f} MB unpacked, {compressed_size / 1e6:.1f} MB compressed")
    assert compressed_size < COMPRESSED_IMAGE_LIMIT, f"the compressed image is {compressed_size / 1e6:.1f} MB"
    for container in cluster.containers("coordinator") + workers(cluster):
        info = cluster.inspect(container)
        assert info["Config"]["User"] == "1000:1000"
        status = Path(f"/proc/{info['State']['Pid']}/status").read_text()
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        assert uid_line.split()[1:] == ["1000"] * 4, uid_line
        assert cluster.health(container) == "healthy"
    # The health check is the binary itself: it fails against a port nobody listens on.
    coordinator = cluster.containers("coordinator")[0]
    bad = docker("exec", coordinator, "vivace", "health", "--url", "http://127.0.0.1:1", check=False)
    assert bad.returncode == 1 and "unhealthy" in bad.stdout


def test_container_command_is_passed_to_the_server() -> None:
    # The entrypoint is `vivace server --etc /etc/vivace`; the command adds -D overrides.
    bad = docker("run", "--rm", IMAGE, "-Dno.such-key=1", check=False, timeout=60)
    assert bad.returncode == 1
    assert "-Dno.such-key: unknown property" in bad.stderr, bad.stderr


def test_nodes_are_the_containers_and_log_json(cluster: Cluster, client: Client) -> None:
    nodes = client.nodes()
    coordinator = [n for n in nodes if n["coordinator"]]
    assert [n["node_id"] for n in coordinator] == ["coordinator"]
    expected = sorted(cluster.hostname(c) for c in workers(cluster))
    assert sorted(n["node_id"] for n in nodes if not n["coordinator"]) == expected
    assert all(n["state"] == "active" for n in nodes)
    # log.format=json: every line on stdout is one JSON object.
    out = docker("logs", cluster.containers("coordinator")[0]).stdout.strip().splitlines()
    assert out, "the coordinator logged nothing on stdout"
    events = [json.loads(line) for line in out]
    assert any(e.get("fields", {}).get("message") == "node joined the cluster" for e in events)


@pytest.mark.timeout(600)
def test_tpch_queries_match_a_single_node(client: Client) -> None:
    reference = ReferenceNode()
    try:
        for number in range(1, 23):
            sql = (REPO / "benchmarks" / "queries" / f"q{number:02}.sql").read_text()
            expected = reference.client.query(sql)
            actual = client.query(sql)
            assert len(actual) == len(expected), f"q{number}: {len(actual)} rows, expected {len(expected)}"
            assert same_value(actual, expected), f"q{number}: {actual} != {expected}"
    finally:
        reference.stop()
    # The filesystem catalog reads the mounted lake volume.
    rows = client.query("SELECT region, sum(amount) FROM lake.sales.orders GROUP BY region ORDER BY region")
    assert [r[0] for r in rows] == ["east", "north", "south", "west"]


@pytest.mark.timeout(600)
def test_killed_worker_does_not_fail_the_query(cluster: Cluster, client: Client) -> None:
    victim = workers(cluster)[0]
    survivors = [cluster.hostname(c) for c in workers(cluster) if c != victim]
    lose_worker_mid_query(cluster, client, victim, lambda: docker("kill", victim))
    client.wait_workers(survivors, timeout=60)
    rejoin(cluster, client, victim)


@pytest.mark.timeout(600)
def test_disconnected_worker_is_inactive_and_rejoins(cluster: Cluster, client: Client) -> None:
    victim = workers(cluster)[1]
    name = cluster.hostname(victim)
    network = cluster.network("cluster")
    old_address = address_on(cluster, victim, network)
    docker("network", "disconnect", network, victim)
    # Another container takes the worker's address, so it comes back with a new one.
    # (Docker hands out the lowest free address: the one just released.)
    squatter = docker("run", "-d", "--rm", "--network", network, IMAGE)
    try:
        def inactive() -> bool:
            states = {n["node_id"]: n["state"] for n in client.nodes()}
            return states.get(name, "inactive") == "inactive"

        # Queries keep succeeding while the coordinator notices, and after.
        deadline = time.monotonic() + 120
        while not inactive():
            assert time.monotonic() < deadline, "the cut-off worker was never marked inactive"
            assert client.query("SELECT count(*) FROM tpch.sf1.orders") == [[1500000]]
        assert client.query("SELECT count(*) FROM tpch.sf1.orders") == [[1500000]]
    finally:
        docker("network", "connect", network, victim)
        docker("rm", "-f", squatter.stdout.strip(), check=False)
    new_address = address_on(cluster, victim, network)
    client.wait_workers([cluster.hostname(c) for c in workers(cluster)], timeout=90)
    uri = {n["node_id"]: n["http_uri"] for n in client.nodes()}[name]
    assert uri == f"http://{new_address}:8080", (uri, old_address, new_address)
    assert client.query("SELECT count(*) FROM tpch.sf1.orders") == [[1500000]]


def address_on(cluster: Cluster, container: str, network: str) -> str:
    return cluster.inspect(container)["NetworkSettings"]["Networks"][network]["IPAddress"]


@pytest.mark.timeout(600)
def test_stopped_worker_drains(cluster: Cluster, client: Client) -> None:
    victim = workers(cluster)[0]
    lose_worker_mid_query(cluster, client, victim, lambda: docker("stop", "-t", "90", victim, timeout=120))
    state = cluster.inspect(victim)["State"]
    assert state["ExitCode"] == 0, cluster.logs(victim)[-3000:]
    assert "shutting down: refusing new queries and tasks" in cluster.logs(victim)
    rejoin(cluster, client, victim)


def lose_worker_mid_query(cluster: Cluster, client: Client, victim: str, lose: Callable[[], object]) -> None:
    """Runs LONG_QUERY, calls ``lose`` once ``victim`` runs the query's tasks, and checks the
    query still gives the right answer."""
    seen = cluster.logs(victim).count(TASKS_STARTED)
    query = Background(client, LONG_QUERY)
    wait_until("the worker running the query's tasks",
               lambda: cluster.logs(victim).count(TASKS_STARTED) > seen, timeout=60, interval=0.2)
    assert query.running(), f"the query ended before the worker was lost: {query.error!r} {query.rows!r}"
    lose()
    assert query.result() == [[SF10_LINEITEM_ROWS]]


def rejoin(cluster: Cluster, client: Client, victim: str) -> None:
    """Starts a stopped worker container again and waits until every worker is active."""
    docker("start", victim)
    client.wait_workers([cluster.hostname(c) for c in workers(cluster)], timeout=60)


@pytest.mark.timeout(600)
def test_scaled_up_worker_is_used(cluster: Cluster, client: Client) -> None:
    before = set(workers(cluster))
    cluster.up(workers=3)
    added = [c for c in workers(cluster) if c not in before]
    assert len(added) == 1
    client.wait_workers([cluster.hostname(c) for c in workers(cluster)], timeout=90)
    with client.connection() as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM tpch.sf1.lineitem")
        assert cur.fetchall() == [[SF1_LINEITEM_ROWS]]
        query_id = cur.query_id
    # The new worker ran tasks of that query.
    wait_until("the new worker's log of the query", lambda: query_id in cluster.logs(added[0]), timeout=10)
    cluster.up(workers=2)
    client.wait_workers([cluster.hostname(c) for c in workers(cluster)], timeout=60)


@pytest.mark.timeout(600)
def test_coordinator_restart(cluster: Cluster, client: Client) -> None:
    coordinator = cluster.containers("coordinator")[0]
    docker("restart", "-t", "30", coordinator, timeout=120)
    wait_until("the coordinator healthy", lambda: cluster.health(coordinator) == "healthy", timeout=60)
    client.wait_workers([cluster.hostname(c) for c in workers(cluster)], timeout=60)
    assert client.query("SELECT count(*) FROM tpch.sf1.orders") == [[1500000]]


class ReferenceNode:
    """A single node on the host (the binary the image was built from), for expected results."""

    def __init__(self) -> None:
        binary = os.environ.get("VIVACE_BIN")
        assert binary, "VIVACE_BIN must name the vivace binary (run.sh sets it)"
        port = free_port()
        self.process = subprocess.Popen(
            [binary, "server", f"-Dhttp-server.http.port={port}", "-Dhttp-server.http.bind-address=127.0.0.1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.client = Client(port)
        wait_until("the reference node", lambda: self.client.query("SELECT 1") == [[1]], timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
