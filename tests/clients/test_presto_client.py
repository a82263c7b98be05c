"""presto-python-client (prestodb, X-Presto-* headers) against Vivace."""

from __future__ import annotations

import time

import prestodb
import prestodb.exceptions
import pytest

from support import QUERY_ID_RE, SLOW_QUERY, BackgroundCall, fetch_all, wait_until


def test_select_1(presto_conn):
    cur = presto_conn.cursor()
    assert fetch_all(cur, "SELECT 1") == [[1]]
    # presto-python-client only reads columns from GET responses, never from the POST response
    assert cur.description is not None
    assert [d[:2] for d in cur.description] == [("_col0", "integer")]


def test_count_tiny_lineitem(presto_conn):
    assert fetch_all(presto_conn.cursor(), "SELECT count(*) FROM tpch.tiny.lineitem") == [[60175]]


def test_unqualified_table_uses_session_schema(presto_conn):
    assert fetch_all(presto_conn.cursor(), "SELECT count(*) FROM region") == [[5]]


def test_multiple_rows(presto_conn):
    cur = presto_conn.cursor()
    rows = fetch_all(cur, "SELECT nationkey, name FROM tpch.tiny.nation ORDER BY nationkey LIMIT 3")
    assert rows == [[0, "ALGERIA"], [1, "ARGENTINA"], [2, "BRAZIL"]]
    assert [d[:2] for d in cur.description] == [("nationkey", "bigint"), ("name", "varchar(25)")]


def test_stats_query_id(presto_conn):
    cur = presto_conn.cursor()
    fetch_all(cur, "SELECT 1")
    assert QUERY_ID_RE.match(cur.stats["queryId"]), cur.stats
    assert cur.stats["state"] == "FINISHED"


def test_parameters_use_prepare_execute_deallocate(presto_conn):
    cur = presto_conn.cursor()
    # PREPARE st_x FROM ...  -> X-Presto-Added-Prepare (client copies it into X-Presto-Prepared-Statement)
    # EXECUTE st_x USING 41, 'x'
    # DEALLOCATE PREPARE st_x
    assert fetch_all(cur, "SELECT ? + 1, ?", (41, "x")) == [[42, "x"]]


def test_parameters_twice_tolerates_stale_prepared_statement_header(presto_conn):
    # The client never drops deallocated statements from X-Presto-Prepared-Statement.
    assert fetch_all(presto_conn.cursor(), "SELECT ? * 2", (21,)) == [[42]]
    assert fetch_all(presto_conn.cursor(), "SELECT ?, ?", ("a", "it's")) == [["a", "it's"]]


def test_parameter_in_where_clause(presto_conn):
    rows = fetch_all(presto_conn.cursor(), "SELECT name FROM tpch.tiny.nation WHERE nationkey = ?", (24,))
    assert rows == [["UNITED STATES"]]


def test_set_session_is_tracked(presto_conn):
    cur = presto_conn.cursor()
    fetch_all(cur, "SET SESSION query_max_execution_time = '10m'")
    # X-Presto-Set-Session was understood by the client
    assert presto_conn._client_session.properties.get("query_max_execution_time") == "10m"
    rows = fetch_all(presto_conn.cursor(), "SHOW SESSION")
    matching = [r for r in rows if r[0] == "query_max_execution_time"]
    assert len(matching) == 1 and matching[0][1] == "10m"


def test_missing_table_error(presto_conn):
    with pytest.raises(prestodb.exceptions.PrestoUserError) as info:
        fetch_all(presto_conn.cursor(), "SELECT * FROM tpch.tiny.no_such_table")
    assert info.value.error_name == "TABLE_NOT_FOUND"
    assert info.value.error_type == "USER_ERROR"
    assert info.value.error_code == 46
    assert info.value.error_location == (1, 15)


def test_syntax_error(presto_conn):
    with pytest.raises(prestodb.exceptions.PrestoUserError) as info:
        fetch_all(presto_conn.cursor(), "SELEC 1")
    assert info.value.error_name == "SYNTAX_ERROR"


def test_success_responses_have_no_error_key(presto_conn):
    # prestodb raises on `"error" in response`, so any "error": null would make this fail.
    for sql in ("SELECT 1", "SHOW CATALOGS", "SET SESSION query_max_execution_time = '1h'", "DESCRIBE nation"):
        fetch_all(presto_conn.cursor(), sql)


@pytest.mark.timeout(120)
def test_cancel(presto_conn):
    cur = presto_conn.cursor()

    def run():
        # prestodb's execute() keeps polling until the query is finished or cancelled
        cur.execute(SLOW_QUERY)
        return cur.fetchall()

    call = BackgroundCall(run)
    wait_until(lambda: cur._query is not None and cur._query.query_id is not None, 30, message="query to start")
    assert call.thread.is_alive(), f"query finished before it could be cancelled: {call.error or call.result}"
    time.sleep(1.0)
    cur.cancel()  # DELETE /v1/query/{queryId}; raises unless 204
    assert call.join(30), "query did not stop within 30 s of cursor.cancel()"
    assert call.result is None, f"cancelled query returned rows: {call.result}"
    assert isinstance(call.error, prestodb.exceptions.PrestoQueryError), repr(call.error)
    assert call.error.error_name == "USER_CANCELED"
    assert fetch_all(presto_conn.cursor(), "SELECT 1") == [[1]]
