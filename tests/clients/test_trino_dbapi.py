"""The `trino` PyPI client's DBAPI against Vivace: queries, metadata, session, paging, cancel, errors."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import trino.exceptions

from support import QUERY_ID_RE, SLOW_QUERY, TPCH_TABLES, BackgroundCall, fetch_all, wait_until

# ---------------------------------------------------------------------------------------------
# Basic queries
# ---------------------------------------------------------------------------------------------


def test_select_1(trino_cur):
    assert fetch_all(trino_cur, "SELECT 1") == [[1]]


def test_select_1_description(trino_cur):
    trino_cur.execute("SELECT 1")
    assert [d[:2] for d in trino_cur.description] == [("_col0", "integer")]


def test_count_tiny_lineitem(trino_cur):
    assert fetch_all(trino_cur, "SELECT count(*) FROM tpch.tiny.lineitem") == [[60175]]


def test_unqualified_table_uses_session_catalog_and_schema(trino_cur):
    assert fetch_all(trino_cur, "SELECT count(*) FROM nation") == [[25]]


def test_select_version_returns_string(trino_cur):
    rows = fetch_all(trino_cur, "SELECT version()")
    assert len(rows) == 1 and len(rows[0]) == 1
    assert isinstance(rows[0][0], str) and rows[0][0] != ""
    assert [d[:2] for d in trino_cur.description] == [("_col0", "varchar")]


def test_cursor_description_names_and_type_codes(trino_cur):
    trino_cur.execute(
        "SELECT 1 AS a, 'xyz' AS b, 2.5 AS c, 2.5e0 AS d, true AS e, nationkey, name, 7 "
        "FROM tpch.tiny.nation WHERE nationkey = 0"
    )
    description = trino_cur.description
    assert [d[0] for d in description] == ["a", "b", "c", "d", "e", "nationkey", "name", "_col7"]
    # Trino typing: a string literal is varchar(n), a decimal literal is decimal(p, s), 2.5e0 is double.
    assert [d[1] for d in description] == [
        "integer",
        "varchar(3)",
        "decimal(2, 1)",
        "double",
        "boolean",
        "bigint",
        "varchar(25)",
        "integer",
    ]
    by_name = {d.name: d for d in description}
    assert by_name["name"].internal_size == 25  # from typeSignature arguments[0]
    assert (by_name["c"].precision, by_name["c"].scale) == (2, 1)
    row = trino_cur.fetchall()
    assert row == [[1, "xyz", Decimal("2.5"), 2.5, True, 0, "ALGERIA", 7]]
    assert type(row[0][2]) is Decimal and type(row[0][3]) is float


def test_unquoted_identifiers_are_lower_cased(trino_cur):
    trino_cur.execute("SELECT NationKey AS MyKey FROM tpch.tiny.nation WHERE nationkey = 1")
    assert [d[0] for d in trino_cur.description] == ["mykey"]
    assert trino_cur.fetchall() == [[1]]


def test_multiple_rows_in_order(trino_cur):
    rows = fetch_all(trino_cur, "SELECT nationkey, name FROM tpch.tiny.nation ORDER BY nationkey LIMIT 3")
    assert rows == [[0, "ALGERIA"], [1, "ARGENTINA"], [2, "BRAZIL"]]


def test_select_query_has_no_update_type_and_rowcount_minus_one(trino_cur):
    fetch_all(trino_cur, "SELECT 1")
    assert trino_cur.update_type is None
    assert trino_cur.rowcount == -1


def test_query_id_stats_and_info_uri(trino_cur):
    fetch_all(trino_cur, "SELECT 1")
    assert QUERY_ID_RE.match(trino_cur.query_id), trino_cur.query_id
    assert trino_cur.stats["queryId"] == trino_cur.query_id
    assert trino_cur.stats["state"] == "FINISHED"
    assert trino_cur.info_uri.startswith("http")
    assert trino_cur.query_id in trino_cur.info_uri


def test_fetchone_and_fetchmany(trino_cur):
    trino_cur.execute("SELECT regionkey FROM tpch.tiny.region ORDER BY regionkey")
    assert trino_cur.fetchone() == [0]
    assert trino_cur.fetchmany(2) == [[1], [2]]
    assert trino_cur.fetchall() == [[3], [4]]
    assert trino_cur.fetchone() is None


def test_empty_result(trino_cur):
    trino_cur.execute("SELECT nationkey FROM tpch.tiny.nation WHERE nationkey < 0")
    assert trino_cur.fetchall() == []
    assert [d[:2] for d in trino_cur.description] == [("nationkey", "bigint")]


def test_multiline_sql(trino_cur):
    rows = fetch_all(trino_cur, "SELECT\n  count(*)\nFROM\n  tpch.tiny.region\n")
    assert rows == [[5]]


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def test_qmark_parameters_use_execute_immediate(trino_conn):
    cur = trino_conn.cursor()
    rows = fetch_all(cur, "SELECT ? + 1, ?", (41, "x"))
    assert rows == [[42, "x"]]
    # The client probes EXECUTE IMMEDIATE 'SELECT 1' once; if that had failed it would silently
    # have fallen back to PREPARE/EXECUTE, so check what was actually sent.
    assert cur.query.startswith("EXECUTE IMMEDIATE '"), cur.query


def test_qmark_parameters_forced_execute_immediate(trino_connect):
    cur = trino_connect(legacy_prepared_statements=False).cursor()
    assert fetch_all(cur, "SELECT ? + 1, ?", (41, "x")) == [[42, "x"]]
    assert cur.query.startswith("EXECUTE IMMEDIATE '")


def test_execute_immediate_probe_statement(trino_cur):
    assert fetch_all(trino_cur, "EXECUTE IMMEDIATE 'SELECT 1'") == [[1]]


def test_qmark_parameter_in_where_clause(trino_connect):
    cur = trino_connect(legacy_prepared_statements=False).cursor()
    rows = fetch_all(cur, "SELECT name FROM tpch.tiny.nation WHERE nationkey = ? AND regionkey = ?", (24, 1))
    assert rows == [["UNITED STATES"]]


def test_legacy_prepared_statements(trino_connect):
    conn = trino_connect(legacy_prepared_statements=True)
    cur = conn.cursor()
    rows = fetch_all(cur, "SELECT ? + 1, ?", (41, "x"))
    assert rows == [[42, "x"]]
    # PREPARE st_x FROM ... (X-Trino-Added-Prepare), EXECUTE st_x USING ... (X-Trino-Prepared-Statement),
    # DEALLOCATE PREPARE st_x (X-Trino-Deallocated-Prepare).
    assert cur.query.startswith("EXECUTE st_"), cur.query
    assert conn._client_session.prepared_statements == {}, "X-Trino-Deallocated-Prepare was not honoured"


def test_legacy_prepared_statements_twice_on_one_connection(trino_connect):
    cur = trino_connect(legacy_prepared_statements=True).cursor()
    assert fetch_all(cur, "SELECT ? * 2", (21,)) == [[42]]
    assert fetch_all(cur, "SELECT ?, ?", ("a", "b")) == [["a", "b"]]


def test_added_prepare_header_is_tracked(trino_conn):
    cur = trino_conn.cursor()
    cur.execute("PREPARE my_stmt FROM SELECT ? + 1")
    cur.fetchall()
    assert cur.update_type == "PREPARE"
    assert "my_stmt" in trino_conn._client_session.prepared_statements
    assert fetch_all(trino_conn.cursor(), "EXECUTE my_stmt USING 1") == [[2]]
    cur = trino_conn.cursor()
    cur.execute("DEALLOCATE PREPARE my_stmt")
    cur.fetchall()
    assert cur.update_type == "DEALLOCATE"
    assert "my_stmt" not in trino_conn._client_session.prepared_statements


def test_describe_output_via_cursor_describe(trino_cur):
    described = trino_cur.describe("SELECT nationkey, name AS n FROM tpch.tiny.nation")
    assert [(d.name, d.type) for d in described] == [("nationkey", "bigint"), ("n", "varchar(25)")]
    assert [d.aliased for d in described] == [False, True]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param(True, id="bool"),
        pytest.param(-7, id="int"),
        pytest.param(1.5, id="float"),
        pytest.param("it's", id="str-with-quote"),
        pytest.param(b"\x00\xff", id="bytes"),
    ],
)
def test_parameter_round_trip_simple(trino_connect, value):
    cur = trino_connect(legacy_prepared_statements=False).cursor()
    assert fetch_all(cur, "SELECT ?", (value,)) == [[value]]


def test_parameter_round_trip_typed(trino_connect):
    import datetime
    import uuid
    from decimal import Decimal

    cur = trino_connect(legacy_prepared_statements=False).cursor()
    params = (
        Decimal("1.23"),
        datetime.date(2024, 1, 31),
        datetime.datetime(2024, 1, 31, 12, 34, 56, 123456),
        [1, 2, 3],
        uuid.UUID("12151fd2-7586-11e9-8f9e-2a86e4085a59"),
    )
    rows = fetch_all(cur, "SELECT ?, ?, ?, ?, ?", params)
    assert rows == [list(params)]
    assert [d[1] for d in cur.description] == [
        "decimal(3, 2)",
        "date",
        "timestamp(6)",
        "array(integer)",
        "uuid",
    ]


# ---------------------------------------------------------------------------------------------
# Metadata statements
# ---------------------------------------------------------------------------------------------


def test_show_catalogs(trino_cur):
    rows = fetch_all(trino_cur, "SHOW CATALOGS")
    assert [d[0] for d in trino_cur.description] == ["Catalog"]
    catalogs = {r[0] for r in rows}
    assert {"tpch", "memory", "system"} <= catalogs


def test_show_schemas_from_tpch(trino_cur):
    rows = fetch_all(trino_cur, "SHOW SCHEMAS FROM tpch")
    assert [d[0] for d in trino_cur.description] == ["Schema"]
    schemas = {r[0] for r in rows}
    assert {"tiny", "sf1", "information_schema"} <= schemas


def test_show_tables_from_tpch_tiny(trino_cur):
    rows = fetch_all(trino_cur, "SHOW TABLES FROM tpch.tiny")
    assert [d[0] for d in trino_cur.description] == ["Table"]
    assert {r[0] for r in rows} == TPCH_TABLES
    assert len(rows) == len(TPCH_TABLES)


def test_show_tables_like(trino_cur):
    rows = fetch_all(trino_cur, "SHOW TABLES FROM tpch.tiny LIKE 'part%'")
    assert sorted(r[0] for r in rows) == ["part", "partsupp"]


def test_describe_nation(trino_cur):
    rows = fetch_all(trino_cur, "DESCRIBE tpch.tiny.nation")
    assert [d[0] for d in trino_cur.description] == ["Column", "Type", "Extra", "Comment"]
    assert [r[:2] for r in rows] == [
        ["nationkey", "bigint"],
        ["name", "varchar(25)"],
        ["regionkey", "bigint"],
        ["comment", "varchar(152)"],
    ]


def test_show_columns_equals_describe(trino_cur):
    show = fetch_all(trino_cur, "SHOW COLUMNS FROM tpch.tiny.nation")
    describe = fetch_all(trino_cur, "DESCRIBE tpch.tiny.nation")
    assert show == describe


def test_information_schema_columns(trino_cur):
    rows = fetch_all(
        trino_cur,
        "SELECT column_name, data_type FROM tpch.information_schema.columns "
        "WHERE table_schema = 'tiny' AND table_name = 'region' ORDER BY ordinal_position",
    )
    assert rows == [["regionkey", "bigint"], ["name", "varchar(25)"], ["comment", "varchar(152)"]]


# ---------------------------------------------------------------------------------------------
# Session: USE, SET/SHOW/RESET SESSION
# ---------------------------------------------------------------------------------------------


def test_use_catalog_schema_switches_session(trino_conn):
    cur = trino_conn.cursor()
    cur.execute("USE tpch.sf1")
    cur.fetchall()
    assert cur.update_type == "USE"
    # X-Trino-Set-Catalog / X-Trino-Set-Schema were applied to the client session
    assert trino_conn._client_session.catalog == "tpch"
    assert trino_conn._client_session.schema == "sf1"
    assert fetch_all(trino_conn.cursor(), "SELECT count(*) FROM nation") == [[25]]
    # customer has 150,000 rows at sf1 and 1,500 at tiny: proves the unqualified name resolved in sf1
    assert fetch_all(trino_conn.cursor(), "SELECT count(*) FROM customer") == [[150000]]


def test_use_schema_only(trino_connect):
    conn = trino_connect(schema="sf1")
    cur = conn.cursor()
    cur.execute("USE tiny")
    cur.fetchall()
    assert conn._client_session.schema == "tiny"
    assert fetch_all(conn.cursor(), "SELECT count(*) FROM customer") == [[1500]]


def _session_row(cursor, name):
    rows = fetch_all(cursor, "SHOW SESSION")
    assert [d[0] for d in cursor.description] == ["Name", "Value", "Default", "Type", "Description"]
    matching = [r for r in rows if r[0] == name]
    assert len(matching) == 1, f"SHOW SESSION has {len(matching)} rows named {name}"
    return matching[0]


def test_set_session_show_session_reset_session(trino_conn):
    cur = trino_conn.cursor()
    cur.execute("SET SESSION query_max_execution_time = '10m'")
    cur.fetchall()
    assert cur.update_type == "SET SESSION"
    # X-Trino-Set-Session was applied to the client, which now sends it in X-Trino-Session
    assert trino_conn._client_session.properties.get("query_max_execution_time") == "10m"

    row = _session_row(trino_conn.cursor(), "query_max_execution_time")
    assert row[1] == "10m"
    assert row[3] == "varchar"
    default = row[2]
    assert default != "10m"

    cur = trino_conn.cursor()
    cur.execute("RESET SESSION query_max_execution_time")
    cur.fetchall()
    assert cur.update_type == "RESET SESSION"
    # X-Trino-Clear-Session removed it from the client
    assert "query_max_execution_time" not in trino_conn._client_session.properties
    row = _session_row(trino_conn.cursor(), "query_max_execution_time")
    assert row[1] == default


def test_session_property_from_connection(trino_connect):
    conn = trino_connect(session_properties={"query_max_execution_time": "5m"})
    row = _session_row(conn.cursor(), "query_max_execution_time")
    assert row[1] == "5m"


def test_set_unknown_session_property_fails(trino_cur):
    with pytest.raises(trino.exceptions.TrinoUserError) as info:
        fetch_all(trino_cur, "SET SESSION vivace_no_such_property = 'x'")
    assert info.value.error_name == "INVALID_SESSION_PROPERTY"


# ---------------------------------------------------------------------------------------------
# Large results (paging)
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_large_result_is_fully_paged(trino_cur):
    trino_cur.execute("SELECT orderkey FROM tpch.sf1.lineitem LIMIT 1100000")
    rows = trino_cur.fetchall()
    assert len(rows) == 1_100_000
    assert all(len(r) == 1 and type(r[0]) is int for r in rows[:1000])
    assert all(type(r[0]) is int and r[0] > 0 for r in rows[-1000:])
    assert trino_cur.stats["state"] == "FINISHED"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_wide_result_tiny_lineitem(trino_cur):
    rows = fetch_all(trino_cur, "SELECT * FROM tpch.tiny.lineitem")
    assert len(rows) == 60175
    assert len(trino_cur.description) == 16
    assert len({len(r) for r in rows}) == 1


# ---------------------------------------------------------------------------------------------
# Cancellation
# ---------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_cancel_running_query(trino_conn):
    cur = trino_conn.cursor()

    def run():
        cur.execute(SLOW_QUERY)
        return cur.fetchall()

    call = BackgroundCall(run)
    # wait until the POST has been answered (the cursor knows its query id and nextUri)
    wait_until(lambda: cur._query is not None and cur._query.query_id is not None, 30, message="query to start")
    assert call.thread.is_alive(), f"query finished before it could be cancelled: {call.error or call.result}"
    time.sleep(1.0)
    started = time.monotonic()
    cur.cancel()  # DELETE on nextUri, expects 204
    assert call.join(30), "query did not stop within 30 s of cursor.cancel()"
    assert time.monotonic() - started < 30
    assert call.result is None, f"cancelled query returned rows: {call.result}"
    assert isinstance(call.error, trino.exceptions.TrinoQueryError), repr(call.error)
    assert call.error.error_name == "USER_CANCELED"
    # the server keeps serving
    assert fetch_all(trino_conn.cursor(), "SELECT 1") == [[1]]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def _user_error(cursor, sql):
    with pytest.raises(trino.exceptions.TrinoUserError) as info:
        fetch_all(cursor, sql)
    error = info.value
    assert error.error_type == "USER_ERROR"
    assert QUERY_ID_RE.match(error.query_id or ""), error.query_id
    return error


def test_syntax_error(trino_cur):
    error = _user_error(trino_cur, "SELECT * FORM tpch.tiny.nation")
    assert error.error_name == "SYNTAX_ERROR"
    assert error.error_code == 1
    assert error.error_location is not None
    line, column = error.error_location
    assert line == 1 and column >= 1
    assert error.message.startswith(f"line 1:{column}: "), error.message


def test_syntax_error_location_on_second_line(trino_cur):
    error = _user_error(trino_cur, "SELECT 1\nFROM FROM")
    assert error.error_name == "SYNTAX_ERROR"
    assert error.error_location is not None
    assert error.error_location[0] == 2


def test_missing_table(trino_cur):
    error = _user_error(trino_cur, "SELECT * FROM tpch.tiny.no_such_table")
    assert error.error_name == "TABLE_NOT_FOUND"
    assert error.error_code == 46
    assert error.message == "line 1:15: Table 'tpch.tiny.no_such_table' does not exist"
    assert error.error_location == (1, 15)


def test_missing_catalog(trino_cur):
    error = _user_error(trino_cur, "SELECT * FROM no_such_catalog.tiny.nation")
    assert error.error_name == "CATALOG_NOT_FOUND"
    assert error.error_code == 44


def test_missing_schema(trino_cur):
    error = _user_error(trino_cur, "SELECT * FROM tpch.no_such_schema.nation")
    assert error.error_name == "SCHEMA_NOT_FOUND"
    assert error.error_code == 45


def test_missing_column(trino_cur):
    error = _user_error(trino_cur, "SELECT no_such_column FROM tpch.tiny.nation")
    assert error.error_name == "COLUMN_NOT_FOUND"
    assert error.error_code == 47
    # Superset's regex: line (?P<location>.+?): .*Column '(?P<column_name>.+?)' cannot be resolved
    assert error.message == "line 1:8: Column 'no_such_column' cannot be resolved"


def test_division_by_zero(trino_cur):
    error = _user_error(trino_cur, "SELECT 1/0")
    assert error.error_name == "DIVISION_BY_ZERO"
    assert error.error_code == 8


def test_error_has_failure_info(trino_cur):
    error = _user_error(trino_cur, "SELECT * FROM tpch.tiny.no_such_table")
    assert isinstance(error.failure_info, dict)
    assert isinstance(error.error_exception, str) and error.error_exception


def test_connection_usable_after_error(trino_conn):
    with pytest.raises(trino.exceptions.TrinoUserError):
        fetch_all(trino_conn.cursor(), "SELECT * FROM tpch.tiny.no_such_table")
    assert fetch_all(trino_conn.cursor(), "SELECT 2") == [[2]]
