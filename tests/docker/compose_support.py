"""Driving compose clusters of the Vivace image for the Docker tests (see run.sh).

A :class:`Cluster` is one compose project: ``up`` starts it, ``down`` removes its containers,
networks and volumes. Queries go from the host through the real ``trino`` client to the port
the coordinator publishes on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shlex
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import trino

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "deploy" / "compose"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def docker(*args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def wait_until(what: str, condition: Callable[[], Any], timeout: float = 60, interval: float = 0.5) -> Any:
    """Polls ``condition`` until it returns a truthy value; fails naming ``what``."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - polled conditions fail until they hold
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f": {last_error}" if last_error else ""))


class Cluster:
    """One compose project of the Vivace image."""

    def __init__(self, compose_file: str, project: str, port: int, env: Optional[Dict[str, str]] = None):
        self.file = COMPOSE_DIR / compose_file
        self.project = project
        #: The coordinator's client port, published on 127.0.0.1.
        self.port = port
        self.env = {**os.environ, **(env or {})}
        self.command = shlex.split(os.environ.get("VIVACE_COMPOSE", "docker-compose"))

    def compose(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*self.command, "-p", self.project, "-f", str(self.file), *args],
            capture_output=True, text=True, env=self.env, timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"compose {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    @contextlib.contextmanager
    def running(self, request: Any, workers: int) -> Iterator[None]:
        """Up and healthy for the block, then removed; logs are printed if a test failed."""
        self.down()
        failed_before = request.session.testsfailed
        self.up(workers)
        try:
            self.wait_healthy()
            yield
        finally:
            if request.session.testsfailed > failed_before:
                print(self.all_logs())
            self.down()

    def up(self, workers: int = 2) -> None:
        self.compose("up", "-d", "--no-build", "--scale", f"worker={workers}")

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "-t", "5", check=False)

    def containers(self, service: str) -> List[str]:
        """Container ids of a service, running or not, oldest first."""
        ids = docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}",
                     "--filter", f"label=com.docker.compose.service={service}").stdout.split()
        return sorted(ids, key=lambda c: self.inspect(c)["Created"])

    def inspect(self, container: str) -> Dict[str, Any]:
        return json.loads(docker("inspect", container).stdout)[0]

    def health(self, container: str) -> str:
        state = self.inspect(container)["State"]
        return state.get("Health", {}).get("Status", state["Status"])

    def hostname(self, container: str) -> str:
        return self.inspect(container)["Config"]["Hostname"]

    def network(self, name: str) -> str:
        return f"{self.project}_{name}"

    def logs(self, container: str) -> str:
        result = docker("logs", container, check=False)
        return result.stdout + result.stderr

    def all_logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "200", check=False).stdout

    def wait_healthy(self, timeout: float = 90) -> None:
        def healthy() -> bool:
            ids = self.containers("coordinator") + self.containers("worker")
            return bool(ids) and all(self.health(c) == "healthy" for c in ids if self.inspect(c)["State"]["Running"])
        wait_until("every container healthy", healthy, timeout)


class Client:
    """The real ``trino`` DBAPI client, from the host."""

    def __init__(self, port: int, **connect: Any):
        self.port = port
        self.connect = connect

    def connection(self) -> trino.dbapi.Connection:
        options = {"host": "127.0.0.1", "port": self.port, "user": "tester",
                   "catalog": "tpch", "schema": "tiny", "request_timeout": 120}
        options.update(self.connect)
        return trino.dbapi.connect(**options)

    def query(self, sql: str) -> List[List[Any]]:
        with self.connection() as conn:
            cur = conn.cursor()
            cur.execute(sql)
            return [list(row) for row in cur.fetchall()]

    def nodes(self) -> List[Dict[str, Any]]:
        rows = self.query("SELECT node_id, http_uri, coordinator, state FROM system.runtime.nodes")
        return [dict(zip(("node_id", "http_uri", "coordinator", "state"), row)) for row in rows]

    def active_workers(self) -> List[str]:
        return sorted(n["node_id"] for n in self.nodes() if not n["coordinator"] and n["state"] == "active")

    def wait_workers(self, expected: Sequence[str], timeout: float = 60) -> None:
        want = sorted(expected)
        wait_until(f"active workers {want}", lambda: self.active_workers() == want, timeout)


class Background:
    """Runs a query on a thread; ``result()`` waits for its rows or raises its error."""

    def __init__(self, client: Client, sql: str):
        self.rows: Optional[List[List[Any]]] = None
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._run, args=(client, sql), daemon=True)
        self.thread.start()

    def _run(self, client: Client, sql: str) -> None:
        try:
            self.rows = client.query(sql)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            self.error = e

    def running(self) -> bool:
        return self.thread.is_alive()

    def result(self, timeout: float = 240) -> List[List[Any]]:
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError(f"the query did not finish within {timeout}s")
        if self.error is not None:
            raise self.error
        assert self.rows is not None
        return self.rows


def same_value(a: Any, b: Any) -> bool:
    """Equal, with doubles compared to a relative 1e-9 (sums over splits differ in the last bits)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b
