"""What Superset sends through the trino SQLAlchemy dialect (its `TrinoEngineSpec` and the
Presto base spec): the connection test, catalog browsing, SQL Lab's function list, the cost
estimate and cancelling a running query with `kill_query`."""

from __future__ import annotations

import json
import threading
import time

import pytest
import trino
from sqlalchemy import text

from support import USER

SLOW_QUERY = "SELECT count(*) FROM tpch.sf100.lineitem"


def test_connection_test_and_catalog_browsing(engine):
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        result = conn.execute(text("SHOW CATALOGS"))
        assert list(result.keys()) == ["Catalog"]
        catalogs = [row[0] for row in result]
        assert {"memory", "system", "tpch"} <= set(catalogs), catalogs


def test_show_functions_lists_what_sql_lab_completes(engine):
    with engine.connect() as conn:
        result = conn.execute(text("SHOW FUNCTIONS"))
        assert list(result.keys()) == [
            "Function", "Return Type", "Argument Types", "Function Type", "Deterministic", "Description",
        ]
        rows = result.fetchall()
    names = {row[0] for row in rows}
    assert {"upper", "lower", "count", "sum", "row_number", "json_parse", "abs"} <= names
    kinds = {row[0]: row[3] for row in rows}
    assert (kinds["upper"], kinds["count"], kinds["row_number"]) == ("scalar", "aggregate", "window")
    assert not any(name.startswith("__") for name in names), "internal functions are listed"
    with engine.connect() as conn:
        like = conn.execute(text("SHOW FUNCTIONS LIKE 'json\\_%' ESCAPE '\\'")).fetchall()
    assert like and all(row[0].startswith("json_") for row in like), like


def test_cost_estimate_is_json_with_the_estimate_superset_reads(engine):
    with engine.connect() as conn:
        plan = conn.execute(text(
            "EXPLAIN (TYPE IO, FORMAT JSON) SELECT name FROM tpch.tiny.nation WHERE regionkey = 1"
        )).scalar()
    document = json.loads(plan)
    assert set(document["estimate"]) == {"outputRowCount", "outputSizeInBytes", "cpuCost", "maxMemory", "networkCost"}
    assert [info["table"] for info in document["inputTableColumnInfos"]] == [
        {"catalog": "tpch", "schemaTable": {"schema": "tiny", "table": "nation"}}
    ]


def test_kill_query_stops_a_running_query_with_superset_message(engine, host, port):
    outcome = {}
    cursor = trino.dbapi.connect(host=host, port=port, user=USER).cursor()

    def run():
        try:
            cursor.execute(SLOW_QUERY)
            cursor.fetchall()
            outcome["result"] = "finished"
        except Exception as error:  # the outcome is checked below
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.time() + 30
    while time.time() < deadline and not (cursor.stats or {}).get("queryId"):
        time.sleep(0.05)
    query_id = cursor.stats["queryId"]
    # Another user may not kill it.
    other = trino.dbapi.connect(host=host, port=port, user="mallory").cursor()
    with pytest.raises(trino.exceptions.TrinoQueryError, match="Access Denied: Cannot kill query") as denied:
        other.execute(f"CALL system.runtime.kill_query('{query_id}')")
        other.fetchall()
    assert USER not in denied.value.message, "the denial names the query's owner"
    # Superset's TrinoEngineSpec.cancel_query, through its own connection as the same user.
    with engine.connect() as conn:
        conn.execute(text(
            f"CALL system.runtime.kill_query(query_id => '{query_id}', message => 'Query cancelled by Superset')"
        ))
    thread.join(60)
    assert not thread.is_alive()
    error = outcome.get("error")
    assert isinstance(error, trino.exceptions.TrinoQueryError), outcome
    assert error.error_name == "ADMINISTRATIVELY_KILLED"
    assert error.message == "Query killed. Message: Query cancelled by Superset"

    with engine.connect() as conn:
        with pytest.raises(Exception, match="Target query is not running"):
            conn.execute(text(f"CALL system.runtime.kill_query('{query_id}')"))
