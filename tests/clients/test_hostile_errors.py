"""Errors without internals: what a client learns when a filesystem catalog's files are broken.

A server with a ``filesystem`` catalog over a temporary lake holding a file that is not
Parquet, CSV files with bad rows (found while inferring the schema, and past it, while
scanning), malformed JSON, a directory table mixing formats and an ambiguous table name. Each
failing query must name the table (or say what is wrong with the data) but never the lake's
directory, in the message or anywhere else in the protocol's responses; the server log keeps
the detail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import trino

from secured_server import VivaceProcess
from support import RawClient

BAD_QUERIES: List[Tuple[str, str]] = [
    ("SELECT * FROM lake.tenant_a.broken",
     "cannot read table 'tenant_a.broken': the file is not valid Parquet"),
    ("SELECT * FROM lake.tenant_a.ragged",
     "cannot read table 'tenant_a.ragged': the file is not valid CSV"),
    ("SELECT sum(a) FROM lake.tenant_a.late", "Error while parsing value 'abc'"),
    ("SELECT * FROM lake.tenant_a.garbage", "cannot read table 'tenant_a.garbage': the file is not valid JSON"),
    ("SELECT count(*) FROM lake.tenant_a.late_json", "whilst parsing object"),
    ("SELECT * FROM lake.tenant_a.mixed", "the directory mixes file types: 'one.csv' (CSV) and 'two.jsonl' (JSON)"),
    ("SELECT * FROM lake.tenant_a.dup", "is ambiguous: it matches 'dup.csv', 'dup.json'"),
]


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("srv-lake")
    tenant = root / "tenant_a"
    tenant.mkdir()
    (tenant / "good.csv").write_text("a,b\n1,x\n2,y\n")
    (tenant / "broken.parquet").write_bytes(b"PAR1 this is not a parquet file PAR1")
    (tenant / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n6\n")
    # 1,100 good rows (more than the 1,000 read to infer the schema), then a bad one.
    (tenant / "late.csv").write_text("a,b\n" + "".join(f"{i},x\n" for i in range(1100)) + "abc,y\n")
    (tenant / "garbage.json").write_text('{"a": 1}\n{not json\n')
    (tenant / "late_json.json").write_text("".join(f'{{"a":{i}}}\n' for i in range(1100)) + "{oops\n")
    (tenant / "mixed").mkdir()
    (tenant / "mixed" / "one.csv").write_text("a\n1\n")
    (tenant / "mixed" / "two.jsonl").write_text('{"a":1}\n')
    (tenant / "dup.csv").write_text("a\n1\n")
    (tenant / "dup.json").write_text('{"a":1}\n')
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory, lake):
    directory = tmp_path_factory.mktemp("errors-server")
    files = {"catalog/lake.properties": f"connector.name=filesystem\nfilesystem.root={lake}\n"}
    with VivaceProcess(directory, {}, files, https=False) as process:
        yield process


def forms_of(lake: Path) -> List[str]:
    """The lake's directory as errors could spell it: a path, an object-store location, a URL."""
    text = str(lake.resolve())
    return [text, text.lstrip("/"), "file://" + text, str(lake)]


def assert_no_lake_path(text: str, lake: Path) -> None:
    for form in forms_of(lake):
        assert form not in text, f"{form!r} leaked in: {text[:2000]}"


def test_good_table_is_readable(server):
    with trino.dbapi.connect(host="127.0.0.1", port=server.http_port, user="tenant_a",
                             catalog="lake", schema="tenant_a", request_timeout=30) as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT count(*) FROM good")
        assert cursor.fetchall() == [[2]]


@pytest.mark.parametrize("sql,needle", BAD_QUERIES, ids=[q.split("tenant_a.")[1] for q, _ in BAD_QUERIES])
def test_client_errors_name_no_server_path(server, lake, sql, needle):
    # The real client: the message it raises.
    with trino.dbapi.connect(host="127.0.0.1", port=server.http_port, user="tenant_a",
                             catalog="lake", schema="tenant_a", request_timeout=30,
                             max_attempts=1) as conn:
        cursor = conn.cursor()
        with pytest.raises(trino.exceptions.TrinoQueryError) as raised:
            cursor.execute(sql)
            cursor.fetchall()
    error = raised.value
    assert needle in error.message, error.message
    assert_no_lake_path(error.message, lake)
    assert_no_lake_path(str(error), lake)

    # The raw protocol: every response of the query, including the whole error object
    # (failureInfo and any stack) and the query's own info.
    raw = RawClient(server.http_url)
    headers: Dict[str, str] = {"X-Trino-User": "tenant_a", "X-Trino-Catalog": "lake",
                               "X-Trino-Schema": "tenant_a"}
    first = raw.post(sql, headers=headers)
    assert first.status_code == 200, first.text
    texts = [first.text]
    current = first.json()
    for _ in range(200):
        if "nextUri" not in current:
            break
        response = raw.get(current["nextUri"], headers=headers)
        assert response.status_code == 200, response.text
        texts.append(response.text)
        current = response.json()
    assert "error" in current, current
    assert needle in current["error"]["message"]
    query_info = raw.get(f"{server.http_url}/v1/query/{current['id']}", headers=headers)
    texts.append(query_info.text)
    for text in texts:
        assert_no_lake_path(text, lake)


def test_the_server_log_keeps_the_detail(server, lake):
    # The broken table's location is logged for the operator (the queries above ran first).
    with trino.dbapi.connect(host="127.0.0.1", port=server.http_port, user="tenant_a",
                             catalog="lake", schema="tenant_a", request_timeout=30,
                             max_attempts=1) as conn:
        with pytest.raises(trino.exceptions.TrinoQueryError):
            conn.cursor().execute("SELECT * FROM broken").fetchall()
    log = server.log()
    assert "cannot read table" in log
    assert str(lake.resolve() / "tenant_a" / "broken.parquet") in log


@pytest.mark.parametrize("explain", ["EXPLAIN", "EXPLAIN (TYPE DISTRIBUTED)", "EXPLAIN ANALYZE",
                                     "EXPLAIN (TYPE IO, FORMAT JSON)"])
def test_plans_show_the_catalog_not_the_lake(server, lake, explain):
    with trino.dbapi.connect(host="127.0.0.1", port=server.http_port, user="tenant_a",
                             catalog="lake", schema="tenant_a", request_timeout=30) as conn:
        cursor = conn.cursor()
        cursor.execute(f"{explain} SELECT sum(a) FROM good")
        plan = "\n".join(str(row[0]) for row in cursor.fetchall())
    assert_no_lake_path(plan, lake)
    if explain != "EXPLAIN (TYPE IO, FORMAT JSON)":
        assert "lake:/tenant_a/good.csv" in plan, plan
