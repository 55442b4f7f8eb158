"""The flagship example, ``examples/acme/daily_sales.yml`` (connectors only, no code), deployed unchanged and run on
a real cluster through the real API: a real PostgreSQL shop of a few thousand orders, the day's orders stored as
Parquet, cleaned and summed by DuckDB, loaded into a real PostgreSQL warehouse and a real DuckDB file, and real
HTTP servers standing in for the Slack and Teams webhooks. Every figure is checked against sums computed here in
plain Python over the seeded rows."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from sqlalchemy import Engine

from tests.support import ROOT
from tests.support.ports import free_port
from tests.support.postgres import POSTGRES_URL
from tests.support.webhooks import Recorder

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

EXAMPLE = ROOT / "examples" / "acme" / "daily_sales.yml"
NAMESPACE, FLOW = "acme.sales", "daily_sales"
DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(5)]  # far from "yesterday"
DAY, OTHER_DAY = DAYS[1], DAYS[2]
RATES = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}  # the example's rates.csv
STORES = ["paris", "london", "berlin", "madrid"]
CATEGORIES = ["shoes", "hats", "bags"]
MIN_AMOUNT = Decimal("0.01")  # the example's default


def seeded_orders(count: int = 3000) -> list[dict]:
    """Orders over DAYS (some at midnight sharp and one second before, to check the day's bounds), three
    currencies, test orders (``is_test``) and zero amounts that the example must drop; always the same ones."""
    chance = random.Random(15)
    orders = []
    for number in range(1, count + 1):
        day = chance.choice(DAYS)
        seconds = chance.choice([0, 86399, chance.randrange(86400)])
        orders.append(
            {
                "id": number,
                "sku": f"{chance.choice(CATEGORIES)}-{chance.randrange(1000):03d}",
                "store": chance.choice(STORES),
                "amount": Decimal(0) if chance.random() < 0.03 else Decimal(chance.randrange(1, 50000)) / 100,
                "currency": chance.choice(list(RATES)),
                "is_test": chance.random() < 0.05,
                "created_at": dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds),
            }
        )
    return orders


ORDERS = seeded_orders()


def expected_sales(day: dt.date) -> dict[tuple[str, str], tuple[float, int]]:
    """Per store and category: the EUR sum and the number of orders of the day, as the example should load them."""
    sums: dict[tuple[str, str], tuple[float, int]] = {}
    for order in ORDERS:
        if order["created_at"].date() == day and order["amount"] >= MIN_AMOUNT and not order["is_test"]:
            key = (order["store"], order["sku"].split("-")[0])
            total, count = sums.get(key, (0.0, 0))
            sums[key] = (total + float(order["amount"]) * RATES[order["currency"]], count + 1)
    return sums


def approx(sales: dict[tuple[str, str], tuple[float, int]]) -> dict:
    return {key: (pytest.approx(total, rel=1e-9), count) for key, (total, count) in sales.items()}


def posted(webhook: Recorder, path: str) -> list[dict]:
    return [request["json"] for request in webhook.requests if request["path"] == path]


@pytest.fixture(scope="module")
def databases(postgres_server: Engine) -> Iterator[tuple[str, str]]:
    """Two private databases on the real server: the shop (``orders``, seeded once for the module) and an empty
    warehouse with its ``warehouse`` schema (the example's load creates the table). Their URLs; dropped after."""
    suffix = uuid.uuid4().hex[:10]
    names = [f"lanner_shop_{suffix}", f"lanner_warehouse_{suffix}"]
    for name in names:
        with postgres_server.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    shop_url, warehouse_url = (
        sqlalchemy.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False) for name in names
    )
    shop = sqlalchemy.create_engine(shop_url)
    with shop.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "CREATE TABLE orders (id integer PRIMARY KEY, sku text, store text, amount numeric(12, 2), "
                "currency text, is_test boolean, created_at timestamp)"
            )
        )
        connection.execute(
            sqlalchemy.text("INSERT INTO orders VALUES (:id, :sku, :store, :amount, :currency, :is_test, :created_at)"),
            ORDERS,
        )
    shop.dispose()
    warehouse = sqlalchemy.create_engine(warehouse_url)
    with warehouse.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE SCHEMA warehouse"))
    warehouse.dispose()
    yield shop_url, warehouse_url
    for name in names:
        with postgres_server.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def cluster(cluster_factory, environments_dir):
    """An executor and two workers sharing the session's environment cache (pandas installs once a session)."""
    cluster = cluster_factory()
    cluster.env["LANNER_ENVIRONMENTS_DIR"] = str(environments_dir)
    cluster.start_executor()
    cluster.start_workers(2)
    return cluster


@pytest.fixture
def deployed(api: httpx.Client, databases: tuple[str, str], webhook: Recorder, tmp_path: Path) -> Path:
    """The example deployed unchanged, its secrets and variable set through the API; the DuckDB file's path."""
    shop_url, warehouse_url = databases
    response = api.post("/flows", content=EXAMPLE.read_text(), headers={"content-type": "application/x-yaml"})
    assert response.status_code == 200, response.text
    set_secrets(api, SHOP_DSN=shop_url, WAREHOUSE_DSN=warehouse_url)
    set_secrets(api, SLACK_WEBHOOK=f"{webhook.url}/slack", TEAMS_WEBHOOK=f"{webhook.url}/teams")
    duckdb_file = tmp_path / "warehouse.duckdb"
    response = api.put(f"/namespaces/{NAMESPACE}/variables/warehouse_duckdb", json={"value": str(duckdb_file)})
    assert response.status_code == 204, response.text
    return duckdb_file


def set_secrets(api: httpx.Client, **values: str) -> None:
    for name, value in values.items():
        response = api.put(f"/namespaces/{NAMESPACE}/secrets/{name}", json={"value": value})
        assert response.status_code == 204, response.text


def run_and_wait(api: httpx.Client, inputs: dict, timeout: float = 300, flow: str = FLOW) -> tuple[dict, float]:
    """Start the example through the API and poll it until it ends: its document and how long it took."""
    started = time.monotonic()
    response = api.post(f"/executions/trigger/{NAMESPACE}/{flow}", json={"inputs": inputs})
    assert response.status_code == 201, response.text
    execution_id = response.json()["id"]
    while time.monotonic() < started + timeout:
        body = api.get(f"/executions/{execution_id}").json()
        if body["state"] in {"SUCCESS", "FAILED", "KILLED", "WARNING"}:
            return body, time.monotonic() - started
        time.sleep(0.3)
    raise AssertionError(f"still {body['state']} after {timeout} s: {body}")


def task_runs(body: dict) -> dict[str, dict]:
    return {run["taskId"]: run for run in body["taskRuns"]}


def failure(api: httpx.Client, body: dict) -> str:
    """Why an execution failed: its errors and the logs of its task runs (for the assertion message)."""
    errors = {run["taskId"]: run.get("error") for run in body["taskRuns"] if run.get("error")}
    logs = api.get(f"/logs/{body['id']}/download").text[-4000:]
    return f"{body['state']} {body.get('error')} {errors}\n{logs}"


def postgres_warehouse(url: str, table: str = "daily_sales") -> dict[dt.date, dict[tuple[str, str], tuple[float, int]]]:
    """The PostgreSQL warehouse table by day; a duplicated (store, category) of a day fails the test."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text(f"SELECT day, store, category, amount_eur, orders FROM warehouse.{table}")
            ).all()
    finally:
        engine.dispose()
    return by_day(rows)


def duckdb_warehouse(path: Path) -> dict[dt.date, dict[tuple[str, str], tuple[float, int]]]:
    """The DuckDB file's table by day (opened read-only and closed at once: a worker writes it next)."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as connection:
        return by_day(connection.execute("SELECT day, store, category, amount_eur, orders FROM daily_sales").fetchall())


def by_day(rows) -> dict[dt.date, dict[tuple[str, str], tuple[float, int]]]:
    loaded: dict[dt.date, dict[tuple[str, str], tuple[float, int]]] = {}
    for day, store, category, amount, orders in rows:
        assert (store, category) not in loaded.setdefault(day, {}), f"duplicated row {day} {store} {category}"
        loaded[day][(store, category)] = (float(amount), int(orders))
    return loaded


@pytest.mark.timeout(900)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # Lanner's own store: PostgreSQL is the shop
def test_the_daily_sales_example_loads_both_warehouses_notifies_and_replaces_a_day_on_a_rerun(
    api, databases, webhook, deployed
):
    _, warehouse_url = databases
    expected, other = expected_sales(DAY), expected_sales(OTHER_DAY)
    total = round(sum(amount for amount, _ in expected.values()), 2)
    assert len(expected) == len(STORES) * len(CATEGORIES) and sum(n for _, n in expected.values()) > 400

    first, first_seconds = run_and_wait(api, {"day": DAY.isoformat()})
    assert first["state"] == "SUCCESS", failure(api, first)
    runs = task_runs(first)
    assert runs["day"]["outputs"]["value"] == DAY.isoformat()
    on_day = [order for order in ORDERS if order["created_at"].date() == DAY]
    assert runs["extract"]["outputs"]["rows"] == len(on_day)  # test orders are extracted, then dropped
    assert runs["extract"]["outputs"]["uri"].startswith("lanner://")
    assert runs["clean"]["outputs"]["rows"] == len(expected)
    assert runs["load_postgres"]["outputs"]["rows"] == runs["load_duckdb"]["outputs"]["rows"] == len(expected)
    assert postgres_warehouse(warehouse_url) == {DAY: approx(expected)}
    assert duckdb_warehouse(deployed) == {DAY: approx(expected)}

    row = runs["totals"]["outputs"]["row"]
    assert row["total"] == pytest.approx(total, abs=0.01)
    assert row["stores"] == len(STORES)
    assert row["orders"] == sum(n for _, n in expected.values())
    assert first["outputs"]["total"] == pytest.approx(total, abs=0.01)
    [slack] = posted(webhook, "/slack")
    assert f"{row['total']} EUR across {len(STORES)} stores" in slack["text"], slack
    assert DAY.isoformat() in slack["text"]
    [teams] = posted(webhook, "/teams")
    assert str(row["total"]) in json.dumps(teams), teams

    other_run, _ = run_and_wait(api, {"day": OTHER_DAY.isoformat()})
    assert other_run["state"] == "SUCCESS", failure(api, other_run)
    second, second_seconds = run_and_wait(api, {"day": DAY.isoformat()})
    assert second["state"] == "SUCCESS", failure(api, second)
    # The day's rows replaced, not added again (a duplicate fails by_day); the other day's rows kept.
    both = {DAY: approx(expected), OTHER_DAY: approx(other)}
    assert postgres_warehouse(warehouse_url) == both
    assert duckdb_warehouse(deployed) == both
    assert len(posted(webhook, "/slack")) == len(posted(webhook, "/teams")) == 3

    # A scheduled run passes no day: it loads the day before its start (none of the seeded orders: zero rows).
    scheduled, _ = run_and_wait(api, {})
    assert scheduled["state"] == "SUCCESS", failure(api, scheduled)
    started = dt.datetime.fromisoformat(scheduled["startedAt"]).date()
    runs = task_runs(scheduled)
    assert runs["day"]["outputs"]["value"] == (started - dt.timedelta(days=1)).isoformat()
    assert runs["extract"]["outputs"]["rows"] == 0
    assert scheduled["outputs"]["total"] == 0
    assert postgres_warehouse(warehouse_url) == both
    print(f"\n{len(on_day)} orders of the day: first run {first_seconds:.1f} s, rerun {second_seconds:.1f} s")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failing_run_posts_the_summary_naming_the_failed_task_without_the_password(api, webhook, deployed):
    # The shop's server is down: nothing listens on its port. Its password must not reach Slack.
    set_secrets(api, SHOP_DSN=f"postgresql://shop:s3cret-pw@127.0.0.1:{free_port()}/shop")
    # The example retries a stopped database for minutes: the test deploys it with a short retry, nothing else.
    text, count = re.subn(
        r"retry: \{.*\}", "retry: {type: constant, interval: 1s, maxAttempts: 2}", EXAMPLE.read_text()
    )
    assert count == 1, "the example no longer has one retry"
    response = api.post("/flows", content=text, headers={"content-type": "application/x-yaml"})
    assert response.status_code == 200, response.text

    failed, _ = run_and_wait(api, {"day": DAY.isoformat()})
    assert failed["state"] == "FAILED"
    runs = task_runs(failed)
    assert runs["extract"]["state"] == "FAILED" and "could not connect" in runs["extract"]["error"]
    assert runs["alert"]["state"] == "SUCCESS", failure(api, failed)
    assert "clean" not in runs and posted(webhook, "/teams") == []
    [summary] = posted(webhook, "/slack")
    message = json.dumps(summary)
    assert "extract" in message and "could not connect" in message, summary
    assert failed["id"] in message and f"{NAMESPACE}.{FLOW}" in message, summary
    assert "s3cret-pw" not in message and "s3cret-pw" not in json.dumps(failed)


PANDAS = ROOT / "examples" / "acme" / "daily_sales_pandas.yml"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_pandas_variant_loads_the_same_figures(api, databases, webhook, deployed):
    _, warehouse_url = databases
    response = api.post("/flows", content=PANDAS.read_text(), headers={"content-type": "application/x-yaml"})
    assert response.status_code == 200, response.text
    expected = expected_sales(DAY)
    for _ in range(2):  # the second run replaces the day's rows
        done, seconds = run_and_wait(api, {"day": DAY.isoformat()}, timeout=600, flow="daily_sales_pandas")
        assert done["state"] == "SUCCESS", failure(api, done)
        assert postgres_warehouse(warehouse_url, "daily_sales_pandas") == {DAY: approx(expected)}
        print(f"\npandas variant: {seconds:.1f} s")
    total = round(sum(amount for amount, _ in expected.values()), 2)
    assert done["outputs"]["total"] == pytest.approx(total, abs=0.01)
    assert [f"{total} EUR across {len(STORES)} stores" in body["text"] for body in posted(webhook, "/slack")] == [
        True,
        True,
    ]
