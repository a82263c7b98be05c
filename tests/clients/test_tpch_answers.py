"""The 22 TPC-H queries, in Trino's syntax, against ``tpch.sf1`` give the answers DuckDB gives
on the same data.

Vivace generates ``tpch.sf1`` in its connector (the ``tpchgen`` crate). The same data comes
from ``tpchgen-cli`` as Parquet, which DuckDB reads under views with Trino's column names
(``orderkey``, not ``o_orderkey``). Both sides run the SQL in ``benchmarks/queries``
unchanged. Numbers are compared as TPC-H's validation rules allow: exactly for counts and
keys, and to the cent for money and averages (Vivace keeps ``decimal`` where DuckDB answers
``double``).
"""

from __future__ import annotations

import datetime
import decimal
import math
import pathlib
import shutil
import subprocess
import sys
from typing import Any, List, Sequence

import pytest

QUERIES = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "queries"
PREFIXES = {
    "lineitem": "l_",
    "orders": "o_",
    "customer": "c_",
    "part": "p_",
    "partsupp": "ps_",
    "supplier": "s_",
    "nation": "n_",
    "region": "r_",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def duckdb_sf1(tmp_path_factory: pytest.TempPathFactory):
    import duckdb

    data = tmp_path_factory.mktemp("tpch-sf1")
    generator = shutil.which("tpchgen-cli") or str(pathlib.Path(sys.executable).parent / "tpchgen-cli")
    subprocess.run([generator, "parquet", "--scale-factor", "1", "--output-dir", str(data)], check=True)
    connection = duckdb.connect()
    for table, prefix in PREFIXES.items():
        path = data / f"{table}.parquet"
        columns = [row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
        renamed = ", ".join(f"{c} AS {c[len(prefix):]}" for c in columns)
        connection.execute(f"CREATE VIEW {table} AS SELECT {renamed} FROM read_parquet('{path}')")
    yield connection
    connection.close()
    shutil.rmtree(data, ignore_errors=True)


def same_value(ours: Any, theirs: Any) -> bool:
    numbers = (int, float, decimal.Decimal)
    if isinstance(ours, numbers) and isinstance(theirs, numbers) and not isinstance(ours, bool):
        if isinstance(ours, int) and isinstance(theirs, int):
            return ours == theirs
        a, b = float(ours), float(theirs)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.01)
    if isinstance(ours, datetime.date) and isinstance(theirs, datetime.date):
        return ours == theirs
    return ours == theirs


def assert_same_rows(ours: Sequence[Sequence[Any]], theirs: Sequence[Sequence[Any]], query: str) -> None:
    assert len(ours) == len(theirs), f"{query}: {len(ours)} rows, DuckDB has {len(theirs)}"
    for index, (a, b) in enumerate(zip(ours, theirs)):
        assert len(a) == len(b), f"{query} row {index}: {len(a)} columns, DuckDB has {len(b)}"
        for column, (x, y) in enumerate(zip(a, b)):
            assert same_value(x, y), f"{query} row {index} column {column}: {x!r}, DuckDB has {y!r}\n  ours:   {list(a)}\n  DuckDB: {list(b)}"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("number", range(1, 23))
def test_query_matches_duckdb(number: int, duckdb_sf1, trino_connect) -> None:
    sql = (QUERIES / f"q{number:02}.sql").read_text()
    cursor = trino_connect(schema="sf1", request_timeout=600).cursor()
    cursor.execute(sql)
    ours: List[List[Any]] = [list(row) for row in cursor.fetchall()]
    theirs = [list(row) for row in duckdb_sf1.execute(sql).fetchall()]
    assert_same_rows(ours, theirs, f"Q{number}")
