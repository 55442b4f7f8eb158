"""The SQL polling trigger against the real PostgreSQL and MariaDB: rows inserted in bursts while a trigger listener
polls every 100 ms are each handled by exactly one execution, marked by afterSql in the poll's transaction."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy
from sqlmodel import Session, select

from engine.runtime.trigger_health import read_health
from engine.store.tables import Execution
from tests.support.ids import unique
from tests.support.sql_families import family_database

pytestmark = pytest.mark.slow
BURSTS, ROWS_PER_BURST = 6, 15  # 90 rows: all inline in trigger.rows even if one poll finds them all


def _executions(engine, flow_id: str) -> list[Execution]:
    with Session(engine.db) as session:
        return list(session.exec(select(Execution).where(Execution.flow_id == flow_id)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # Lanner's own store; the watched one varies
@pytest.mark.parametrize("family", ["postgresql", "mysql"])
def test_rows_inserted_in_bursts_each_start_one_execution(cluster_factory, tmp_path, family):
    with family_database(family, tmp_path) as url:
        watched = sqlalchemy.create_engine(url)
        with watched.begin() as connection:
            connection.execute(sqlalchemy.text(
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL, done BOOLEAN NOT NULL DEFAULT FALSE)"
            ))  # fmt: skip
        engine = cluster_factory()
        engine.start_executor()
        engine.start_workers(1)
        engine.start("listener", "trigger-listener")
        flow_id = unique("orders")
        engine.deploy(
            f"id: {flow_id}\nnamespace: shop\n"
            "tasks:\n  - {id: seen, type: return, value: '{{ trigger.count }}'}\n"
            "triggers:\n"
            f"  - id: new_orders\n    type: {family}.trigger\n    url: {url}\n    interval: 100ms\n"
            "    sql: SELECT id, amount FROM orders WHERE done = FALSE ORDER BY id\n"
            "    afterSql: UPDATE orders SET done = TRUE WHERE done = FALSE\n"
        )

        def burst(number: int) -> None:
            first = number * ROWS_PER_BURST
            with watched.begin() as connection:
                connection.execute(
                    sqlalchemy.text("INSERT INTO orders (id, amount) VALUES (:id, :amount)"),
                    [{"id": first + i, "amount": i} for i in range(ROWS_PER_BURST)],
                )

        key = f"shop/{flow_id}/new_orders"
        deadline = time.monotonic() + 30
        while not ((h := read_health(engine.redis, [key]).get(key)) and h.connected):
            assert time.monotonic() < deadline, "the listener never polled"
            time.sleep(0.05)
        for pair in range(0, BURSTS, 2):  # two bursts at once, then a few polls' pause: bursts meet polls
            writers = [threading.Thread(target=burst, args=(number,)) for number in (pair, pair + 1)]
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join()
            time.sleep(0.35)

        total = BURSTS * ROWS_PER_BURST
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with watched.connect() as connection:
                left = connection.execute(sqlalchemy.text("SELECT COUNT(*) FROM orders WHERE done = FALSE")).scalar()
            started = _executions(engine, flow_id)
            if left == 0 and sum(e.trigger["count"] for e in started) >= total:
                break
            time.sleep(0.2)
        started = _executions(engine, flow_id)
        seen = [row["id"] for e in started for row in (e.trigger["rows"] or [])]
        assert sorted(seen) == list(range(total)), "each row in exactly one execution's trigger.rows"
        assert sum(e.trigger["count"] for e in started) == total
        assert all(e.trigger["uri"].startswith("lanner://shop/") for e in started)
        for execution in started:
            assert engine.wait(execution.id).state == "SUCCESS"
        watched.dispose()
