"""DDL and DML on the memory catalog through the trino DBAPI: updateType, updateCount, errors."""

from __future__ import annotations

import pytest
import trino.exceptions

from support import fetch_all, unique_name


def _run(conn, sql):
    """Execute a statement on a fresh cursor; return the cursor after draining it."""
    cur = conn.cursor()
    cur.execute(sql)
    cur.fetchall()
    return cur


def _drop_quietly(conn, schema):
    try:
        tables = fetch_all(conn.cursor(), f"SHOW TABLES FROM memory.{schema}")
    except Exception:
        return
    for (table,) in tables:
        try:
            _run(conn, f"DROP TABLE IF EXISTS memory.{schema}.{table}")
        except Exception:
            pass
    try:
        _run(conn, f"DROP SCHEMA IF EXISTS memory.{schema}")
    except Exception:
        pass


@pytest.fixture
def schema(trino_conn):
    """A fresh memory schema, dropped (with its tables) afterwards."""
    name = unique_name("s")
    cur = _run(trino_conn, f"CREATE SCHEMA memory.{name}")
    assert cur.update_type == "CREATE SCHEMA"
    yield name
    _drop_quietly(trino_conn, name)


def _user_error(conn, sql):
    with pytest.raises(trino.exceptions.TrinoUserError) as info:
        _run(conn, sql)
    assert info.value.error_type == "USER_ERROR"
    return info.value


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------


def test_create_schema_update_type(trino_conn):
    name = unique_name("s")
    try:
        cur = _run(trino_conn, f"CREATE SCHEMA memory.{name}")
        assert cur.update_type == "CREATE SCHEMA"
        assert cur.rowcount == -1
        schemas = {r[0] for r in fetch_all(trino_conn.cursor(), "SHOW SCHEMAS FROM memory")}
        assert name in schemas
    finally:
        _drop_quietly(trino_conn, name)


def test_drop_schema(trino_conn):
    name = unique_name("s")
    _run(trino_conn, f"CREATE SCHEMA memory.{name}")
    cur = _run(trino_conn, f"DROP SCHEMA memory.{name}")
    assert cur.update_type == "DROP SCHEMA"
    schemas = {r[0] for r in fetch_all(trino_conn.cursor(), "SHOW SCHEMAS FROM memory")}
    assert name not in schemas


def test_create_existing_schema_fails(trino_conn, schema):
    error = _user_error(trino_conn, f"CREATE SCHEMA memory.{schema}")
    assert error.error_name == "SCHEMA_ALREADY_EXISTS"


def test_create_schema_if_not_exists_is_noop(trino_conn, schema):
    cur = _run(trino_conn, f"CREATE SCHEMA IF NOT EXISTS memory.{schema}")
    assert cur.update_type == "CREATE SCHEMA"


def test_drop_missing_schema_fails(trino_conn):
    error = _user_error(trino_conn, f"DROP SCHEMA memory.{unique_name('missing')}")
    assert error.error_name == "SCHEMA_NOT_FOUND"


def test_drop_non_empty_schema_fails(trino_conn, schema):
    _run(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint)")
    error = _user_error(trino_conn, f"DROP SCHEMA memory.{schema}")
    assert error.error_name == "SCHEMA_NOT_EMPTY"
    assert error.error_code == 34
    # the table survived
    assert fetch_all(trino_conn.cursor(), f"SHOW TABLES FROM memory.{schema}") == [["t"]]


# ---------------------------------------------------------------------------------------------
# Tables and DML
# ---------------------------------------------------------------------------------------------


def test_create_table(trino_conn, schema):
    cur = _run(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint, name varchar)")
    assert cur.update_type == "CREATE TABLE"
    assert fetch_all(trino_conn.cursor(), f"SHOW TABLES FROM memory.{schema}") == [["t"]]
    columns = fetch_all(trino_conn.cursor(), f"DESCRIBE memory.{schema}.t")
    assert [c[:2] for c in columns] == [["id", "bigint"], ["name", "varchar"]]
    assert fetch_all(trino_conn.cursor(), f"SELECT * FROM memory.{schema}.t") == []


def test_insert_values(trino_conn, schema):
    _run(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint, name varchar)")
    cur = trino_conn.cursor()
    cur.execute(f"INSERT INTO memory.{schema}.t VALUES (1, 'one'), (2, 'two')")
    # DML shape: one bigint column "rows" holding the count, plus updateType/updateCount
    assert cur.fetchall() == [[2]]
    assert cur.update_type == "INSERT"
    assert cur.rowcount == 2
    rows = fetch_all(trino_conn.cursor(), f"SELECT id, name FROM memory.{schema}.t ORDER BY id")
    assert rows == [[1, "one"], [2, "two"]]


def test_insert_with_parameters(trino_connect, schema):
    conn = trino_connect(legacy_prepared_statements=False)
    _run(conn, f"CREATE TABLE memory.{schema}.t (id bigint, name varchar)")
    cur = conn.cursor()
    cur.execute(f"INSERT INTO memory.{schema}.t VALUES (?, ?)", (7, "seven"))
    cur.fetchall()
    assert cur.update_type == "INSERT"
    assert cur.rowcount == 1
    assert fetch_all(conn.cursor(), f"SELECT * FROM memory.{schema}.t") == [[7, "seven"]]


def test_executemany_insert(trino_connect, schema):
    conn = trino_connect(legacy_prepared_statements=False)
    _run(conn, f"CREATE TABLE memory.{schema}.t (id bigint, name varchar)")
    cur = conn.cursor()
    # executemany raises NotSupportedError unless every statement reports an updateType
    cur.executemany(f"INSERT INTO memory.{schema}.t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")])
    cur.fetchall()
    rows = fetch_all(conn.cursor(), f"SELECT id, name FROM memory.{schema}.t ORDER BY id")
    assert rows == [[1, "a"], [2, "b"], [3, "c"]]


def test_insert_select_from_tpch(trino_conn, schema):
    _run(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint, name varchar)")
    cur = trino_conn.cursor()
    cur.execute(f"INSERT INTO memory.{schema}.t SELECT nationkey, name FROM tpch.tiny.nation WHERE regionkey = 2")
    cur.fetchall()
    assert cur.update_type == "INSERT"
    assert cur.rowcount == 5
    rows = fetch_all(trino_conn.cursor(), f"SELECT name FROM memory.{schema}.t ORDER BY name")
    assert rows == [["CHINA"], ["INDIA"], ["INDONESIA"], ["JAPAN"], ["VIETNAM"]]


def test_insert_zero_rows(trino_conn, schema):
    _run(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint)")
    cur = trino_conn.cursor()
    cur.execute(f"INSERT INTO memory.{schema}.t SELECT nationkey FROM tpch.tiny.nation WHERE nationkey < 0")
    assert cur.fetchall() == [[0]]
    assert cur.update_type == "INSERT"
    assert cur.rowcount == 0


def test_create_table_as_select(trino_conn, schema):
    cur = trino_conn.cursor()
    cur.execute(f"CREATE TABLE memory.{schema}.regions AS SELECT regionkey, name FROM tpch.tiny.region")
    assert cur.fetchall() == [[5]]
    assert cur.update_type == "CREATE TABLE"
    assert cur.rowcount == 5
    rows = fetch_all(trino_conn.cursor(), f"SELECT regionkey, name FROM memory.{schema}.regions ORDER BY regionkey")
    assert rows == [[0, "AFRICA"], [1, "AMERICA"], [2, "ASIA"], [3, "EUROPE"], [4, "MIDDLE EAST"]]
    columns = fetch_all(trino_conn.cursor(), f"DESCRIBE memory.{schema}.regions")
    assert [c[:2] for c in columns] == [["regionkey", "bigint"], ["name", "varchar(25)"]]


def test_create_table_as_select_larger(trino_conn, schema):
    cur = trino_conn.cursor()
    cur.execute(f"CREATE TABLE memory.{schema}.li AS SELECT orderkey, linenumber FROM tpch.tiny.lineitem")
    cur.fetchall()
    assert cur.rowcount == 60175
    assert fetch_all(trino_conn.cursor(), f"SELECT count(*) FROM memory.{schema}.li") == [[60175]]


def test_drop_table(trino_conn, schema):
    _run(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint)")
    cur = _run(trino_conn, f"DROP TABLE memory.{schema}.t")
    assert cur.update_type == "DROP TABLE"
    assert fetch_all(trino_conn.cursor(), f"SHOW TABLES FROM memory.{schema}") == []


def test_drop_table_if_exists_missing_is_ok(trino_conn, schema):
    cur = _run(trino_conn, f"DROP TABLE IF EXISTS memory.{schema}.missing")
    assert cur.update_type == "DROP TABLE"


def test_full_lifecycle(trino_conn):
    name = unique_name("s")
    try:
        assert _run(trino_conn, f"CREATE SCHEMA memory.{name}").update_type == "CREATE SCHEMA"
        assert _run(trino_conn, f"CREATE TABLE memory.{name}.t (id bigint, name varchar)").update_type == "CREATE TABLE"
        cur = _run(trino_conn, f"INSERT INTO memory.{name}.t VALUES (1, 'a'), (2, 'b')")
        assert (cur.update_type, cur.rowcount) == ("INSERT", 2)
        cur = _run(trino_conn, f"INSERT INTO memory.{name}.t SELECT regionkey + 10, name FROM tpch.tiny.region")
        assert (cur.update_type, cur.rowcount) == ("INSERT", 5)
        cur = _run(trino_conn, f"CREATE TABLE memory.{name}.t2 AS SELECT * FROM memory.{name}.t WHERE id < 12")
        assert (cur.update_type, cur.rowcount) == ("CREATE TABLE", 4)
        rows = fetch_all(trino_conn.cursor(), f"SELECT id, name FROM memory.{name}.t2 ORDER BY id")
        assert rows == [[1, "a"], [2, "b"], [10, "AFRICA"], [11, "AMERICA"]]
        assert _run(trino_conn, f"DROP TABLE memory.{name}.t").update_type == "DROP TABLE"
        assert _run(trino_conn, f"DROP TABLE memory.{name}.t2").update_type == "DROP TABLE"
        assert _run(trino_conn, f"DROP SCHEMA memory.{name}").update_type == "DROP SCHEMA"
    finally:
        _drop_quietly(trino_conn, name)


def test_tables_visible_in_information_schema(trino_conn, schema):
    _run(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint, name varchar)")
    rows = fetch_all(
        trino_conn.cursor(),
        f"SELECT table_name, table_type FROM memory.information_schema.tables WHERE table_schema = '{schema}'",
    )
    assert rows == [["t", "BASE TABLE"]]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_create_table_in_missing_schema_fails(trino_conn):
    error = _user_error(trino_conn, f"CREATE TABLE memory.{unique_name('missing')}.t (id bigint)")
    assert error.error_name == "SCHEMA_NOT_FOUND"
    assert error.error_code == 45


def test_create_existing_table_fails(trino_conn, schema):
    _run(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint)")
    error = _user_error(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint)")
    assert error.error_name == "TABLE_ALREADY_EXISTS"
    assert error.error_code == 50


def test_create_table_if_not_exists_existing_is_ok(trino_conn, schema):
    _run(trino_conn, f"CREATE TABLE memory.{schema}.t (id bigint)")
    cur = _run(trino_conn, f"CREATE TABLE IF NOT EXISTS memory.{schema}.t (id bigint)")
    assert cur.update_type == "CREATE TABLE"


def test_drop_missing_table_fails(trino_conn, schema):
    error = _user_error(trino_conn, f"DROP TABLE memory.{schema}.missing")
    assert error.error_name == "TABLE_NOT_FOUND"


def test_insert_into_missing_table_fails(trino_conn, schema):
    error = _user_error(trino_conn, f"INSERT INTO memory.{schema}.missing VALUES (1)")
    assert error.error_name == "TABLE_NOT_FOUND"
