"""The trino SQLAlchemy dialect (SQLAlchemy 2.x) against Vivace: reflection and Core queries."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, Table, func, inspect, select, text
from sqlalchemy import types as sqltypes

from support import TPCH_TABLES

NATIONS_10_TO_14 = [(10, "IRAN"), (11, "IRAQ"), (12, "JAPAN"), (13, "JORDAN"), (14, "KENYA")]


def test_connect_and_select_1(engine):
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_text_with_bound_parameter(engine):
    # :x compiles to qmark and is sent as EXECUTE IMMEDIATE '...' USING 41
    with engine.connect() as conn:
        assert conn.execute(text("SELECT :x + 1"), {"x": 41}).scalar() == 42


def test_server_version_info(engine):
    with engine.connect() as conn:
        version = conn.dialect.server_version_info
    assert isinstance(version, tuple) and len(version) == 1
    assert isinstance(version[0], str) and version[0]


def test_get_schema_names(engine):
    schemas = inspect(engine).get_schema_names()
    assert "tiny" in schemas
    assert "sf1" in schemas


def test_has_schema(engine):
    # Called on the dialect directly: Inspector.has_schema() passes info_cache=..., which
    # TrinoDialect.has_schema() (trino 0.340.0) does not accept -- a client bug, not ours.
    with engine.connect() as conn:
        assert engine.dialect.has_schema(conn, "tiny")
        assert not engine.dialect.has_schema(conn, "no_such_schema")


def test_get_table_names(engine):
    tables = inspect(engine).get_table_names("tiny")
    assert set(tables) == TPCH_TABLES
    assert len(tables) == len(TPCH_TABLES)


def test_get_view_names_is_empty(engine):
    assert inspect(engine).get_view_names("tiny") == []


def test_get_columns(engine):
    columns = inspect(engine).get_columns("nation", "tiny")
    assert [c["name"] for c in columns] == ["nationkey", "name", "regionkey", "comment"]
    types = [c["type"] for c in columns]
    assert isinstance(types[0], sqltypes.BIGINT)
    assert isinstance(types[1], sqltypes.VARCHAR) and types[1].length == 25
    assert isinstance(types[2], sqltypes.BIGINT)
    assert isinstance(types[3], sqltypes.VARCHAR) and types[3].length == 152


def test_get_catalog_names_reads_system_jdbc(engine):
    # The dialect lists catalogs with SELECT "table_cat" FROM "system"."jdbc"."catalogs".
    with engine.connect() as conn:
        catalogs = engine.dialect.get_catalog_names(conn)
        shown = [row[0] for row in conn.execute(text("SHOW CATALOGS"))]
    assert {"memory", "system", "tpch"} <= set(catalogs)
    assert sorted(catalogs) == sorted(shown)


def test_tpch_columns_are_nullable_as_in_trino(engine):
    columns = inspect(engine).get_columns("region", "tiny")
    assert [c["nullable"] for c in columns] == [True, True, True]


def test_get_columns_missing_table_raises(engine):
    from sqlalchemy.exc import NoSuchTableError

    with pytest.raises(NoSuchTableError):
        inspect(engine).get_columns("no_such_table", "tiny")


def test_has_table(engine):
    insp = inspect(engine)
    assert insp.has_table("nation", "tiny")
    assert insp.has_table("lineitem", schema="tiny")
    assert not insp.has_table("no_such_table", "tiny")


def test_get_table_comment(engine):
    comment = inspect(engine).get_table_comment("nation", "tiny")
    assert "text" in comment


def _reflect_nation(engine):
    return Table("nation", MetaData(), schema="tiny", autoload_with=engine)


def test_reflect_table(engine):
    nation = _reflect_nation(engine)
    assert [c.name for c in nation.columns] == ["nationkey", "name", "regionkey", "comment"]
    assert isinstance(nation.c.name.type, sqltypes.VARCHAR) and nation.c.name.type.length == 25


def test_compiled_sql_puts_offset_before_limit(engine):
    nation = _reflect_nation(engine)
    stmt = select(nation).order_by(nation.c.nationkey).limit(5).offset(10)
    sql = str(stmt.compile(engine))
    assert "OFFSET" in sql and "LIMIT" in sql
    assert sql.index("OFFSET") < sql.index("LIMIT"), sql


def test_core_select_limit_offset(engine):
    nation = _reflect_nation(engine)
    stmt = select(nation.c.nationkey, nation.c.name).order_by(nation.c.nationkey).limit(5).offset(10)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt)]
    assert rows == NATIONS_10_TO_14


def test_core_select_full_rows_limit_offset(engine):
    nation = _reflect_nation(engine)
    stmt = select(nation).order_by(nation.c.nationkey).limit(5).offset(10)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        assert list(result.keys()) == ["nationkey", "name", "regionkey", "comment"]
        rows = result.all()
    assert [(r.nationkey, r.name) for r in rows] == NATIONS_10_TO_14
    assert all(isinstance(r.comment, str) for r in rows)


def test_core_select_with_where_and_literal_offset(engine):
    nation = _reflect_nation(engine)
    stmt = (
        select(nation.c.name)
        .where(nation.c.regionkey == 1)
        .order_by(nation.c.name)
        .offset(1)
    )
    with engine.connect() as conn:
        names = conn.execute(stmt).scalars().all()
    assert names == ["BRAZIL", "CANADA", "PERU", "UNITED STATES"]


def test_core_aggregate_group_by(engine):
    nation = _reflect_nation(engine)
    stmt = (
        select(nation.c.regionkey, func.count().label("n"))
        .group_by(nation.c.regionkey)
        .order_by(nation.c.regionkey)
    )
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt)]
    assert rows == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5)]


def test_pre_ping_engine(host, port):
    from sqlalchemy import create_engine

    eng = create_engine(f"trino://test@{host}:{port}/tpch/tiny", pool_pre_ping=True,
                        connect_args={"http_scheme": "http"})
    try:
        for _ in range(2):
            with eng.connect() as conn:
                assert conn.execute(text("SELECT 2")).scalar() == 2
    finally:
        eng.dispose()


def test_engine_without_database_uses_system_catalog(host, port):
    # trino://u@h:p/ -> catalog "system"; the dialect's information_schema queries must still work.
    from sqlalchemy import create_engine

    eng = create_engine(f"trino://test@{host}:{port}/", connect_args={"http_scheme": "http"})
    try:
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tpch.tiny.region")).scalar() == 5
        assert "information_schema" in inspect(eng).get_schema_names()
    finally:
        eng.dispose()
