"""A dbt-trino project against Vivace's memory catalog: a seed, a table model, a view model and
data tests, run with `dbt build` twice (the second run replaces the existing relations, which
takes dbt-trino's rename path: ALTER TABLE ... RENAME TO, CREATE OR REPLACE VIEW)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from support import USER, fetch_all, unique_name

DBT = Path(sys.executable).with_name("dbt")

FILES = {
    "dbt_project.yml": """
        name: vivace_shop
        version: "1.0"
        config-version: 2
        profile: vivace
        seeds:
          vivace_shop:
            +column_types:
              price: decimal(10, 2)
    """,
    "seeds/products.csv": """
        id,name,price,in_stock
        1,kettle,25.50,true
        2,teapot,40.00,true
        3,cup,4.25,false
    """,
    "models/stocked_products.sql": """
        {{ config(materialized='table') }}
        select id, upper(name) as name, price
        from {{ ref('products') }}
        where in_stock
    """,
    "models/cheap_products.sql": """
        {{ config(materialized='view') }}
        select id, name from {{ ref('stocked_products') }} where price < 30
    """,
    "models/schema.yml": """
        version: 2
        models:
          - name: stocked_products
            description: Products on the shelf
            columns:
              - name: id
                data_tests: [not_null, unique]
          - name: cheap_products
            columns:
              - name: name
                data_tests: [not_null]
    """,
}


@pytest.fixture
def project(tmp_path: Path, host: str, port: int) -> Path:
    schema = unique_name("dbt")
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    (tmp_path / "profiles.yml").write_text(
        textwrap.dedent(
            f"""
            vivace:
              target: dev
              outputs:
                dev:
                  type: trino
                  method: none
                  user: {USER}
                  host: {host}
                  port: {port}
                  http_scheme: http
                  database: memory
                  schema: {schema}
                  threads: 1
            """
        ).lstrip()
    )
    (tmp_path / "schema_name").write_text(schema)
    return tmp_path


def _dbt(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DBT_PROFILES_DIR=str(project), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    return subprocess.run(
        [str(DBT), *args, "--project-dir", str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.timeout(900)
def test_dbt_build_twice(project: Path, trino_conn) -> None:
    schema = (project / "schema_name").read_text()
    try:
        for attempt in (1, 2):
            result = _dbt(project, "build")
            assert result.returncode == 0, f"dbt build #{attempt} failed:\n{result.stdout[-6000:]}"
            assert "PASS=6" in result.stdout, result.stdout[-3000:]
        cur = trino_conn.cursor()
        assert fetch_all(cur, f"SELECT id, name, price FROM memory.{schema}.stocked_products ORDER BY id") == [
            [1, "KETTLE", Decimal("25.50")],
            [2, "TEAPOT", Decimal("40.00")],
        ]
        assert fetch_all(cur, f"SELECT id, name FROM memory.{schema}.cheap_products") == [[1, "KETTLE"]]
        tables = fetch_all(
            cur,
            f"SELECT table_name, table_type FROM memory.information_schema.tables "
            f"WHERE table_schema = '{schema}' ORDER BY 1",
        )
        assert tables == [
            ["cheap_products", "VIEW"],
            ["products", "BASE TABLE"],
            ["stocked_products", "BASE TABLE"],
        ]
    finally:
        for kind, name in (("VIEW", "cheap_products"), ("TABLE", "stocked_products"), ("TABLE", "products")):
            trino_conn.cursor().execute(f"DROP {kind} IF EXISTS memory.{schema}.{name}").fetchall()
        trino_conn.cursor().execute(f"DROP SCHEMA IF EXISTS memory.{schema}").fetchall()
