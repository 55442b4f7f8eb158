"""Metrics on vs off (issue 17): bench/engine.py's W1 and W3 run with LANNER_METRICS=1 and =0 in turns, each
measured by its own figures and by the CPU seconds the whole run took (the bench, its executor and its workers:
user + system, read from the kernel when the run's process tree has been waited for). CPU time barely moves when
other programs load the machine, where wall times do.

Run: .venv/bin/python bench/metrics.py [--pairs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(metrics: bool) -> dict:
    env = {**os.environ, "LANNER_METRICS": "1" if metrics else "0"}
    before = os.times()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "engine.py"), "--quick", "--only", "w1,w3"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    after = os.times()
    figures = json.loads(done.stdout)
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {
        "w1_median_s": figures["w1"]["median_s"],
        "w3_runs_per_s": figures["w3"]["runs_per_s"],
        "cpu_s": round(cpu, 2),
    }


def hook_costs(calls: int = 20_000) -> dict:
    """Microseconds each metrics hook adds, in this process: a Redis command (timed vs plain client, on the
    embedded Redis), a database statement (the SQLAlchemy listeners, on SQLite), an execution ending, an attempt
    starting and ending."""
    import datetime as dt
    import tempfile
    import time
    from types import SimpleNamespace

    import redis
    from sqlalchemy import create_engine, event, text

    sys.path.insert(0, str(ROOT))
    from engine.core.states import State
    from engine.metrics import record, timing
    from engine.runtime.connection import embedded_redis

    def per_call(action, count: int = calls) -> float:
        started = time.perf_counter()
        for _ in range(count):
            action()
        return (time.perf_counter() - started) / count * 1e6

    def side_by_side(first, second, rounds: int = 50, count: int = 100) -> tuple[float, float]:
        """Both, in turns of ``count`` calls: a machine busy with other work slows both alike."""
        totals = [0.0, 0.0]
        for _ in range(rounds):
            for index, action in enumerate((first, second)):
                totals[index] += per_call(action, count)
        return totals[0] / rounds, totals[1] / rounds

    costs = {}
    with tempfile.TemporaryDirectory() as home, embedded_redis(Path(home)) as url:
        plain, timed = redis.Redis.from_url(url), timing.TimedRedis.from_url(url)
        plain_us, timed_us = side_by_side(plain.ping, timed.ping)
        costs["redis_command_plain_us"], costs["redis_command_timed_us"] = round(plain_us, 1), round(timed_us, 1)
        db = create_engine(f"sqlite:///{home}/bench.db")
        listened_db = create_engine(f"sqlite:///{home}/bench.db")
        event.listen(listened_db, "before_cursor_execute", timing._before)
        event.listen(listened_db, "after_cursor_execute", timing._after)
        with db.connect() as connection, listened_db.connect() as listened_connection:
            query = text("SELECT 1")
            bare, listened = side_by_side(lambda: connection.execute(query), lambda: listened_connection.execute(query))
        costs["db_statement_plain_us"], costs["db_statement_timed_us"] = round(bare, 1), round(listened, 1)
    now = dt.datetime.now(dt.UTC)
    snapshot = SimpleNamespace(
        execution=SimpleNamespace(state=State.SUCCESS, started_at=now, created_at=now, ended_at=now),
        flow=SimpleNamespace(namespace="bench", id="flow"),
    )
    costs["execution_ended_us"] = round(per_call(lambda: record.execution_advanced(State.RUNNING, snapshot)), 2)
    run = SimpleNamespace(namespace="bench", flow_id="flow", task_id="t", attempt_count=1, started_at=now,
                          created_at=now, next_attempt_at=None)  # fmt: skip

    def attempt() -> None:
        record.attempt_started(run, "log", "worker")
        record.attempt_ended(run, "log", State.SUCCESS, "worker", [])

    costs["attempt_started_and_ended_us"] = round(per_call(attempt), 2)
    costs["advance_observed_us"] = round(per_call(lambda: record.advance_took(0.001)), 2)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--hooks", action="store_true", help="only the cost of each hook, in microseconds")
    args = parser.parse_args()
    if args.hooks:
        print(json.dumps(hook_costs(), indent=2))
        return
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    for _ in range(args.pairs):
        for name, metrics in (("on", True), ("off", False)):
            runs[name].append(one_run(metrics))
            print(json.dumps({name: runs[name][-1]}), file=sys.stderr)
    summary = {
        name: {key: statistics.median(r[key] for r in results) for key in results[0]} for name, results in runs.items()
    }
    summary["overhead_cpu_pct"] = round(100 * (summary["on"]["cpu_s"] / summary["off"]["cpu_s"] - 1), 1)
    summary["overhead_w1_pct"] = round(100 * (summary["on"]["w1_median_s"] / summary["off"]["w1_median_s"] - 1), 1)
    summary["overhead_w3_pct"] = round(100 * (1 - summary["on"]["w3_runs_per_s"] / summary["off"]["w3_runs_per_s"]), 1)
    print(json.dumps({"runs": runs, "median": summary}, indent=2))


if __name__ == "__main__":
    main()
