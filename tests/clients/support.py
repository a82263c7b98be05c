"""Helpers shared by the client test modules (imported by conftest.py and the tests)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

import requests

USER = "test"
CATALOG = "tpch"
SCHEMA = "tiny"

# Trino query ids: YYYYMMDD_HHMMSS_NNNNN_xxxxx
QUERY_ID_RE = re.compile(r"^\d{8}_\d{6}_\d{5}_[a-z0-9]{5}$")

TPCH_TABLES = {"customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"}

# (connect, read) timeouts for raw HTTP calls. Trino long-polls at most ~1 s per GET.
HTTP_TIMEOUT = (5, 60)


def fetch_all(cursor, sql: str, params: Optional[Any] = None) -> List[List[Any]]:
    """Execute and fetch everything (errors can surface in either step)."""
    if params is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, params)
    return cursor.fetchall()


# ---------------------------------------------------------------------------------------------
# Raw protocol helper (requests)
# ---------------------------------------------------------------------------------------------


class RawClient:
    """Minimal hand-driven client for the statement protocol."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def headers(self, prefix: str = "Trino", user: Optional[str] = USER, **extra: str) -> Dict[str, str]:
        h = {"Content-Type": "text/plain; charset=utf-8"}
        if user is not None:
            h[f"X-{prefix}-User"] = user
        h[f"X-{prefix}-Catalog"] = CATALOG
        h[f"X-{prefix}-Schema"] = SCHEMA
        h[f"X-{prefix}-Source"] = "vivace-client-tests"
        h.update(extra)
        return h

    def post(self, sql: str, headers: Optional[Dict[str, str]] = None) -> requests.Response:
        return self.session.post(
            self.base_url + "/v1/statement",
            data=sql.encode("utf-8"),
            headers=self.headers() if headers is None else headers,
            timeout=HTTP_TIMEOUT,
        )

    def get(self, url: str, headers: Optional[Dict[str, str]] = None) -> requests.Response:
        return self.session.get(url, headers=headers or {}, timeout=HTTP_TIMEOUT)

    def delete(self, url: str, headers: Optional[Dict[str, str]] = None) -> requests.Response:
        return self.session.delete(url, headers=headers or {}, timeout=HTTP_TIMEOUT)

    def start(self, sql: str, headers: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
        response = self.post(sql, headers)
        assert response.status_code == 200, f"POST {sql!r}: HTTP {response.status_code}: {response.text[:500]}"
        return response.json()

    def follow(
        self,
        first: Dict[str, Any],
        headers: Optional[Dict[str, str]] = None,
        deadline_s: float = 90.0,
        max_pages: int = 100_000,
        keep_responses: bool = True,
    ) -> List[Tuple[str, requests.Response, Dict[str, Any]]]:
        """Follow ``nextUri`` from ``first`` until it disappears.

        Returns ``[(url, response, json), ...]`` for every GET made. Fails on any non-200.
        """
        pages: List[Tuple[str, requests.Response, Dict[str, Any]]] = []
        current = first
        deadline = time.monotonic() + deadline_s
        count = 0
        while "nextUri" in current:
            url = current["nextUri"]
            assert time.monotonic() < deadline, f"query {first.get('id')} did not finish within {deadline_s}s"
            count += 1
            assert count <= max_pages, f"more than {max_pages} pages"
            response = self.get(url, headers)
            assert response.status_code == 200, f"GET {url}: HTTP {response.status_code}: {response.text[:500]}"
            current = response.json()
            if keep_responses:
                pages.append((url, response, current))
            else:
                pages[-1:] = [(url, response, current)]
        return pages

    def run(
        self,
        sql: str,
        headers: Optional[Dict[str, str]] = None,
        deadline_s: float = 90.0,
        allow_error: bool = False,
    ):
        """POST and follow; returns (post_json, pages). Fails if the query failed, unless allow_error."""
        first = self.start(sql, headers)
        pages = self.follow(first, headers, deadline_s=deadline_s)
        last = pages[-1][2] if pages else first
        if not allow_error:
            assert "error" not in last, f"{sql!r} failed: {last['error']}"
        return first, pages

    def close(self) -> None:
        self.session.close()


# ---------------------------------------------------------------------------------------------
# Misc helpers
# ---------------------------------------------------------------------------------------------


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


# A query that must scan ~600M generated rows: slow enough to be cancelled mid-flight on any
# engine (the LIKE keeps it from being answered from row-count statistics).
SLOW_QUERY = "SELECT count(*) FROM tpch.sf100.lineitem WHERE comment LIKE '%vivace-never-matches%'"


def assert_no_nulls(obj: Any, path: str = "$", skip_data: bool = True) -> None:
    """Trino never writes ``"field": null`` (airlift NON_ABSENT); only ``data`` rows may hold nulls."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            child = f"{path}.{key}"
            if skip_data and path == "$" and key == "data":
                continue
            assert value is not None, f"{child} is null; absent fields must be left out, not sent as null"
            assert_no_nulls(value, child, skip_data=False)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            child = f"{path}[{i}]"
            assert value is not None, f"{child} is null"
            assert_no_nulls(value, child, skip_data=False)


class BackgroundCall:
    """Runs ``fn`` in a daemon thread and records its result or exception."""

    def __init__(self, fn, *args: Any, **kwargs: Any):
        import threading

        self.result: Any = None
        self.error: Optional[BaseException] = None

        def target() -> None:
            try:
                self.result = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - recorded for the test to inspect
                self.error = e

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def join(self, timeout: float) -> bool:
        """True if the call finished within ``timeout`` seconds."""
        self.thread.join(timeout)
        return not self.thread.is_alive()


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
