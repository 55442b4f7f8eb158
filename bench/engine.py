"""Engine benchmarks W1-W5 on the embedded defaults (SQLite + embedded Redis), printing JSON.

Run: .venv/bin/python bench/engine.py [--quick] [--workers N] [--database-url URL]
Times come from the database: an execution's created_at (the run request) to its ended_at.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, col, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.runtime.connection import connect, embedded_redis  # noqa: E402
from engine.services import commands  # noqa: E402
from engine.services.flow_deploy import deploy_flow  # noqa: E402
from engine.store.database import open_database, session_scope  # noqa: E402
from engine.store.tables import Execution  # noqa: E402

TERMINAL = ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED")


def deploy(db, yaml: str) -> tuple[str, str]:
    with session_scope(db) as session:
        result = deploy_flow(session, yaml)
    return result.namespace, result.flow_id


def wait_all(db, ids: list[str], timeout: float = 300) -> list[Execution]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(db) as session:
            rows = list(session.exec(select(Execution).where(col(Execution.id).in_(ids))))
        if len(rows) == len(ids) and all(r.state in TERMINAL for r in rows):
            bad = [r for r in rows if r.state != "SUCCESS"]
            if bad:
                raise RuntimeError(f"{len(bad)} execution(s) did not succeed: {bad[0].state} {bad[0].error}")
            return rows
        time.sleep(0.01)
    raise TimeoutError("executions did not finish")


def seconds(row: Execution) -> float:
    return (row.ended_at - row.created_at).total_seconds()


def one(conn, yaml: str, repeat: int = 3) -> dict:
    namespace, flow_id = deploy(conn.db, yaml)
    times = []
    for _ in range(repeat):
        execution_id = commands.start_execution(conn, namespace, flow_id)
        (row,) = wait_all(conn.db, [execution_id])
        times.append(seconds(row))
    return {"best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3), "runs": repeat}


def w1(conn) -> dict:
    steps = "".join(
        f"  - {{id: t{i}, type: return, value: '{{{{ outputs.t{i - 1}.value + 1 }}}}'}}\n" for i in range(1, 40)
    )
    return one(conn, f"id: w1\nnamespace: bench\ntasks:\n  - {{id: t0, type: return, value: 1}}\n{steps}")


def w2(conn) -> dict:
    branches = "".join(f"      - {{id: p{i}, type: return, value: {i}}}\n" for i in range(100))
    return one(
        conn,
        f"id: w2\nnamespace: bench\ntasks:\n  - id: fan\n    type: parallel\n    tasks:\n{branches}"
        "  - {id: join, type: return, value: joined}\n",
    )


def w3(conn, count: int = 200) -> dict:
    namespace, flow_id = deploy(conn.db, "id: w3\nnamespace: bench\ntasks:\n  - {id: only, type: return, value: 1}\n")
    started = time.monotonic()
    ids = [commands.start_execution(conn, namespace, flow_id) for _ in range(count)]
    requested = time.monotonic() - started
    rows = wait_all(conn.db, ids)
    first = min(r.created_at for r in rows)
    last = max(r.ended_at for r in rows)
    span = (last - first).total_seconds()
    return {
        "runs": count,
        "runs_per_s": round(count / span, 1),
        "span_s": round(span, 3),
        "request_s": round(requested, 3),
    }


def w4(conn) -> dict:
    return one(
        conn,
        "id: w4\nnamespace: bench\ntasks:\n  - id: each\n    type: foreach\n"
        f"    values: {list(range(100))}\n    concurrencyLimit: 0\n"
        "    tasks:\n      - {id: r, type: return, value: '{{ taskrun.value }}'}\n",
    )


def w5(conn, duration: float, per_minute: int = 1000) -> dict:
    namespace, flow_id = deploy(
        conn.db,
        "id: w5\nnamespace: bench\ntasks:\n  - {id: a, type: return, value: 1}\n"
        "  - {id: b, type: return, value: '{{ outputs.a.value + 1 }}'}\n",
    )
    interval = 60.0 / per_minute
    ids, start = [], time.monotonic()
    while time.monotonic() - start < duration:
        due = start + len(ids) * interval
        time.sleep(max(0.0, due - time.monotonic()))
        ids.append(commands.start_execution(conn, namespace, flow_id))
    latencies = sorted(seconds(r) * 1000 for r in wait_all(conn.db, ids))

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 1)

    return {
        "runs": len(ids),
        "rate_per_min": per_minute,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": round(latencies[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="W5 for 15 s instead of 60 s")
    parser.add_argument("--workers", type=int, default=max(os.cpu_count() or 2, 2))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", default="w1,w2,w3,w4,w5")
    parser.add_argument("--fork", action="store_true", help="RQ's forking Worker instead of SimpleWorker")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lanner-bench-"))
    database_url = args.database_url or f"sqlite:///{home / 'lanner.db'}"
    with embedded_redis(home) as redis_url:
        env = {
            **os.environ,
            "LANNER_HOME": str(home),
            "LANNER_DATABASE_URL": database_url,
            "LANNER_REDIS_URL": redis_url,
        }
        db = open_database(database_url)
        conn = commands.Connections(db, connect(redis_url))
        processes = [
            subprocess.Popen([sys.executable, "-m", "engine", "executor"], env=env),
            subprocess.Popen([sys.executable, "-m", "engine", "worker", "-n", str(args.workers)], env=env),
        ]
        try:
            one(conn, "id: warmup\nnamespace: bench\ntasks:\n  - {id: a, type: return, value: 1}\n", repeat=3)
            results: dict = {
                "workers": args.workers,
                "database": database_url.split(":")[0],
                "worker_class": "rq.Worker (fork per job)" if args.fork else "SimpleWorker",
            }
            chosen = args.only.split(",")
            for name, run in (("w1", w1), ("w2", w2), ("w3", w3), ("w4", w4)):
                if name in chosen:
                    results[name] = run(conn)
                    print(json.dumps({name: results[name]}), file=sys.stderr)
            if "w5" in chosen:
                results["w5"] = w5(conn, 15 if args.quick else 60)
            print(json.dumps(results, indent=2))
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)


if __name__ == "__main__":
    main()
