"""Run-history aggregations (engine/store/stats.py) on a large seeded history, printing JSON and a table.

Seeds N executions (default 100,000) spread over 30 days, 10 task runs each and a few log lines each, with
bulk inserts in batches of 10,000, into a fresh SQLite file (and a throwaway PostgreSQL database when
--postgres ADMIN_URL is given), then times every aggregation over the 30-day window.

Run: .venv/bin/python bench/history.py [--executions N] [--postgres postgresql+psycopg://postgres@127.0.0.1/test]

Seeding a million executions takes about 30 minutes: --keep keeps the SQLite file and the PostgreSQL database, and
--reuse PATH_OR_URL measures one again later (migrated first, as any start does), after summarizing its closed days
once (timed: "summarize_s"). A kept PostgreSQL database is dropped by hand: DROP DATABASE "lanner_bench_...".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy
from sqlalchemy import insert
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.identity import authz  # noqa: E402
from engine.identity.policy import Principal, Role  # noqa: E402
from engine.store import stats, task_summaries  # noqa: E402
from engine.store.database import open_database  # noqa: E402
from engine.store.search import ExecutionFilter, search_executions  # noqa: E402
from engine.store.tables import Execution, LogLine, TaskRun  # noqa: E402

BATCH = 10_000
DAYS = 30
FLOWS = [(f"bench.team{n % 4}", f"flow{n}") for n in range(20)]
STATES = ["SUCCESS"] * 80 + ["FAILED"] * 10 + ["WARNING"] * 5 + ["KILLED"] * 2 + ["RUNNING"] * 2 + ["QUEUED"]
LEVELS = ["INFO"] * 6 + ["DEBUG"] * 2 + ["WARN", "ERROR"]
VIEWER = Principal(name="viewer", memberships={"bench.team1": Role.VIEWER})  # a quarter of the history


def _batches(rows, size: int = BATCH):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(engine, executions: int, tasks_per: int, logs_per: int, now: dt.datetime) -> dict:
    rng = random.Random(42)  # the same history on every run and database
    counts = {"executions": 0, "task_runs": 0, "log_lines": 0}
    started = time.perf_counter()

    def rows():
        for _ in range(executions):
            namespace, flow_id = rng.choice(FLOWS)
            state = rng.choice(STATES)
            created = now - dt.timedelta(seconds=rng.uniform(0, DAYS * 86400))
            ended = state not in ("RUNNING", "QUEUED")
            ms = rng.randint(200, 120_000) if ended else None
            execution = {
                "id": str(uuid.uuid4()),
                "namespace": namespace,
                "flow_id": flow_id,
                "flow_revision": 1,
                "state": state,
                "inputs": {},
                "outputs": {},
                "labels": {},
                "held": False,
                "created_at": created,
                "updated_at": created,
                "started_at": created,
                "ended_at": created + dt.timedelta(milliseconds=ms) if ms else None,
                "duration_ms": ms,
            }
            runs = [
                {
                    "id": str(uuid.uuid4()),
                    "execution_id": execution["id"],
                    "namespace": namespace,
                    "flow_id": flow_id,
                    "task_id": f"task{t}",
                    "state": "FAILED" if rng.random() < 0.03 else "SUCCESS",
                    "kind": "worker",
                    "attempt_count": 1,
                    "outputs": {},
                    "created_at": created,
                    "started_at": created,
                    "duration_ms": rng.randint(10, 10_000 * (t + 1)),
                }
                for t in range(tasks_per)
            ]
            logs = [
                {
                    "execution_id": execution["id"],
                    "namespace": namespace,
                    "flow_id": flow_id,
                    "task_id": "task0",
                    "level": rng.choice(LEVELS),
                    "message": "a line of output",
                    "timestamp": created + dt.timedelta(seconds=n),
                }
                for n in range(logs_per)
            ]
            yield execution, runs, logs

    # One transaction per batch, executions first (task runs reference them): at a million executions a single
    # transaction grows SQLite's WAL past 4 GB and slows every insert after.
    for batch in _batches(rows(), BATCH // max(tasks_per, 1)):
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":  # the indexes of 10M rows stay in memory: random inserts, no reads
                connection.exec_driver_sql("PRAGMA cache_size=-2000000")
            connection.execute(insert(Execution), [e for e, _, _ in batch])
            connection.execute(insert(TaskRun), [r for _, runs, _ in batch for r in runs])
            if logs_per:
                connection.execute(insert(LogLine), [line for _, _, logs in batch for line in logs])
        counts["executions"] += len(batch)
        counts["task_runs"] += sum(len(runs) for _, runs, _ in batch)
        counts["log_lines"] += sum(len(logs) for _, _, logs in batch)
    if engine.dialect.name == "postgresql":  # as autovacuum leaves a live installation: without the visibility
        # map a fresh bulk load has, every index-only read visits the table too (task durations: 2.0 s, not 0.19)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sqlalchemy.text("VACUUM ANALYZE"))
    # SQLite: no ANALYZE, as Lanner never runs one. A live installation's SQLite has no statistics, and plans
    # differ with them (an analyzed file gave a one-team viewer's executions page in 0.04 s that took 0.6 s live).
    return {**counts, "seed_s": round(time.perf_counter() - started, 2)}


def timed(engine, function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        with Session(engine) as session:
            started = time.perf_counter()
            function(session)
            best = min(best, time.perf_counter() - started)
    return round(best, 4)


def readable(table) -> sqlalchemy.ColumnElement[bool]:
    return authz.readable(VIEWER, table.namespace)


def measure(engine, now: dt.datetime) -> dict:
    since = now - dt.timedelta(days=DAYS)
    namespace, flow_id = FLOWS[3]
    one = {"namespace": namespace, "flow_id": flow_id}
    cases = {
        "executions_per_day": lambda s: stats.executions_per_day(s, since, now),
        "executions_per_day_flow": lambda s: stats.executions_per_day(s, since, now, **one),
        "duration_points": lambda s: stats.duration_points(s, since, now),
        "duration_points_flow": lambda s: stats.duration_points(s, since, now, **one),
        "kpis": lambda s: stats.kpis(s, since, now, now),
        "kpis_flow": lambda s: stats.kpis(s, since, now, now, **one),
        "task_durations_flow": lambda s: stats.task_durations(s, since, now, **one),
        "slowest_tasks": lambda s: stats.top_tasks(s, since, now, by="slowest", limit=10),
        "most_failing_tasks": lambda s: stats.top_tasks(s, since, now, by="failing", limit=10),
        "log_lines_per_day": lambda s: stats.log_lines_per_day(s, since, now),
        "log_lines_per_day_flow": lambda s: stats.log_lines_per_day(s, since, now, **one),
        # What a viewer of one team's namespaces sees: the charts and the executions page (25 rows and the count),
        # access pushed into SQL.
        "executions_per_day_viewer": lambda s: stats.executions_per_day(s, since, now, where=readable(Execution)),
        "slowest_tasks_viewer": lambda s: stats.top_tasks(s, since, now, by="slowest", where=readable(TaskRun)),
        "log_lines_per_day_viewer": lambda s: stats.log_lines_per_day(s, since, now, where=readable(LogLine)),
        "executions_page_viewer": lambda s: search_executions(
            s, ExecutionFilter(where=readable(Execution)), sort="created", size=25
        ),
    }
    results = {}
    for name, function in cases.items():
        results[name] = timed(engine, function)
        print(json.dumps({name: results[name]}), file=sys.stderr)
    return results


def run(url: str, args: argparse.Namespace, now: dt.datetime) -> dict:
    engine = open_database(url)
    try:
        figures = seed(engine, args.executions, args.tasks, args.logs, now)
        figures.update(summarize(engine, now))  # as the executor's sweep does on a running installation
        figures["seconds"] = measure(engine, now)
        return figures
    finally:
        engine.dispose()


def summarize(engine, now: dt.datetime) -> dict:
    """The closed days' task-run summaries (engine/store/task_summaries.py), once, timed."""
    started = time.perf_counter()
    days = task_summaries.summarize_closed_days(engine, now)
    figures = {"summarize_s": round(time.perf_counter() - started, 2), "summarized_days": len(days)}
    print(json.dumps(figures), file=sys.stderr)
    return figures


def reuse(path_or_url: str) -> dict:
    """Measure a kept SQLite file or PostgreSQL database: migrate it, summarize its closed days once, then time every
    aggregation."""
    started = time.perf_counter()
    engine = open_database(path_or_url if "://" in path_or_url else f"sqlite:///{path_or_url}")
    figures: dict = {"migrate_s": round(time.perf_counter() - started, 2)}
    try:
        now = dt.datetime.now(dt.UTC)
        figures.update(summarize(engine, now))
        figures["seconds"] = measure(engine, now)
        return figures
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=10, help="task runs per execution")
    parser.add_argument("--logs", type=int, default=3, help="log lines per execution")
    parser.add_argument("--postgres", default=None, help="an admin URL: a throwaway database is created there")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the file and database (their names go to stderr)")
    parser.add_argument("--reuse", default=None, help="measure a file or URL kept by --keep instead of seeding")
    args = parser.parse_args()
    if args.reuse:
        database = "postgresql" if args.reuse.startswith("postgresql") else "sqlite"
        results = {"executions": "reused", database: reuse(args.reuse)}
        print(json.dumps(results, indent=2))
        print(table(results))
        return
    now = dt.datetime.now(dt.UTC)
    results: dict = {"executions": args.executions, "tasks_per_execution": args.tasks, "window_days": DAYS}
    if not args.no_sqlite:
        home = Path(tempfile.mkdtemp(prefix="lanner-history-"))
        try:
            results["sqlite"] = run(f"sqlite:///{home / 'lanner.db'}", args, now)
        finally:
            if args.keep:
                print(f"kept {home / 'lanner.db'}", file=sys.stderr)
            else:
                shutil.rmtree(home, ignore_errors=True)  # ~500 MB at the default size
    if args.postgres:
        admin = sqlalchemy.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"lanner_bench_{uuid.uuid4().hex[:12]}"
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        try:
            results["postgresql"] = run(url, args, now)
        finally:
            if args.keep:
                print(f"kept {url}", file=sys.stderr)
            else:
                with admin.connect() as connection:
                    connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(json.dumps(results, indent=2))
    print(table(results))


def table(results: dict) -> str:
    """The seconds of each aggregation, one column per database (as JSON above, for a note or a page)."""
    databases = [name for name in ("sqlite", "postgresql") if name in results]
    executions = results["executions"]
    lines = [f"| aggregation ({executions:,} executions) | " if isinstance(executions, int) else "| aggregation | "]
    lines[0] += " | ".join(databases) + " |"
    lines.append("|---|" + "---|" * len(databases))
    for case in results[databases[0]]["seconds"] if databases else []:
        lines.append(f"| {case} | " + " | ".join(f"{results[d]['seconds'][case]} s" for d in databases) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
