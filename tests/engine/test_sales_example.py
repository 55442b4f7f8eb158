"""The flagship example, ``examples/acme/daily_sales.yml``, run unchanged (only its warehouse table points at a
schema of the test's own) on a real cluster through the real API: orders in a real PostgreSQL shop, pandas and
psycopg installed by uv into the session's environment cache, Parquet files handed from task to task through
internal storage, a real warehouse table and a real HTTP server standing in for Slack."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
import sqlalchemy
from sqlalchemy import Engine

from tests.support import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

EXAMPLE = ROOT / "examples" / "acme" / "daily_sales.yml"
NAMESPACE, FLOW = "acme.sales", "daily_sales"
DAY, OTHER_DAY = dt.date(2026, 3, 2), dt.date(2026, 3, 3)  # far from "yesterday": the scheduled-style run's day
RATES = {"EUR": Decimal("1.0"), "USD": Decimal("0.92"), "GBP": Decimal("1.17")}  # the example's own rates
# (id, sku, store, amount, currency, day): two stores, two categories, three currencies, one test order
ORDERS = [
    (1, "shoes-001", "paris", Decimal("120.00"), "EUR", DAY),
    (2, "shoes-002", "paris", Decimal("80.50"), "EUR", DAY),
    (3, "hats-001", "paris", Decimal("25.00"), "USD", DAY),
    (4, "shoes-003", "london", Decimal("100.00"), "GBP", DAY),
    (5, "hats-002", "london", Decimal("40.00"), "GBP", DAY),
    (6, "hats-003", "lab", Decimal("0.00"), "EUR", DAY),  # a test order (a store of its own): dropped
    (7, "shoes-004", "london", Decimal("10.00"), "USD", DAY),
    (8, "shoes-005", "paris", Decimal("999.00"), "EUR", OTHER_DAY),
    (9, "hats-004", "berlin", Decimal("50.00"), "USD", OTHER_DAY),
]


class _Slack(BaseHTTPRequestHandler):
    """Answers 200 to any POST, as a Slack webhook does, and keeps the JSON bodies it received."""

    def do_POST(self):
        self.server.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):  # silence
        pass


@pytest.fixture
def slack() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Slack)
    server.bodies = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/sales"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def shop(postgres_server: Engine) -> Iterator[tuple[Engine, str]]:
    """A fresh schema in the PostgreSQL ``test`` database with the shop's ``orders`` (two days of them) and the
    warehouse's ``daily_sales`` (one row of OTHER_DAY already loaded); dropped afterwards."""
    schema = f"sales_{uuid.uuid4().hex[:10]}"
    with postgres_server.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
        connection.execute(
            sqlalchemy.text(
                f"CREATE TABLE {schema}.orders (id integer PRIMARY KEY, sku text, store text, "
                "amount numeric(12, 2), currency text, created_at timestamp)"
            )
        )
        connection.execute(
            sqlalchemy.text(
                f"CREATE TABLE {schema}.daily_sales (day date, store text, category text, amount_eur numeric)"
            )
        )
        connection.execute(
            sqlalchemy.text(f"INSERT INTO {schema}.orders VALUES (:id, :sku, :store, :amount, :currency, :at)"),
            [
                {
                    "id": i,
                    "sku": sku,
                    "store": store,
                    "amount": amount,
                    "currency": currency,
                    "at": dt.datetime.combine(day, dt.time(9 + i, 15)),
                }
                for i, sku, store, amount, currency, day in ORDERS
            ],
        )
        connection.execute(
            sqlalchemy.text(f"INSERT INTO {schema}.daily_sales VALUES (:day, 'paris', 'shoes', 999)"),
            {"day": OTHER_DAY},
        )
    yield postgres_server, schema
    with postgres_server.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


@pytest.fixture
def cluster(cluster_factory, environments_dir):
    """An executor and two workers sharing the session's environment cache (pandas installs once a session)."""
    cluster = cluster_factory()
    cluster.env["LANNER_ENVIRONMENTS_DIR"] = str(environments_dir)
    cluster.start_executor()
    cluster.start_workers(2)
    return cluster


def expected_sales(day: dt.date, min_amount: Decimal = Decimal("0.01")) -> dict[tuple[str, str], Decimal]:
    """Per store and category EUR sums of the day, computed here without pandas."""
    sums: dict[tuple[str, str], Decimal] = {}
    for _, sku, store, amount, currency, order_day in ORDERS:
        if order_day == day and amount >= min_amount:
            key = (store, sku.split("-")[0])
            sums[key] = sums.get(key, Decimal(0)) + amount * RATES[currency]
    return sums


def warehouse(admin: Engine, schema: str) -> dict[dt.date, dict[tuple[str, str], Decimal]]:
    """The warehouse table by day; a duplicated (store, category) of a day fails the test."""
    rows: dict[dt.date, dict[tuple[str, str], Decimal]] = {}
    with admin.connect() as connection:
        for day, store, category, amount in connection.execute(
            sqlalchemy.text(f"SELECT day, store, category, amount_eur FROM {schema}.daily_sales")
        ):
            assert (store, category) not in rows.setdefault(day, {}), f"duplicated row {day} {store} {category}"
            rows[day][(store, category)] = amount
    return rows


def run_and_wait(api: httpx.Client, inputs: dict, timeout: float = 600) -> tuple[dict, float]:
    """Start the example through the API and poll it until it ends: its document and how long it took."""
    started = time.monotonic()
    response = api.post(f"/executions/trigger/{NAMESPACE}/{FLOW}", json={"inputs": inputs})
    assert response.status_code == 201, response.text
    execution_id = response.json()["id"]
    deadline = started + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/executions/{execution_id}").json()
        if body["state"] in {"SUCCESS", "FAILED", "KILLED", "WARNING"}:
            return body, time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"still {body['state']} after {timeout} s: {body}")


def task_runs(body: dict) -> dict[str, dict]:
    return {run["taskId"]: run for run in body["taskRuns"]}


def failure(api: httpx.Client, body: dict) -> str:
    """Why an execution failed: its errors and the logs of its task runs (for the assertion message)."""
    errors = {run["taskId"]: run.get("error") for run in body["taskRuns"] if run.get("error")}
    logs = api.get(f"/logs/{body['id']}/download").text[-4000:]
    return f"{body['state']} {body.get('error')} {errors}\n{logs}"


def example_on(schema: str) -> str:
    """The example's text with its one ``table:`` variable pointed at the test's schema, nothing else changed."""
    text = EXAMPLE.read_text()
    changed, count = re.subn(r"(?m)^  table: .*$", f"  table: {schema}.daily_sales", text)
    assert count == 1, "the example no longer has one `table:` variable"
    return changed


@pytest.mark.timeout(900)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # Lanner's own store: PostgreSQL is the shop
def test_the_daily_sales_example_loads_a_day_replaces_it_on_a_rerun_and_defaults_to_yesterday(shop, slack, api):
    admin, schema = shop
    deployed = api.post("/flows", content=example_on(schema), headers={"content-type": "application/x-yaml"})
    assert deployed.status_code == 200, deployed.text
    dsn = admin.url.set(drivername="postgresql").render_as_string(hide_password=False)
    secrets = {
        "SHOP_DSN": f"{dsn}?options=-csearch_path%3D{schema}",  # the example reads `orders` unqualified
        "WAREHOUSE_DSN": dsn,
        "SLACK_WEBHOOK": slack.url,
    }
    for name, value in secrets.items():
        assert api.put(f"/namespaces/{NAMESPACE}/secrets/{name}", json={"value": value}).status_code == 204

    expected = expected_sales(DAY)
    total = round(float(sum(expected.values())), 2)
    stores = len({store for store, _ in expected})
    message = f"Sales loaded: {total} EUR across {stores} stores."

    first, first_seconds = run_and_wait(api, {"day": DAY.isoformat()})
    assert first["state"] == "SUCCESS", failure(api, first)
    loaded = warehouse(admin, schema)
    assert loaded[DAY] == pytest.approx(expected, abs=Decimal("1e-9"))
    assert loaded[OTHER_DAY] == {("paris", "shoes"): Decimal(999)}  # the other day is untouched
    assert slack.bodies == [{"text": message}]
    assert first["outputs"]["total"] == pytest.approx(total)
    runs = task_runs(first)
    assert runs["day"]["outputs"]["value"] == DAY.isoformat()
    assert runs["extract"]["outputs"]["vars"]["rows"] == 7  # the test order is extracted, then dropped
    logs = api.get(f"/logs/{first['id']}/download").text
    created = "creating Python environment" in logs  # unless an earlier test of the session built the same set
    built = re.search(r"created Python environment \(.*?\) in ([0-9.]+) s", logs)

    second, second_seconds = run_and_wait(api, {"day": DAY.isoformat()})
    assert second["state"] == "SUCCESS", failure(api, second)
    assert warehouse(admin, schema) == loaded  # the day's rows replaced, not duplicated (a duplicate fails)
    assert slack.bodies == [{"text": message}] * 2
    assert "creating Python environment" not in api.get(f"/logs/{second['id']}/download").text
    print(
        f"environment created: {created} ({built and built.group(1)} s); first run {first_seconds:.1f} s, second run {second_seconds:.1f} s"
    )

    # A scheduled run passes no day: it loads the day before its start (none of the test's orders: zero rows).
    scheduled, _ = run_and_wait(api, {})
    assert scheduled["state"] == "SUCCESS", failure(api, scheduled)
    started = dt.datetime.fromisoformat(scheduled["startedAt"]).date()
    yesterday = (started - dt.timedelta(days=1)).isoformat()
    runs = task_runs(scheduled)
    assert runs["day"]["outputs"]["value"] == yesterday
    assert runs["extract"]["outputs"]["vars"]["rows"] == 0
    assert scheduled["outputs"]["total"] == 0
    assert slack.bodies[-1] == {"text": "Sales loaded: 0.0 EUR across 0 stores."}
    assert warehouse(admin, schema) == loaded  # nothing loaded for yesterday, nothing else touched
