"""Memory and submission rate one user cannot exhaust, on a secured server with small limits.

- The node pool (``memory.node-pool-size``) bounds all queries of the node together; when two
  queries together would exceed it, the low-memory killer (``query.low-memory-killer.policy``)
  ends the one holding the most with CLUSTER_OUT_OF_MEMORY and the other finishes.
- The memory catalog holds at most ``memory.max-data-per-node``; an insert beyond it fails with
  Trino's MEMORY_LIMIT_EXCEEDED and stores nothing.
- ``http-server.max-statements-per-second-per-user``: a user over the rate gets 429 with
  ``Retry-After``; other users are not slowed, and the ``trino`` client waits and goes on.

Everything runs on 127.0.0.1 and is bounded in count and time.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import List

import pytest
import requests
import trino

from secured_server import VivaceProcess, password_server, tenant_connection, tenant_rows

pytestmark = pytest.mark.usefixtures("trust_only_generated_ca")

PASSWORDS = {"mallory": "mallory-pw", "victim": "victim-pw", "eve": "eve-pw"}
NODE_POOL = 160 << 20
MEMORY_CATALOG_LIMIT = 4 << 20
STATEMENTS_PER_SECOND = 5

# An aggregation over 6 million generated rows into 6 million groups: it holds more than half
# the node pool for the seconds it runs, so one fits and two together do not.
HOG = ("SELECT count(*) FROM (SELECT orderkey, partkey, max(comment) c "
       "FROM tpch.sf1.lineitem GROUP BY 1, 2) t")


@pytest.fixture(scope="module")
def server(tmp_path_factory, pki):
    directory = tmp_path_factory.mktemp("hostile-memory")
    files = {
        "catalog/memory.properties": (
            "connector.name=memory\n"
            f"memory.max-data-per-node={MEMORY_CATALOG_LIMIT // (1 << 20)}MB\n"
        ),
    }
    config = {
        "query.max-execution-time": "60s",
        "memory.node-pool-size": f"{NODE_POOL // (1 << 20)}MB",
        "query.max-memory-per-node": f"{NODE_POOL // (1 << 20)}MB",
        "query.max-memory": f"{NODE_POOL // (1 << 20)}MB",
        "query.low-memory-killer.policy": "total-reservation",
        "http-server.max-statements-per-second-per-user": str(STATEMENTS_PER_SECOND),
        "task.concurrency": "2",
    }
    secret = "hostile-memory-secret-" + "z" * 32
    with password_server(directory, pki, PASSWORDS, secret, config, files) as process:
        yield process


def connect(server: VivaceProcess, pki: Path, user: str, **kwargs):
    return tenant_connection(server, pki, user, **kwargs)


def run(server, pki, sql: str, user: str = "mallory", **kwargs):
    return tenant_rows(server, pki, sql, user, **kwargs)


def failure(server, pki, sql: str, user: str = "mallory") -> trino.exceptions.TrinoQueryError:
    with pytest.raises(trino.exceptions.TrinoQueryError) as caught:
        run(server, pki, sql, user=user)
    return caught.value


def run_measured(server, pki, sql: str, user: str):
    """Rows and the peak memory the server reported for the query."""
    with connect(server, pki, user) as conn:
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall()
        return rows, int(cur.stats["peakMemoryBytes"])


class Background:
    def __init__(self, server, pki, sql: str, user: str):
        self.rows = None
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(server, pki, sql, user), daemon=True)
        self.thread.start()

    def _run(self, server, pki, sql, user):
        try:
            self.rows = run(server, pki, sql, user=user)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def join(self, timeout: float = 120):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the query did not end"


def test_one_query_fits_the_node_pool_two_do_not(server, pki):
    alone, peak = run_measured(server, pki, HOG, "victim")
    # The scenario below needs a query that fits alone but not twice.
    assert NODE_POOL // 2 < peak < NODE_POOL, f"the hog peaked at {peak / 2**20:.0f} MB"

    first = Background(server, pki, HOG, "mallory")
    time.sleep(0.5)
    second = Background(server, pki, HOG, "victim")
    first.join()
    second.join()
    outcomes = [q.error for q in (first, second)]
    killed = [e for e in outcomes if isinstance(e, trino.exceptions.TrinoQueryError)
              and e.error_name == "CLUSTER_OUT_OF_MEMORY"]
    assert len(killed) == 1, outcomes
    assert killed[0].message == ("Query killed because the cluster is out of memory. "
                                 "Please try again in a few minutes.")
    survivor = first if first.error is None else second
    assert survivor.error is None and survivor.rows == alone, outcomes
    assert server.process.poll() is None
    # The node's memory came back: the query runs alone again.
    assert run(server, pki, HOG, user="victim") == alone


def test_memory_catalog_is_bounded(server, pki):
    error = failure(server, pki, "CREATE TABLE memory.default.big AS SELECT * FROM tpch.sf1.orders")
    assert error.error_name == "MEMORY_LIMIT_EXCEEDED", error.message
    assert error.error_code == 0x0502_0001
    assert error.message == f"Memory limit [{MEMORY_CATALOG_LIMIT}] for memory connector exceeded"
    run(server, pki, "CREATE TABLE memory.default.small AS SELECT * FROM tpch.tiny.nation")
    error = failure(server, pki, "INSERT INTO memory.default.small "
                                 "SELECT n.* FROM tpch.tiny.nation n, tpch.sf1.orders o "
                                 "WHERE o.orderkey <= 200000")
    assert error.error_name == "MEMORY_LIMIT_EXCEEDED", error.message
    # Nothing of the refused insert was stored; small inserts still fit.
    assert run(server, pki, "SELECT count(*) FROM memory.default.small") == [[25]]
    # A refused replacement leaves the table it would have replaced.
    error = failure(server, pki, "CREATE OR REPLACE TABLE memory.default.small AS "
                                 "SELECT * FROM tpch.sf1.orders")
    assert error.error_name == "MEMORY_LIMIT_EXCEEDED", error.message
    assert run(server, pki, "SELECT count(*) FROM memory.default.small") == [[25]]
    # So does a renamed table: its share still counts under its new name.
    run(server, pki, "ALTER TABLE memory.default.small RENAME TO memory.default.renamed")
    run(server, pki, "ALTER TABLE memory.default.renamed RENAME TO memory.default.small")
    run(server, pki, "INSERT INTO memory.default.small SELECT * FROM tpch.tiny.nation")
    assert run(server, pki, "SELECT count(*) FROM memory.default.small") == [[50]]
    # Dropping a table frees its share.
    run(server, pki, "DROP TABLE memory.default.small")
    run(server, pki, "CREATE TABLE memory.default.again AS SELECT * FROM tpch.tiny.customer")
    run(server, pki, "DROP TABLE memory.default.again")


def post(server, pki, user: str) -> requests.Response:
    return requests.post(
        server.https_url + "/v1/statement", data="SELECT 1",
        auth=requests.auth.HTTPBasicAuth(user, PASSWORDS[user]),
        headers={"X-Trino-User": user}, verify=str(pki / "ca.pem"), timeout=10,
    )


def test_statement_rate_per_user(server, pki):
    time.sleep(1.5)  # earlier tests' statements are forgotten
    statuses: List[int] = []
    refused = None
    for _ in range(STATEMENTS_PER_SECOND * 4):
        response = post(server, pki, "eve")
        statuses.append(response.status_code)
        if response.status_code == 429:
            refused = response
    assert statuses[0] == 200
    assert refused is not None, statuses
    assert int(refused.headers["Retry-After"]) >= 1
    assert "max-statements-per-second-per-user" in refused.text
    assert "eve" in refused.text
    # Another user is not affected by eve's rate.
    assert post(server, pki, "victim").status_code == 200
    # The trino client honours Retry-After: a burst of statements all succeed, paced.
    time.sleep(1.5)
    with connect(server, pki, "eve") as conn:
        cur = conn.cursor()
        started = time.monotonic()
        for n in range(STATEMENTS_PER_SECOND * 2):
            cur.execute(f"SELECT {n}")
            assert cur.fetchall() == [[n]]
        assert time.monotonic() - started >= 0.5
