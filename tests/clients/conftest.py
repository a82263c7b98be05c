"""Shared fixtures for the Python client compatibility suite.

The server under test is given by the environment variable ``VIVACE_URL``
(e.g. ``http://127.0.0.1:8080``); ``run.sh`` starts a server and sets it.
Helpers used by the test modules live in ``support.py``.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from support import CATALOG, HTTP_TIMEOUT, SCHEMA, USER, RawClient

# ---------------------------------------------------------------------------------------------
# Server location
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server_url() -> str:
    url = os.environ.get("VIVACE_URL")
    if not url:
        pytest.fail(
            "VIVACE_URL is not set. Start the suite with tests/clients/run.sh, or export "
            "VIVACE_URL=http://HOST:PORT pointing at a running Vivace server.",
            pytrace=False,
        )
    url = url.rstrip("/")
    try:
        response = requests.get(url + "/v1/info", timeout=HTTP_TIMEOUT)
    except requests.RequestException as e:
        pytest.fail(f"server at {url} is not reachable: {e}", pytrace=False)
    if response.status_code != 200:
        pytest.fail(f"GET {url}/v1/info answered {response.status_code}: {response.text[:500]}", pytrace=False)
    return url


@pytest.fixture(scope="session")
def host(server_url: str) -> str:
    hostname = urlsplit(server_url).hostname
    assert hostname, server_url
    return hostname


@pytest.fixture(scope="session")
def port(server_url: str) -> int:
    parsed = urlsplit(server_url)
    assert parsed.port, f"VIVACE_URL must include a port: {server_url}"
    return parsed.port


# ---------------------------------------------------------------------------------------------
# trino DBAPI
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def trino_connect(host: str, port: int) -> Iterator[Callable[..., Any]]:
    """Factory: ``trino_connect(**overrides)`` -> trino.dbapi.Connection (user test, tpch.tiny)."""
    import trino.dbapi

    connections = []

    def connect(**overrides: Any):
        kwargs: Dict[str, Any] = dict(
            host=host,
            port=port,
            user=USER,
            catalog=CATALOG,
            schema=SCHEMA,
            http_scheme="http",
            request_timeout=60,
        )
        kwargs.update(overrides)
        conn = trino.dbapi.connect(**kwargs)
        connections.append(conn)
        return conn

    yield connect
    for conn in connections:
        try:
            conn.close()
        except Exception:
            pass


@pytest.fixture
def trino_conn(trino_connect):
    """A trino DBAPI connection as user "test" with catalog tpch, schema tiny."""
    return trino_connect()


@pytest.fixture
def trino_cur(trino_conn):
    return trino_conn.cursor()


# ---------------------------------------------------------------------------------------------
# SQLAlchemy
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def engine(host: str, port: int):
    """SQLAlchemy engine for trino://test@host:port/tpch/tiny."""
    import sqlalchemy

    eng = sqlalchemy.create_engine(
        f"trino://{USER}@{host}:{port}/{CATALOG}/{SCHEMA}",
        connect_args={"http_scheme": "http", "request_timeout": 60},
    )
    yield eng
    eng.dispose()


# ---------------------------------------------------------------------------------------------
# presto-python-client
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def presto_connect(host: str, port: int) -> Iterator[Callable[..., Any]]:
    """Factory: ``presto_connect(**overrides)`` -> prestodb.dbapi.Connection (user test, tpch.tiny)."""
    import prestodb.dbapi

    connections = []

    def connect(**overrides: Any):
        kwargs: Dict[str, Any] = dict(
            host=host, port=port, user=USER, catalog=CATALOG, schema=SCHEMA, request_timeout=60
        )
        kwargs.update(overrides)
        conn = prestodb.dbapi.connect(**kwargs)
        connections.append(conn)
        return conn

    yield connect
    for conn in connections:
        try:
            conn.close()
        except Exception:
            pass


@pytest.fixture
def presto_conn(presto_connect):
    """A presto-python-client connection as user "test" with catalog tpch, schema tiny."""
    return presto_connect()


# ---------------------------------------------------------------------------------------------
# Raw protocol
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def raw(server_url: str) -> Iterator[RawClient]:
    client = RawClient(server_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def trust_only_generated_ca() -> Iterator[None]:
    """requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's ``verify`` (which is
    how the trino client passes ``verify=``); a module using this trusts only the CA it passes."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA and a server certificate for localhost and 127.0.0.1, from ``vivace gen-cert``."""
    from secured_server import run_vivace

    out = tmp_path_factory.mktemp("pki")
    result = run_vivace("gen-cert", "--host", "localhost", "--host", "127.0.0.1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out
