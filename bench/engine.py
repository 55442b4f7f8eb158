"""Engine benchmarks W1-W5, and how they scale, printing JSON and a table.

Two protocols:
- ``--protocol api`` (the peers' protocol, the default): ``lanner api`` + one executor + ``lanner worker -n N``;
  each run is triggered through the REST API and polled (GET every 5 ms) until seen finished; the time is the
  client's wall clock from the trigger call to the answer that shows it ended. One warm-up, median of 3. The poll
  asks for the execution alone (``?taskRuns=false``), as the peers' clients ask for a run's state; ``--poll full``
  asks for every task run too, as rounds 1-4 did (at 4,000 tasks that poll alone takes most of a core).
- ``--protocol direct``: runs started in this process (``commands.start_execution``); times from the database
  (an execution's created_at to its ended_at).

Workloads: W1 40 sequential ``return`` tasks, each adding 1; W2 100 parallel + a join; W3 50 one-task runs
triggered at once (runs/s from the first trigger call to the last seen finished, trigger calls included); W4 a
foreach over 100; W5 a 2-task flow at 1,000/min (latency percentiles); W6 a mixed flow (parallel, foreach, a retry,
a script logging lines) at 600/min, sustained or not (the backlog left when the triggering stops).

Curves (``--curves``): W1 with 40, 400 and 4,000 tasks (cost per task); W3 with 50 and 1,000 runs; W1 with 0 and
100,000 executions already in history; W2 with 1, 2 and 4 workers. ``--curves w1-tasks,w3-runs`` picks some;
``--sizes`` trims them (``--sizes w1-tasks=40,400``).

Run: .venv/bin/python bench/engine.py [--protocol api|direct] [--poll state|full] [--quick] [--workers N]
     [--database-url URL] [--only w1,w2,w3,w4,w5,w6] [--curves all|w1-tasks,w3-runs,history,w2-workers]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlmodel import Session, col, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.runtime.connection import connect, embedded_redis  # noqa: E402
from engine.services import commands  # noqa: E402
from engine.services.flow_deploy import deploy_flow  # noqa: E402
from engine.store.database import open_database, session_scope  # noqa: E402
from engine.store.tables import Execution  # noqa: E402

TERMINAL = ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED")
CURVES = {"w1-tasks": [40, 400, 4000], "w3-runs": [50, 1000], "history": [0, 100_000], "w2-workers": [1, 2, 4]}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """An executor, a worker pool and (for the API protocol) ``lanner api`` on one database and Redis."""

    def __init__(self, home: Path, database_url: str, redis_url: str, workers: int, api: bool) -> None:
        self.env = {**os.environ, "LANNER_HOME": str(home), "LANNER_DATABASE_URL": database_url,
                    "LANNER_REDIS_URL": redis_url}  # fmt: skip
        self.db = open_database(database_url)
        self.conn = commands.Connections(self.db, connect(redis_url))
        self.processes: dict[str, subprocess.Popen] = {}
        self._start("executor", "executor")
        self.workers(workers)
        self.client: httpx.Client | None = None
        if api:
            port = free_port()
            self._start("api", "api", "--port", str(port))
            self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60)
            deadline = time.monotonic() + 60
            while True:
                try:
                    if self.client.get("/namespaces").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("lanner api did not answer")
                time.sleep(0.1)

    def _start(self, name: str, *args: str) -> None:
        self.processes[name] = subprocess.Popen([sys.executable, "-m", "engine", *args], env=self.env)

    def workers(self, count: int) -> None:
        if "worker" in self.processes:
            self.processes["worker"].terminate()
            self.processes["worker"].wait(60)
        self._start("worker", "worker", "-n", str(count))

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            process.wait(60)

    def deploy(self, yaml: str) -> tuple[str, str]:
        with session_scope(self.db) as session:
            result = deploy_flow(session, yaml)
        return result.namespace, result.flow_id


class Direct:
    """Runs started in this process; durations from the database."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def trigger(self, namespace: str, flow_id: str) -> str:
        return commands.start_execution(self.cluster.conn, namespace, flow_id)

    def finished(self, ids: list[str], started: float) -> tuple[list[float], float]:
        """Each run's duration (s), and the span from the first created to the last ended."""
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            with Session(self.cluster.db) as session:
                rows = list(session.exec(select(Execution).where(col(Execution.id).in_(ids))))
            if len(rows) == len(ids) and all(r.state in TERMINAL for r in rows):
                _check(rows)
                span = max(r.ended_at for r in rows) - min(r.created_at for r in rows)
                return [(r.ended_at - r.created_at).total_seconds() for r in rows], span.total_seconds()
            time.sleep(0.01)
        raise TimeoutError("executions did not finish")


class Api:
    """Runs triggered through the REST API and polled until seen finished; client wall-clock times."""

    def __init__(self, cluster: Cluster, poll: str = "state") -> None:
        self.client = cluster.client
        self.sent: dict[str, float] = {}
        self.poll = {"taskRuns": "false"} if poll == "state" else {}

    def trigger(self, namespace: str, flow_id: str) -> str:
        sent = time.perf_counter()
        answer = self.client.post(f"/executions/trigger/{namespace}/{flow_id}")
        answer.raise_for_status()
        execution_id = answer.json()["id"]
        self.sent[execution_id] = sent
        return execution_id

    def finished(self, ids: list[str], started: float) -> tuple[list[float], float]:
        ended: dict[str, float] = {}
        deadline = time.monotonic() + 900
        while len(ended) < len(ids) and time.monotonic() < deadline:
            for execution_id in ids:
                if execution_id in ended:
                    continue
                body = self.client.get(f"/executions/{execution_id}", params=self.poll).json()
                if body["state"] in TERMINAL:
                    if body["state"] != "SUCCESS":
                        raise RuntimeError(f"{execution_id} ended {body['state']}: {body.get('error')}")
                    ended[execution_id] = time.perf_counter()
                    continue
                break  # the first not finished: poll it again (the others end later, or are seen in one pass)
            if len(ended) < len(ids):
                time.sleep(0.005)
        if len(ended) < len(ids):
            raise TimeoutError("executions did not finish")
        return [ended[i] - self.sent[i] for i in ids], max(ended.values()) - started


def _check(rows: list[Execution]) -> None:
    bad = [r for r in rows if r.state != "SUCCESS"]
    if bad:
        raise RuntimeError(f"{len(bad)} execution(s) did not succeed: {bad[0].state} {bad[0].error}")


def one(cluster: Cluster, driver, yaml: str, repeat: int = 3) -> dict:
    namespace, flow_id = cluster.deploy(yaml)
    driver.finished([driver.trigger(namespace, flow_id)], time.perf_counter())  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        (took,), _ = driver.finished([driver.trigger(namespace, flow_id)], started)
        times.append(took)
    return {"median_s": round(statistics.median(times), 3), "best_s": round(min(times), 3), "runs": repeat}


def chain(tasks: int, flow_id: str = "w1") -> str:
    steps = "".join(
        f"  - {{id: t{i}, type: return, value: '{{{{ outputs.t{i - 1}.value + 1 }}}}'}}\n" for i in range(1, tasks)
    )
    return f"id: {flow_id}\nnamespace: bench\ntasks:\n  - {{id: t0, type: return, value: 1}}\n{steps}"


def w1(cluster, driver, tasks: int = 40) -> dict:
    result = one(cluster, driver, chain(tasks, f"w1x{tasks}"), repeat=3 if tasks <= 400 else 1)
    return {**result, "tasks": tasks, "ms_per_task": round(result["median_s"] * 1000 / tasks, 2)}


def w2(cluster, driver) -> dict:
    branches = "".join(f"      - {{id: p{i}, type: return, value: {i}}}\n" for i in range(100))
    return one(
        cluster,
        driver,
        f"id: w2\nnamespace: bench\ntasks:\n  - id: fan\n    type: parallel\n    tasks:\n{branches}"
        "  - {id: join, type: return, value: joined}\n",
    )


def w3(cluster, driver, count: int = 50) -> dict:
    namespace, flow_id = cluster.deploy(
        f"id: w3x{count}\nnamespace: bench\ntasks:\n  - {{id: only, type: return, value: 1}}\n"
    )
    driver.finished([driver.trigger(namespace, flow_id)], time.perf_counter())  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:  # "at once": 8 callers at a time
        ids = list(pool.map(lambda _: driver.trigger(namespace, flow_id), range(count)))
    requested = time.perf_counter() - started
    _, span = driver.finished(ids, started)
    return {"runs": count, "runs_per_s": round(count / span, 1), "span_s": round(span, 3),
            "trigger_calls_s": round(requested, 3), "ms_per_trigger": round(requested * 1000 / count, 2)}  # fmt: skip


def w4(cluster, driver) -> dict:
    return one(
        cluster,
        driver,
        "id: w4\nnamespace: bench\ntasks:\n  - id: each\n    type: foreach\n"
        f"    values: {list(range(100))}\n    concurrencyLimit: 0\n"
        "    tasks:\n      - {id: r, type: return, value: '{{ taskrun.value }}'}\n",
    )


def w5(cluster, driver, duration: float, per_minute: int = 1000) -> dict:
    namespace, flow_id = cluster.deploy(
        "id: w5\nnamespace: bench\ntasks:\n  - {id: a, type: return, value: 1}\n"
        "  - {id: b, type: return, value: '{{ outputs.a.value + 1 }}'}\n",
    )
    interval = 60.0 / per_minute
    ids, start = [], time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        futures = []
        while time.perf_counter() - start < duration:
            due = start + len(futures) * interval
            time.sleep(max(0.0, due - time.perf_counter()))
            futures.append(pool.submit(driver.trigger, namespace, flow_id))
        ids = [future.result() for future in futures]
    times, _ = Direct(cluster).finished(ids, start)  # latency inside the engine: created to ended
    latencies = sorted(t * 1000 for t in times)
    return {"runs": len(ids), "rate_per_min": per_minute, "p50_ms": _pct(latencies, 50),
            "p90_ms": _pct(latencies, 90), "p99_ms": _pct(latencies, 99),
            "max_ms": round(latencies[-1], 1)}  # fmt: skip


MIXED = """id: w6
namespace: bench
tasks:
  - id: fan
    type: parallel
    tasks:
      - {id: a, type: return, value: 1}
      - {id: b, type: return, value: 2}
  - id: each
    type: foreach
    values: [1, 2, 3]
    tasks:
      - {id: r, type: return, value: '{{ taskrun.value }}'}
  - id: flaky
    type: shell
    retry: {type: constant, interval: 10ms, maxAttempts: 2}
    commands:
      - 'echo "attempt {{ taskrun.attempt }}"'
      - '[ {{ taskrun.attempt }} -gt 1 ] || exit 3'
  - id: script
    type: shell
    commands: ['echo one', 'echo two', 'echo "sum {{ outputs.a.value + outputs.b.value }}"']
"""


def w6(cluster, driver, duration: float, per_minute: int = 600) -> dict:
    """The mixed flow (parallel, foreach, a retry, a script logging lines) triggered at ``per_minute`` for
    ``duration`` seconds: sustained when every run has ended soon after the last trigger (no backlog built up)."""
    namespace, flow_id = cluster.deploy(MIXED)
    driver.finished([driver.trigger(namespace, flow_id)], time.perf_counter())  # warm-up
    interval = 60.0 / per_minute
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        futures = []
        while time.perf_counter() - start < duration:
            time.sleep(max(0.0, start + len(futures) * interval - time.perf_counter()))
            futures.append(pool.submit(driver.trigger, namespace, flow_id))
        ids = [future.result() for future in futures]
    triggered = time.perf_counter() - start
    times, _ = Direct(cluster).finished(ids, start)
    drained = time.perf_counter() - start  # when the last run was seen ended
    latencies = sorted(t * 1000 for t in times)
    return {"runs": len(ids), "rate_per_min": per_minute, "sustained_per_min": round(len(ids) / drained * 60),
            "backlog_s": round(drained - triggered, 2), "p50_ms": _pct(latencies, 50), "p99_ms": _pct(latencies, 99)}  # fmt: skip


def _pct(sorted_values: list[float], p: float) -> float:
    return round(sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))], 1)


def seed_history(cluster: Cluster, executions: int) -> dict:
    """``executions`` ended executions (10 task runs each) spread over 30 days, as bench/history.py seeds them."""
    import history

    history.STATES = ["SUCCESS"] * 9 + ["FAILED"]  # ended ones only: nothing for the executor to pick up
    return history.seed(cluster.db, executions, 10, 0, dt.datetime.now(dt.UTC))


def curves(cluster: Cluster, driver, chosen: list[str], sizes: dict[str, list[int]]) -> dict:
    found: dict[str, list[dict]] = {}
    for name in chosen:
        found[name] = []
        for size in sizes.get(name, CURVES[name]):
            if name == "w1-tasks":
                found[name].append(w1(cluster, driver, size))
            elif name == "w3-runs":
                found[name].append(w3(cluster, driver, size))
            elif name == "history":
                seeded = seed_history(cluster, size) if size else {}
                found[name].append({"history": size, **seeded, **w1(cluster, driver, 40)})
            elif name == "w2-workers":
                cluster.workers(size)
                time.sleep(2)  # the pool's processes register before the first run
                found[name].append({"workers": size, **w2(cluster, driver)})
            print(json.dumps({name: found[name][-1]}), file=sys.stderr)
    return found


def table(results: dict) -> str:
    lines = ["| figure | value |", "|---|---|"]
    for name in ("w1", "w2", "w4"):
        if name in results:
            lines.append(f"| {name.upper()} median | {results[name]['median_s']} s |")
    if "w3" in results:
        w3_ = results["w3"]
        lines.append(f"| W3 | {w3_['runs_per_s']} runs/s ({w3_['ms_per_trigger']} ms per trigger call) |")
    if "w5" in results:
        lines.append(f"| W5 p50 / p99 | {results['w5']['p50_ms']} / {results['w5']['p99_ms']} ms |")
    if "w6" in results:
        w6_ = results["w6"]
        lines.append(f"| W6 mixed at {w6_['rate_per_min']}/min | {w6_['sustained_per_min']}/min sustained, "
                     f"backlog {w6_['backlog_s']} s, p50 / p99 {w6_['p50_ms']} / {w6_['p99_ms']} ms |")  # fmt: skip
    for name, points in results.get("curves", {}).items():
        for point in points:
            key = {"w1-tasks": "tasks", "w3-runs": "runs", "history": "history", "w2-workers": "workers"}[name]
            value = point.get("ms_per_task") or point.get("runs_per_s") or point.get("median_s")
            unit = {"w1-tasks": "ms/task", "w3-runs": "runs/s", "history": "s (W1)", "w2-workers": "s (W2)"}[name]
            if name == "history":
                value = point["median_s"]
            lines.append(f"| {name} {key}={point[key]} | {value} {unit} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", choices=["api", "direct"], default="api")
    parser.add_argument("--quick", action="store_true", help="W5 and W6 for 15 s instead of 60 s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--poll", choices=["state", "full"], default="state", help="what the API protocol polls")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", default="w1,w2,w3,w4,w5,w6", help="workloads; empty for none")
    parser.add_argument("--curves", default="", help="all, or some of " + ",".join(CURVES))
    parser.add_argument("--sizes", default="", help="e.g. w1-tasks=40,400;w3-runs=50")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    home = Path(tempfile.mkdtemp(prefix="lanner-bench-"))
    database_url = args.database_url or f"sqlite:///{home / 'lanner.db'}"
    chosen_curves = list(CURVES) if args.curves == "all" else [c for c in args.curves.split(",") if c]
    sizes = {name: [int(n) for n in values.split(",")]
             for name, _, values in (part.partition("=") for part in args.sizes.split(";") if part)}  # fmt: skip
    with embedded_redis(home) as redis_url:
        cluster = Cluster(home, database_url, redis_url, args.workers, api=args.protocol == "api")
        driver: Callable = Api(cluster, args.poll) if args.protocol == "api" else Direct(cluster)
        try:
            results: dict = {"protocol": args.protocol, "workers": args.workers, "poll": args.poll,
                             "database": database_url.split(":")[0]}  # fmt: skip
            chosen = [w for w in args.only.split(",") if w]
            for name, run in (("w1", w1), ("w2", w2), ("w3", w3), ("w4", w4)):
                if name in chosen:
                    results[name] = run(cluster, driver)
                    print(json.dumps({name: results[name]}), file=sys.stderr)
            if "w5" in chosen:
                results["w5"] = w5(cluster, driver, 15 if args.quick else 60)
            if "w6" in chosen:
                results["w6"] = w6(cluster, driver, 15 if args.quick else 60)
            if chosen_curves:
                results["curves"] = curves(cluster, driver, chosen_curves, sizes)
            print(json.dumps(results, indent=2))
            print(table(results))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
