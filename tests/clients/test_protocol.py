"""The statement protocol on the wire (raw HTTP with requests), checked against real Trino behaviour."""

from __future__ import annotations

import re
import time
from typing import Any, Dict, List, Tuple

import pytest

from support import QUERY_ID_RE, SLOW_QUERY, USER, assert_no_nulls, unique_name, wait_until

INT_STATS = [
    "nodes",
    "totalSplits",
    "queuedSplits",
    "runningSplits",
    "completedSplits",
    "cpuTimeMillis",
    "wallTimeMillis",
    "queuedTimeMillis",
    "elapsedTimeMillis",
    "processedRows",
    "processedBytes",
    "physicalInputBytes",
    "peakMemoryBytes",
    "spilledBytes",
]
STATES = {
    "QUEUED",
    "WAITING_FOR_RESOURCES",
    "DISPATCHING",
    "PLANNING",
    "STARTING",
    "RUNNING",
    "FINISHING",
    "FINISHED",
    "FAILED",
}


def _split_token(url: str) -> Tuple[str, int]:
    """``.../{queryId}/{slug}/{token}`` -> (prefix without token, token)."""
    prefix, _, token = url.rpartition("/")
    assert token.isdigit(), f"nextUri does not end in a numeric token: {url}"
    return prefix, int(token)


def _with_token(url: str, token: int) -> str:
    prefix, _ = _split_token(url)
    return f"{prefix}/{token}"


def _check_results_shape(body: Dict[str, Any], server_url: str) -> None:
    """Checks every QueryResults document must pass."""
    assert_no_nulls(body)
    assert QUERY_ID_RE.match(body["id"]), body["id"]
    assert isinstance(body["infoUri"], str) and body["infoUri"].startswith("http")
    assert body["id"] in body["infoUri"]
    if "nextUri" in body:
        assert body["nextUri"].startswith(server_url + "/"), (body["nextUri"], server_url)
    stats = body["stats"]
    assert stats["state"] in STATES, stats["state"]
    assert isinstance(stats["queued"], bool)
    assert isinstance(stats["scheduled"], bool)
    for name in INT_STATS:
        assert name in stats, f"stats.{name} missing"
        assert type(stats[name]) is int, f"stats.{name} = {stats[name]!r} is not an integer"
        assert stats[name] >= 0
    if "progressPercentage" in stats:
        assert isinstance(stats["progressPercentage"], (int, float))
    for column in body.get("columns", []):
        assert set(column) >= {"name", "type", "typeSignature"}, column
        assert "rawType" in column["typeSignature"] and "arguments" in column["typeSignature"]
    if "data" in body:
        assert isinstance(body["data"], list) and body["data"], "data must be omitted rather than empty"
        assert "columns" in body, "a page with data must carry columns"
    if "error" in body:
        assert stats["state"] == "FAILED"
        assert "nextUri" not in body


def _collect(pages) -> Tuple[List[Dict[str, Any]], List[List[Any]], Dict[str, Any]]:
    columns = None
    data: List[List[Any]] = []
    for _, _, body in pages:
        if "columns" in body:
            columns = body["columns"]
        data.extend(body.get("data", []))
    return columns, data, pages[-1][2]


# ---------------------------------------------------------------------------------------------
# POST /v1/statement and the page sequence
# ---------------------------------------------------------------------------------------------


def test_post_returns_queued_with_next_uri_and_no_results(raw, server_url):
    response = raw.post("SELECT 1")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    _check_results_shape(body, server_url)
    assert body["stats"]["state"] == "QUEUED"
    assert "nextUri" in body
    assert "columns" not in body
    assert "data" not in body
    assert "error" not in body
    raw.follow(body)  # let it finish


def test_query_id_format(raw):
    body = raw.start("SELECT 1")
    assert QUERY_ID_RE.match(body["id"]), body["id"]
    assert body["infoUri"].endswith(body["id"])
    raw.follow(body)


def test_query_ids_are_unique(raw):
    ids = set()
    for _ in range(5):
        body = raw.start("SELECT 1")
        ids.add(body["id"])
        raw.follow(body)
    assert len(ids) == 5


def test_select_1_full_exchange(raw, server_url):
    first, pages = raw.run("SELECT 1")
    assert pages, "the POST response must carry a nextUri"
    for _, response, body in pages:
        assert response.headers["Content-Type"].startswith("application/json")
        _check_results_shape(body, server_url)
        assert body["id"] == first["id"]
    columns, data, last = _collect(pages)
    assert columns == [
        {"name": "_col0", "type": "integer", "typeSignature": {"rawType": "integer", "arguments": []}}
    ]
    assert data == [[1]]
    assert last["stats"]["state"] == "FINISHED"
    assert "nextUri" not in last
    assert "error" not in last
    assert "updateType" not in last


def test_columns_arrive_with_or_before_first_data(raw):
    _, pages = raw.run("SELECT nationkey, name FROM tpch.tiny.nation")
    seen_columns = False
    rows = 0
    for _, _, body in pages:
        seen_columns = seen_columns or "columns" in body
        if "data" in body:
            assert seen_columns
            rows += len(body["data"])
    assert rows == 25


def test_column_type_signatures(raw):
    # A client that announces PARAMETRIC_DATETIME gets timestamp precision in the signature.
    _, pages = raw.run(
        "SELECT CAST('a' AS varchar(5)), CAST(1 AS decimal(10, 2)), CAST(ARRAY[1] AS array(bigint)), "
        "CAST(ROW(1, 'x') AS row(a bigint, b varchar)), CAST(TIMESTAMP '2024-01-31 00:00:00' AS timestamp(3))",
        headers=raw.headers(**{"X-Trino-Client-Capabilities": "PARAMETRIC_DATETIME"}),
    )
    columns, data, _ = _collect(pages)
    signatures = [c["typeSignature"] for c in columns]
    assert signatures[0] == {"rawType": "varchar", "arguments": [{"kind": "LONG", "value": 5}]}
    assert signatures[1] == {
        "rawType": "decimal",
        "arguments": [{"kind": "LONG", "value": 10}, {"kind": "LONG", "value": 2}],
    }
    assert signatures[2] == {
        "rawType": "array",
        "arguments": [{"kind": "TYPE", "value": {"rawType": "bigint", "arguments": []}}],
    }
    assert signatures[3] == {
        "rawType": "row",
        "arguments": [
            {"kind": "NAMED_TYPE",
             "value": {"fieldName": {"name": "a"}, "typeSignature": {"rawType": "bigint", "arguments": []}}},
            {"kind": "NAMED_TYPE",
             "value": {"fieldName": {"name": "b"},
                       "typeSignature": {"rawType": "varchar",
                                         "arguments": [{"kind": "LONG", "value": 2147483647}]}}},
        ],
    }
    assert signatures[4] == {"rawType": "timestamp", "arguments": [{"kind": "LONG", "value": 3}]}
    assert data == [["a", "1.00", [1], [1, "x"], "2024-01-31 00:00:00.000"]]


def test_value_encoding_on_the_wire(raw):
    _, pages = raw.run(
        "SELECT CAST(1 AS double), nan(), infinity(), -infinity(), X'0a0b', CAST('ab' AS char(4)), "
        "MAP(ARRAY[1], ARRAY['x']), json_parse('{\"a\":1}'), CAST(NULL AS bigint)"
    )
    _, data, _ = _collect(pages)
    row = data[0]
    assert row[0] == 1.0 and type(row[0]) is float  # JSON float token, not the integer 1
    assert row[1:4] == ["NaN", "Infinity", "-Infinity"]
    assert row[4] == "Cgs="  # base64
    assert row[5] == "ab  "
    assert row[6] == {"1": "x"}
    assert row[7] == '{"a":1}'
    assert row[8] is None


def test_double_column_uses_float_tokens_in_raw_json(raw):
    _, pages = raw.run("SELECT CAST(1 AS double), CAST(2 AS real)")
    texts = [response.text for _, response, body in pages if "data" in body]
    assert texts
    # JDBC's typed decoder rejects an integer token for a double/real column
    assert re.search(r'"data"\s*:\s*\[\s*\[\s*1\.0(E0)?\s*,\s*2\.0(E0)?\s*\]\s*\]', "".join(texts)), texts


def test_success_responses_have_no_null_fields(raw, server_url):
    for sql in ("SELECT 1", "SHOW CATALOGS", "DESCRIBE tpch.tiny.nation", "SELECT NULL, CAST(NULL AS varchar)"):
        first, pages = raw.run(sql)
        for body in [first] + [p[2] for p in pages]:
            _check_results_shape(body, server_url)
            assert "error" not in body


def test_data_rows_keep_nulls(raw):
    _, pages = raw.run("SELECT NULL, 1")
    _, data, _ = _collect(pages)
    assert data == [[None, 1]]


# ---------------------------------------------------------------------------------------------
# Tokens: idempotent re-GET, 410 for old tokens, 404 for unknown ones
# ---------------------------------------------------------------------------------------------


def test_reget_same_next_uri_returns_identical_body(raw):
    body = raw.start("SELECT * FROM tpch.tiny.nation")
    checked = 0
    current = body
    while "nextUri" in current:
        url = current["nextUri"]
        first = raw.get(url)
        assert first.status_code == 200
        current = first.json()
        # Vivace caches every page, queued ones included, so every re-GET must be identical.
        again = raw.get(url)
        assert again.status_code == 200, f"re-GET {url}: HTTP {again.status_code}"
        assert again.json() == current
        checked += 1
    assert checked >= 1


def test_old_token_is_gone(raw):
    # lineitem is large enough to need several pages.
    body = raw.start("SELECT * FROM tpch.tiny.lineitem")
    urls = []
    current = body
    while "nextUri" in current:
        urls.append(current["nextUri"])
        response = raw.get(urls[-1])
        assert response.status_code == 200
        current = response.json()
    # find two consecutive pages of the same resource (same .../{queryId}/{slug}/ prefix)
    pairs = [(a, b) for a, b in zip(urls, urls[1:]) if _split_token(a)[0] == _split_token(b)[0]]
    assert pairs, f"expected at least two pages of the same resource, got {urls}"
    older, newer = pairs[-1]
    assert _split_token(newer)[1] == _split_token(older)[1] + 1
    response = raw.get(older)
    assert response.status_code == 410, f"GET of an older token {older}: HTTP {response.status_code}"


def test_token_past_the_end_is_not_found(raw):
    _, pages = raw.run("SELECT 1")
    last_url = pages[-1][0]
    prefix, token = _split_token(last_url)
    response = raw.get(f"{prefix}/{token + 1}")
    assert response.status_code == 404


def test_unknown_query_id_is_not_found(raw):
    body = raw.start("SELECT 1")
    url = body["nextUri"]
    fake_id = "20000101_000000_00000_zzzzz"
    assert body["id"] in url
    response = raw.get(url.replace(body["id"], fake_id))
    assert response.status_code == 404
    response = raw.get(f"{raw.base_url}/v1/statement/executing/{fake_id}/xyz/0")
    assert response.status_code == 404
    raw.follow(body)


def test_wrong_slug_is_not_found(raw):
    body = raw.start("SELECT 1")
    pages = raw.follow(body)
    url = pages[-1][0]
    prefix, token = _split_token(url)
    base, _, _slug = prefix.rpartition("/")
    response = raw.get(f"{base}/wrongslug/{token}")
    assert response.status_code == 404


def test_head_on_next_uri_does_not_advance(raw):
    body = raw.start("SELECT 1")
    url = body["nextUri"]
    head = raw.session.head(url, timeout=30)
    assert head.status_code in (200, 405), head.status_code
    pages = raw.follow(body)
    _, data, last = _collect(pages)
    assert data == [[1]] and last["stats"]["state"] == "FINISHED"


# ---------------------------------------------------------------------------------------------
# Bad requests and authentication
# ---------------------------------------------------------------------------------------------


def test_empty_body_is_bad_request(raw):
    response = raw.post("")
    assert response.status_code == 400


def test_missing_user_is_unauthorized(raw):
    response = raw.post("SELECT 1", headers=raw.headers(user=None))
    assert response.status_code == 401
    challenge = response.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Basic"), challenge


# ---------------------------------------------------------------------------------------------
# Cancellation
# ---------------------------------------------------------------------------------------------


def _final_error_after_cancel(raw, url) -> Dict[str, Any]:
    """Follow from ``url`` after a cancel; Trino reports the query FAILED with USER_CANCELED."""
    response = raw.get(url)
    assert response.status_code == 200, f"GET {url} after cancel: HTTP {response.status_code}"
    body = response.json()
    pages = raw.follow(body, deadline_s=30) if "nextUri" in body else []
    last = pages[-1][2] if pages else body
    assert "error" in last, f"cancelled query ended without an error: {last}"
    assert last["stats"]["state"] == "FAILED"
    assert "nextUri" not in last
    return last["error"]


@pytest.mark.timeout(90)
def test_delete_on_queued_next_uri(raw):
    body = raw.start(SLOW_QUERY)
    response = raw.delete(body["nextUri"])
    assert response.status_code == 204
    error = _final_error_after_cancel(raw, body["nextUri"])
    assert error["errorName"] == "USER_CANCELED"
    assert error["errorCode"] == 3
    assert error["errorType"] == "USER_ERROR"


@pytest.mark.timeout(90)
def test_delete_on_executing_next_uri(raw):
    body = raw.start(SLOW_QUERY)
    current = body
    for _ in range(3):  # advance past the queued phase (each GET waits up to ~1 s)
        response = raw.get(current["nextUri"])
        assert response.status_code == 200
        current = response.json()
        assert "nextUri" in current, f"slow query ended early: {current}"
    started = time.monotonic()
    response = raw.delete(current["nextUri"])
    assert response.status_code == 204
    error = _final_error_after_cancel(raw, current["nextUri"])
    assert error["errorName"] == "USER_CANCELED"
    assert time.monotonic() - started < 30


@pytest.mark.timeout(90)
def test_delete_query_resource(raw):
    body = raw.start(SLOW_QUERY)
    # Trino only submits the query on the first GET
    response = raw.get(body["nextUri"])
    assert response.status_code == 200
    current = response.json()
    assert "nextUri" in current
    response = raw.delete(f"{raw.base_url}/v1/query/{body['id']}", headers={"X-Trino-User": USER})
    assert response.status_code == 204
    error = _final_error_after_cancel(raw, current["nextUri"])
    assert error["errorName"] == "USER_CANCELED"


@pytest.mark.timeout(90)
def test_cancelled_query_reported_failed_in_query_list(raw):
    body = raw.start(SLOW_QUERY)
    raw.get(body["nextUri"])
    assert raw.delete(f"{raw.base_url}/v1/query/{body['id']}", headers={"X-Trino-User": USER}).status_code == 204

    def state():
        response = raw.get(f"{raw.base_url}/v1/query", headers={"X-Trino-User": USER})
        assert response.status_code == 200
        entries = [q for q in response.json() if q.get("queryId") == body["id"]]
        return entries and entries[0]["state"] == "FAILED"

    wait_until(state, 20, interval=0.2, message="cancelled query to be FAILED in /v1/query")


# ---------------------------------------------------------------------------------------------
# Failed queries
# ---------------------------------------------------------------------------------------------


def test_failed_query_shape(raw, server_url):
    first, pages = raw.run("SELECT * FROM tpch.tiny.no_such_table", allow_error=True)
    responses = [p[1] for p in pages]
    assert all(r.status_code == 200 for r in responses)
    bodies = [first] + [p[2] for p in pages]
    for body in bodies:
        _check_results_shape(body, server_url)
    last = bodies[-1]
    assert last["stats"]["state"] == "FAILED"
    assert "nextUri" not in last
    error = last["error"]
    assert error["message"] == "line 1:15: Table 'tpch.tiny.no_such_table' does not exist"
    assert error["errorCode"] == 46
    assert error["errorName"] == "TABLE_NOT_FOUND"
    assert error["errorType"] == "USER_ERROR"
    assert error["errorLocation"] == {"lineNumber": 1, "columnNumber": 15}
    failure = error["failureInfo"]
    assert isinstance(failure["type"], str) and failure["type"]
    assert isinstance(failure["suppressed"], list)
    assert isinstance(failure["stack"], list)
    assert "sqlState" not in error or isinstance(error["sqlState"], str)


def test_syntax_error_shape(raw):
    first, pages = raw.run("SELECT FROM WHERE", allow_error=True)
    last = pages[-1][2] if pages else first  # errors may also come back in the POST response
    assert last["stats"]["state"] == "FAILED"
    error = last["error"]
    assert error["errorName"] == "SYNTAX_ERROR"
    assert error["errorCode"] == 1
    assert error["errorType"] == "USER_ERROR"
    location = error["errorLocation"]
    assert location["lineNumber"] == 1 and location["columnNumber"] >= 1
    assert error["message"].startswith(f"line 1:{location['columnNumber']}: ")


# ---------------------------------------------------------------------------------------------
# Headers: Trino vs Presto prefix, session/catalog updates
# ---------------------------------------------------------------------------------------------


def _all_response_headers(first_response, pages):
    headers = [first_response.headers] + [p[1].headers for p in pages]
    return headers


def _run_with_response(raw, sql, headers):
    response = raw.post(sql, headers)
    assert response.status_code == 200, response.text
    pages = raw.follow(response.json(), headers)
    assert pages, "the POST response must carry a nextUri"
    assert "error" not in pages[-1][2], pages[-1][2]["error"]
    return response, pages


def test_set_session_header_trino(raw):
    headers = raw.headers("Trino")
    response, pages = _run_with_response(raw, "SET SESSION query_max_execution_time = '10m'", headers)
    all_headers = _all_response_headers(response, pages)
    values = [h["X-Trino-Set-Session"] for h in all_headers if "X-Trino-Set-Session" in h]
    assert values, "no X-Trino-Set-Session header on any response"
    assert all(v == "query_max_execution_time=10m" for v in values), values
    assert not any(k.lower().startswith("x-presto-") for h in all_headers for k in h)
    last = pages[-1][2]
    assert last["updateType"] == "SET SESSION"
    assert any("columns" in p[2] for p in pages), "JDBC fails with 'Query has no columns' without a columns field"


def test_set_session_header_presto(raw):
    headers = raw.headers("Presto")
    response, pages = _run_with_response(raw, "SET SESSION query_max_execution_time = '10m'", headers)
    all_headers = _all_response_headers(response, pages)
    values = [h["X-Presto-Set-Session"] for h in all_headers if "X-Presto-Set-Session" in h]
    assert values, "no X-Presto-Set-Session header on any response"
    assert all(v == "query_max_execution_time=10m" for v in values), values
    assert not any(k.lower().startswith("x-trino-") for h in all_headers for k in h)


def test_set_session_value_is_form_encoded(raw):
    headers = raw.headers("Trino")
    response, pages = _run_with_response(raw, "SET SESSION query_max_execution_time = '1 h'", headers)
    values = [h["X-Trino-Set-Session"] for h in _all_response_headers(response, pages) if "X-Trino-Set-Session" in h]
    # the Python client decodes with unquote_plus, Java with URLDecoder: a space may be '+' or '%20'
    assert values and all(v in ("query_max_execution_time=1+h", "query_max_execution_time=1%20h") for v in values), values


def test_reset_session_header(raw):
    headers = raw.headers("Trino", **{"X-Trino-Session": "query_max_execution_time=10m"})
    response, pages = _run_with_response(raw, "RESET SESSION query_max_execution_time", headers)
    values = [h["X-Trino-Clear-Session"] for h in _all_response_headers(response, pages) if "X-Trino-Clear-Session" in h]
    assert values and all(v == "query_max_execution_time" for v in values), values
    assert pages[-1][2]["updateType"] == "RESET SESSION"


def test_use_headers(raw):
    response, pages = _run_with_response(raw, "USE tpch.sf1", raw.headers("Trino"))
    all_headers = _all_response_headers(response, pages)
    catalogs = {h["X-Trino-Set-Catalog"] for h in all_headers if "X-Trino-Set-Catalog" in h}
    schemas = {h["X-Trino-Set-Schema"] for h in all_headers if "X-Trino-Set-Schema" in h}
    assert catalogs == {"tpch"}
    assert schemas == {"sf1"}
    assert pages[-1][2]["updateType"] == "USE"


def test_session_header_is_applied(raw):
    headers = raw.headers("Trino", **{"X-Trino-Session": "query_max_execution_time=7m"})
    _, pages = raw.run("SHOW SESSION", headers)
    _, data, _ = _collect(pages)
    rows = [r for r in data if r[0] == "query_max_execution_time"]
    assert rows and rows[0][1] == "7m"


def test_prepared_statement_header(raw):
    headers = raw.headers("Trino", **{"X-Trino-Prepared-Statement": "my_q=SELECT+%3F+%2B+1"})
    _, pages = raw.run("EXECUTE my_q USING 41", headers)
    _, data, _ = _collect(pages)
    assert data == [[42]]


def test_prepare_returns_added_prepare_header(raw):
    response, pages = _run_with_response(raw, "PREPARE my_q FROM SELECT 1", raw.headers("Trino"))
    values = [h["X-Trino-Added-Prepare"] for h in _all_response_headers(response, pages) if "X-Trino-Added-Prepare" in h]
    assert values, "no X-Trino-Added-Prepare header"
    name, _, sql = values[0].partition("=")
    assert name == "my_q"
    from urllib.parse import unquote_plus

    assert " ".join(unquote_plus(sql).split()) == "SELECT 1"
    assert pages[-1][2]["updateType"] == "PREPARE"


# ---------------------------------------------------------------------------------------------
# DML shape
# ---------------------------------------------------------------------------------------------


def test_insert_shape(raw):
    schema = unique_name("p")
    try:
        raw.run(f"CREATE SCHEMA memory.{schema}")
        _, pages = raw.run(f"CREATE TABLE memory.{schema}.t (id bigint)")
        assert pages[-1][2]["updateType"] == "CREATE TABLE"
        _, pages = raw.run(f"INSERT INTO memory.{schema}.t VALUES (1), (2), (3)")
        columns, data, last = _collect(pages)
        assert [(c["name"], c["type"]) for c in columns] == [("rows", "bigint")]
        assert data == [[3]]
        assert last["updateType"] == "INSERT"
        assert last["updateCount"] == 3
    finally:
        raw.run(f"DROP TABLE IF EXISTS memory.{schema}.t", allow_error=True)
        raw.run(f"DROP SCHEMA IF EXISTS memory.{schema}", allow_error=True)


# ---------------------------------------------------------------------------------------------
# Other endpoints
# ---------------------------------------------------------------------------------------------


def test_info(raw):
    response = raw.get(f"{raw.base_url}/v1/info")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    info = response.json()
    assert_no_nulls(info)
    version = info["nodeVersion"]["version"]
    assert isinstance(version, str) and re.fullmatch(r"\d+(\.\d+)*", version), version
    assert info["starting"] is False
    assert info["coordinator"] is True
    assert isinstance(info["environment"], str)
    assert re.fullmatch(r"\d+(\.\d+)?(ns|us|ms|s|m|h|d)", info["uptime"]), info["uptime"]


def test_info_state(raw):
    response = raw.get(f"{raw.base_url}/v1/info/state")
    assert response.status_code == 200
    assert response.json() == "ACTIVE"


def test_info_coordinator(raw):
    assert raw.get(f"{raw.base_url}/v1/info/coordinator").status_code == 200


def test_query_list_contains_users_query(raw):
    marker = unique_name("marker")
    first, _ = raw.run(f"SELECT '{marker}'")
    response = raw.get(f"{raw.base_url}/v1/query", headers={"X-Trino-User": USER})
    assert response.status_code == 200
    queries = response.json()
    assert isinstance(queries, list)
    entries = [q for q in queries if q.get("queryId") == first["id"]]
    assert len(entries) == 1, f"query {first['id']} not listed"
    entry = entries[0]
    assert marker in entry["query"]
    assert entry["state"] == "FINISHED"
    assert entry["session"]["user"] == USER


def test_final_stats_count_processed_rows(raw):
    first, pages = raw.run("SELECT count(*) FROM tpch.tiny.lineitem")
    last = pages[-1][2] if pages else first
    assert last["stats"]["state"] == "FINISHED"
    assert last["stats"]["processedRows"] == 60175
    assert last["stats"]["processedBytes"] > 0
    assert last["stats"]["completedSplits"] == last["stats"]["totalSplits"] >= 1
