"""data.transform on real stored files with DuckDB: each step, a join, group-by sums against Python's, each input
and output format, clear errors naming the step, and snippets that try to reach files, URLs or the environment."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from engine.storage import Address
from engine.tasks.context import TaskFailed, TaskTimedOut
from engine.tasks.data import lock

ORDERS = [
    {
        "order_id": i,
        "customer_id": i % 4,
        "region": ["north", "south", "east"][i % 3],
        "amount": round(i * 1.37, 2),
        "currency": "XXX" if i % 10 == 0 else "EUR",
    }
    for i in range(1, 61)
]
CUSTOMERS = [{"customer_id": c, "name": f"customer {c}"} for c in range(1, 4)]  # 0 has no name


def _put(context, tmp_path: Path, name: str, rows: list[dict]) -> str:
    """``rows`` stored in the format ``name`` says; returns the file's address."""
    local = tmp_path / name
    table = pa.Table.from_pylist(rows)
    if name.endswith(".csv"):
        pacsv.write_csv(table, local)
    elif name.endswith(".parquet"):
        pq.write_table(table, local)
    else:
        local.write_text("".join(json.dumps(row) + "\n" for row in rows))
    address = f"lanner://acme/flow/earlier/extract/1/{name}"
    context.storage.put(Address.parse(address), local)
    return address


def _rows(context, tmp_path: Path, outputs: dict) -> list[dict]:
    """The rows of the file a transform stored."""
    local = tmp_path / ("read-" + outputs["uri"].rsplit("/", 1)[-1])
    context.storage.get(Address.parse(outputs["uri"]), local)
    if outputs["format"] == "PARQUET":
        return pq.read_table(local).to_pylist()
    if outputs["format"] == "CSV":
        return pacsv.read_csv(local).to_pylist()
    return [json.loads(line) for line in local.read_text().splitlines()]


@pytest.fixture
def orders(context, tmp_path) -> str:
    return _put(context, tmp_path, "orders.csv", ORDERS)


def test_filter_compute_rename_select_sort_limit(run_task, context, tmp_path, orders):
    outputs = run_task(
        "data.transform",
        **{"from": orders},
        steps=[
            {"filter": "amount >= 10 AND currency <> 'XXX'"},
            {"compute": {"net": "round(amount / 1.2, 2)", "amount": "amount * 100"}},
            {"rename": {"order_id": "id"}},
            {"select": ["id", "amount", "net"]},
            {"sort": ["-amount"]},
            {"limit": 3},
        ],
    )
    expected = sorted((o for o in ORDERS if o["amount"] >= 10 and o["currency"] != "XXX"), key=lambda o: -o["amount"])
    rows = _rows(context, tmp_path, outputs)
    assert [r["id"] for r in rows] == [o["order_id"] for o in expected[:3]]
    assert rows[0]["amount"] == pytest.approx(expected[0]["amount"] * 100)
    assert rows[0]["net"] == pytest.approx(round(expected[0]["amount"] / 1.2, 2))
    assert outputs["columns"] == ["id", "amount", "net"] and outputs["rows"] == 3 and outputs["format"] == "PARQUET"
    assert outputs["uri"].endswith("/transform.parquet")


def test_group_by_sums_equal_python_and_distinct(run_task, context, tmp_path, orders):
    outputs = run_task(
        "data.transform",
        **{"from": orders},
        steps=[
            {"filter": "currency = 'EUR'"},
            {
                "groupBy": {
                    "by": ["region"],
                    "aggregate": {
                        "total": {"sum": "amount"},
                        "orders": {"count": "*"},
                        "biggest": {"max": "amount"},
                        "customers": {"countDistinct": "customer_id"},
                    },
                }
            },
            {"sort": ["region"]},
        ],
        format="jsonl",
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for order in ORDERS:
        if order["currency"] == "EUR":
            totals[order["region"]] += Decimal(str(order["amount"]))
            counts[order["region"]] += 1
    rows = _rows(context, tmp_path, outputs)
    assert [r["region"] for r in rows] == sorted(totals)
    for row in rows:
        assert Decimal(str(row["total"])).quantize(Decimal("0.01")) == totals[row["region"]]
        assert row["orders"] == counts[row["region"]]
        assert row["customers"] == 4
    distinct = run_task("data.transform", **{"from": orders}, steps=[{"select": ["region"]}, {"distinct": True}])
    assert distinct["rows"] == 3


def test_a_join_of_two_files_of_different_formats(run_task, context, tmp_path, orders):
    customers = _put(context, tmp_path, "customers.parquet", CUSTOMERS)
    outputs = run_task(
        "data.transform",
        **{"from": orders},
        steps=[{"join": {"with": customers, "on": ["customer_id"], "how": "left"}}, {"sort": ["order_id"]}],
        format="JSONL",
        fileName="named.jsonl",
    )
    rows = _rows(context, tmp_path, outputs)
    assert outputs["uri"].endswith("/named.jsonl") and len(rows) == len(ORDERS)
    assert rows[0]["name"] == "customer 1" and rows[3]["name"] is None  # order 4: customer 0, no name
    inner = run_task(
        "data.transform",
        **{"from": orders},
        steps=[{"join": {"with": customers, "on": {"customer_id": "customer_id"}, "select": ["name"]}}],
    )
    assert inner["rows"] == sum(1 for o in ORDERS if o["customer_id"] != 0)
    assert inner["columns"][-1] == "name"


def test_a_full_join_keeps_the_other_files_rows_with_their_keys(run_task, context, tmp_path, orders):
    customers = _put(context, tmp_path, "more.jsonl", [*CUSTOMERS, {"customer_id": 9, "name": "no orders"}])
    outputs = run_task(
        "data.transform",
        **{"from": orders},
        steps=[
            {"join": {"with": customers, "on": ["customer_id"], "how": "full"}},
            {"filter": "order_id IS NULL OR name IS NULL"},
        ],
        format="JSONL",
    )
    rows = _rows(context, tmp_path, outputs)
    assert [r for r in rows if r["order_id"] is None] == [
        {"order_id": None, "customer_id": 9, "region": None, "amount": None, "currency": None, "name": "no orders"}
    ]
    assert len(rows) == 1 + sum(1 for o in ORDERS if o["customer_id"] == 0)


def test_a_join_column_clash_is_explained(run_task, context, tmp_path, orders):
    other = _put(context, tmp_path, "regions.csv", [{"customer_id": 1, "region": "west"}])
    with pytest.raises(TaskFailed, match=r"step 1 \(join\): the joined file's region already exist"):
        run_task("data.transform", **{"from": orders}, steps=[{"join": {"with": other, "on": ["customer_id"]}}])
    with pytest.raises(TaskFailed, match=r"step 1 \(join\): no column id in the joined file"):
        run_task("data.transform", **{"from": orders}, steps=[{"join": {"with": other, "on": {"customer_id": "id"}}}])


def test_a_long_query_stops_at_the_tasks_timeout_and_leaves_no_files(run_task, context, tmp_path):
    """A join of 100,000 rows with 100,000 rows on one key (10 billion pairs) is interrupted, not waited for."""
    same = _put(context, tmp_path, "same.parquet", [{"k": 1, "v": i} for i in range(100_000)])
    other = _put(context, tmp_path, "other.parquet", [{"k": 1, "w": i} for i in range(100_000)])
    steps = [
        {"join": {"with": other, "on": ["k"]}},
        {"filter": "(v * w) % 7 = 3"},  # minutes of work: DuckDB cannot fold it into the join
        {"groupBy": {"by": ["v"], "aggregate": {"n": {"count": "*"}, "s": {"sum": "w"}}}},
    ]
    context.deadline = time.monotonic() + 1.5
    started = time.monotonic()
    with pytest.raises(TaskTimedOut):
        run_task("data.transform", **{"from": same}, steps=steps)
    assert time.monotonic() - started < 10
    assert not list(context.workdir.glob(".lanner-transform-*"))


@pytest.mark.parametrize("source", ["orders.csv", "orders.jsonl", "orders.parquet"])
@pytest.mark.parametrize("target", ["CSV", "JSONL", "PARQUET"])
def test_each_input_and_output_format(run_task, context, tmp_path, source, target):
    address = _put(context, tmp_path, source, ORDERS[:5])
    outputs = run_task("data.transform", **{"from": address}, steps=[{"select": ["order_id", "amount"]}], format=target)
    assert outputs["format"] == target and outputs["rows"] == 5
    assert [r["order_id"] for r in _rows(context, tmp_path, outputs)] == [1, 2, 3, 4, 5]


def test_an_input_named_without_extension_takes_the_given_format(run_task, context, tmp_path):
    address = _put(context, tmp_path, "orders.parquet", ORDERS[:2])
    local = tmp_path / "blob"
    context.storage.get(Address.parse(address), local)
    context.storage.put(Address.parse("lanner://acme/flow/earlier/extract/1/blob"), local)
    with pytest.raises(TaskFailed, match="does not say its format"):
        run_task("data.transform", **{"from": "lanner://acme/flow/earlier/extract/1/blob"})
    outputs = run_task("data.transform", **{"from": "lanner://acme/flow/earlier/extract/1/blob"}, inputFormat="parquet")
    assert outputs["rows"] == 2


def test_a_bad_column_names_its_step(run_task, orders):
    with pytest.raises(TaskFailed, match=r"step 2 \(filter\).*amout"):
        run_task("data.transform", **{"from": orders}, steps=[{"limit": 5}, {"filter": "amout > 1"}])
    with pytest.raises(TaskFailed, match=r"step 1 \(select\): no column nope \(the columns are: order_id"):
        run_task("data.transform", **{"from": orders}, steps=[{"select": ["order_id", "nope"]}])
    with pytest.raises(TaskFailed, match=r"step 1 \(groupBy\): no column amout"):
        run_task("data.transform", **{"from": orders}, steps=[{"groupBy": {"aggregate": {"t": {"sum": "amout"}}}}])


def test_a_step_must_have_exactly_one_key(run_task, orders):
    with pytest.raises(ValueError, match="exactly one of"):
        run_task("data.transform", **{"from": orders}, steps=[{"filter": "amount > 1", "limit": 3}])


@pytest.mark.parametrize(
    "snippet",
    [
        "(SELECT content FROM read_text('/etc/passwd')) IS NOT NULL",
        "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
        "getenv('HOME') IS NOT NULL",
        "amount > 0; COPY input TO '/tmp/stolen.csv'",
        "amount > 0; ATTACH '/tmp/other.db'",
        "amount > 0) UNION ALL (SELECT * FROM read_text('/etc/passwd')",
        "amount IN (SELECT amount FROM read_parquet('/tmp/x.parquet'))",
        "length(content) > 0 FROM read_text('/etc/passwd')",
    ],
)
def test_snippets_cannot_reach_files_urls_or_the_environment(run_task, orders, snippet):
    for step in ({"filter": snippet}, {"compute": {"x": snippet}}):
        with pytest.raises(TaskFailed, match=r"step 1 \((filter|compute)\)"):
            run_task("data.transform", **{"from": orders}, steps=[step])
    assert not Path("/tmp/stolen.csv").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM 'http://127.0.0.1:9/x.csv'",
        "COPY input TO '/tmp/lanner-stolen.csv'",
        "ATTACH '/tmp/lanner-other.db' AS other",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "RESET lock_configuration",
    ],
)
def test_a_locked_connection_reads_and_writes_no_file_and_cannot_be_unlocked(tmp_path, statement):
    """The second wall, behind the expression checks: what a snippet could reach if one slipped through."""
    import duckdb

    conn = duckdb.connect(":memory:")
    conn.execute("CREATE TABLE input AS SELECT 1 AS amount")
    lock(conn)
    with pytest.raises(duckdb.Error):
        conn.execute(statement)
    assert not Path("/tmp/lanner-stolen.csv").exists() and not Path("/tmp/lanner-other.db").exists()


def test_expressions_in_the_address_and_the_steps_are_rendered_first(context, tmp_path, orders):
    from engine.runtime.worker import render_task
    from engine.tasks import registry

    task = registry.get("data.transform").model_validate(
        {
            "id": "task",
            "type": "data.transform",
            "from": "{{ outputs.extract.uri }}",
            "steps": [{"filter": "amount >= {{ inputs.least }}"}, {"limit": "{{ inputs.top }}"}],
            "format": "{{ inputs.format }}",
        }
    )
    variables = {"outputs": {"extract": {"uri": orders}}, "inputs": {"least": 50, "top": 4, "format": "csv"}}
    outputs = render_task(task, variables).run(context)
    assert outputs["rows"] == 4 and outputs["format"] == "CSV"
    assert all(row["amount"] >= 50 for row in _rows(context, tmp_path, outputs))


@pytest.mark.parametrize("target", ["CSV", "JSONL", "PARQUET"])
def test_no_row_left_gives_an_empty_file_with_the_columns(run_task, context, tmp_path, orders, target):
    outputs = run_task("data.transform", **{"from": orders}, steps=[{"filter": "amount < 0"}], format=target)
    assert outputs["rows"] == 0 and outputs["columns"] == list(ORDERS[0])
    local = tmp_path / "empty"
    context.storage.get(Address.parse(outputs["uri"]), local)
    if target == "PARQUET":
        assert pq.read_table(local).column_names == list(ORDERS[0])
    elif target == "CSV":
        assert local.read_text().splitlines() == ['"order_id","customer_id","region","amount","currency"']
