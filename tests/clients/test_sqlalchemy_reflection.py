"""SQLAlchemy reflection of a memory-catalog schema: tables, views, Trino column types and
comments, as created with Trino DDL (CREATE TABLE with comments, COMMENT ON, CREATE VIEW,
ALTER TABLE) through the trino DBAPI."""

from __future__ import annotations

import pytest
import sqlalchemy
from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy import types as sqltypes
from trino.sqlalchemy import datatype

from support import USER, unique_name


def _run(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    cur.fetchall()
    return cur


@pytest.fixture
def reflected_schema(trino_conn):
    """A memory schema holding a commented table, a second table and a view."""
    name = unique_name("refl")
    _run(trino_conn, f"CREATE SCHEMA memory.{name}")
    _run(
        trino_conn,
        f"""CREATE TABLE memory.{name}.orders (
              id bigint NOT NULL COMMENT 'order id',
              customer varchar(40),
              amount decimal(12, 2),
              tags array(varchar),
              placed timestamp(3)
            ) COMMENT 'all orders'""",
    )
    _run(trino_conn, f"CREATE TABLE memory.{name}.customers (id bigint, name varchar)")
    _run(trino_conn, f"COMMENT ON COLUMN memory.{name}.customers.name IS 'display name'")
    _run(
        trino_conn,
        f"CREATE VIEW memory.{name}.big_orders SECURITY INVOKER AS "
        f"SELECT id, amount FROM memory.{name}.orders WHERE amount > 100",
    )
    yield name
    for statement in (
        f"DROP VIEW IF EXISTS memory.{name}.big_orders",
        f"DROP TABLE IF EXISTS memory.{name}.orders",
        f"DROP TABLE IF EXISTS memory.{name}.customers",
        f"DROP SCHEMA IF EXISTS memory.{name}",
    ):
        _run(trino_conn, statement)


@pytest.fixture
def memory_engine(host: str, port: int):
    eng = sqlalchemy.create_engine(
        f"trino://{USER}@{host}:{port}/memory",
        connect_args={"http_scheme": "http", "request_timeout": 60},
    )
    yield eng
    eng.dispose()


def test_table_and_view_names(memory_engine, reflected_schema):
    insp = inspect(memory_engine)
    assert reflected_schema in insp.get_schema_names()
    assert sorted(insp.get_table_names(reflected_schema)) == ["customers", "orders"]
    assert insp.get_view_names(reflected_schema) == ["big_orders"]


def test_columns_have_trino_types_and_comments(memory_engine, reflected_schema):
    columns = {c["name"]: c for c in inspect(memory_engine).get_columns("orders", reflected_schema)}
    assert list(columns) == ["id", "customer", "amount", "tags", "placed"]
    assert columns["id"]["nullable"] is False
    assert columns["id"]["comment"] == "order id"
    assert columns["customer"]["comment"] is None
    assert isinstance(columns["customer"]["type"], sqltypes.VARCHAR)
    assert columns["customer"]["type"].length == 40
    assert isinstance(columns["amount"]["type"], sqltypes.DECIMAL)
    assert (columns["amount"]["type"].precision, columns["amount"]["type"].scale) == (12, 2)
    assert isinstance(columns["tags"]["type"], sqltypes.ARRAY)
    assert isinstance(columns["placed"]["type"], datatype.TIMESTAMP)
    assert columns["placed"]["type"].precision == 3


def test_comment_set_later_is_reflected(memory_engine, reflected_schema):
    columns = inspect(memory_engine).get_columns("customers", reflected_schema)
    assert [(c["name"], c["comment"]) for c in columns] == [("id", None), ("name", "display name")]


def test_table_comment(memory_engine, reflected_schema, trino_conn):
    insp = inspect(memory_engine)
    assert insp.get_table_comment("orders", reflected_schema) == {"text": "all orders"}
    assert insp.get_table_comment("customers", reflected_schema) == {"text": None}
    _run(trino_conn, f"COMMENT ON TABLE memory.{reflected_schema}.customers IS 'people'")
    assert inspect(memory_engine).get_table_comment("customers", reflected_schema) == {"text": "people"}


def test_view_definition_is_the_text_as_written(memory_engine, reflected_schema):
    definition = inspect(memory_engine).get_view_definition("big_orders", reflected_schema)
    assert definition == f"SELECT id, amount FROM memory.{reflected_schema}.orders WHERE amount > 100"


def test_autoload_and_query_after_alter(memory_engine, reflected_schema, trino_conn):
    _run(trino_conn, f"INSERT INTO memory.{reflected_schema}.orders (id, amount) VALUES (1, 250.00), (2, 5.00)")
    _run(trino_conn, f"ALTER TABLE memory.{reflected_schema}.orders ADD COLUMN note varchar COMMENT 'free text'")
    _run(trino_conn, f"ALTER TABLE memory.{reflected_schema}.orders RENAME COLUMN customer TO buyer")
    orders = Table("orders", MetaData(), schema=reflected_schema, autoload_with=memory_engine)
    assert [c.name for c in orders.columns] == ["id", "buyer", "amount", "tags", "placed", "note"]
    assert orders.c.note.comment == "free text"
    assert orders.comment == "all orders"
    with memory_engine.connect() as conn:
        rows = conn.execute(select(orders.c.id, orders.c.note).order_by(orders.c.id)).all()
    assert [tuple(r) for r in rows] == [(1, None), (2, None)]


def test_show_create_table_round_trips(reflected_schema, trino_conn):
    cur = trino_conn.cursor()
    cur.execute(f"SHOW CREATE TABLE memory.{reflected_schema}.orders")
    [[text]] = cur.fetchall()
    assert [c[0] for c in cur.description] == ["Create Table"]
    assert text == (
        f"CREATE TABLE memory.{reflected_schema}.orders (\n"
        "   id bigint NOT NULL COMMENT 'order id',\n"
        "   customer varchar(40),\n"
        "   amount decimal(12, 2),\n"
        "   tags array(varchar),\n"
        "   placed timestamp(3)\n"
        ")\n"
        "COMMENT 'all orders'"
    )
    # The text is valid Trino DDL: it creates the same table again under another name.
    _run(trino_conn, text.replace(".orders (", ".orders_copy (", 1))
    cur = trino_conn.cursor()
    cur.execute(f"SHOW CREATE TABLE memory.{reflected_schema}.orders_copy")
    [[copy]] = cur.fetchall()
    assert copy == text.replace(".orders (", ".orders_copy (", 1)
    _run(trino_conn, f"DROP TABLE memory.{reflected_schema}.orders_copy")
