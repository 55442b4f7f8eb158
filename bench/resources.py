"""Resource bounds on the embedded defaults (SQLite + embedded Redis), printing JSON figures.

Run: .venv/bin/python bench/resources.py [--lines N] [--output-mb M]

- ``worker``: peak resident memory (VmHWM) of one worker process before and after a task that prints
  ``--lines`` lines, and how long the lines took to land in the database.
- ``download``: peak resident memory of ``lanner api`` before and after downloading that execution's log.
- ``big_output``: a script that emits an output value of ``--output-mb`` MB: how the task ended, and the
  peak memory of the worker, the executor and the API (reading the execution) after it.

Figures, not a test: nothing here asserts a threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.runtime.connection import connect, embedded_redis  # noqa: E402
from engine.services import commands  # noqa: E402
from engine.services.flow_deploy import deploy_flow  # noqa: E402
from engine.store import executions as store  # noqa: E402
from engine.store.database import open_database, session_scope  # noqa: E402
from engine.store.logs import read_logs  # noqa: E402
from tests.conftest import free_port  # noqa: E402

TERMINAL = ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED")


def peak_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM for {pid}")


def run(conn, yaml: str, timeout: float = 600):
    with session_scope(conn.db) as session:
        deployed = deploy_flow(session, yaml)
    execution_id = commands.start_execution(conn, deployed.namespace, deployed.flow_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(conn.db) as session:
            row = store.get_execution(session, execution_id)
            if row.state in TERMINAL:
                runs = store.task_runs(session, execution_id)
                return row, runs
        time.sleep(0.05)
    raise TimeoutError(f"execution {execution_id} did not end")


def count_lines(db, execution_id: str) -> int:
    total, after = 0, 0
    with session_scope(db) as session:
        while lines := read_logs(session, execution_id, after=after, limit=10_000):
            total, after = total + len(lines), lines[-1].id
    return total


def start_api(env: dict[str, str], home: Path) -> tuple[subprocess.Popen, httpx.Client]:
    port = free_port()
    log = open(home / "api.log", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "api", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=300)
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/namespaces").status_code == 200:
                return process, client
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError((home / "api.log").read_text())
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--output-mb", type=int, default=50)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lanner-bench-"))
    database_url = f"sqlite:///{home / 'lanner.db'}"
    results: dict = {"lines": args.lines, "output_mb": args.output_mb}
    with embedded_redis(home) as redis_url:
        env = {
            **os.environ,
            "LANNER_HOME": str(home),
            "LANNER_DATABASE_URL": database_url,
            "LANNER_REDIS_URL": redis_url,
        }
        conn = commands.Connections(open_database(database_url), connect(redis_url))
        executor = subprocess.Popen([sys.executable, "-m", "engine", "executor"], env=env)
        worker = subprocess.Popen([sys.executable, "-m", "engine", "worker", "-n", "1"], env=env)
        api = None
        try:
            run(conn, "id: warmup\nnamespace: bench\ntasks:\n  - {id: a, type: python, script: print(1)}\n")
            before = peak_mb(worker.pid)
            script = f"for i in range({args.lines}):\\n    print(f'line {{i}} of a task that logs a lot')"
            started = time.monotonic()
            row, _ = run(
                conn, f'id: chatty\nnamespace: bench\ntasks:\n  - {{id: talk, type: python, script: "{script}"}}\n'
            )
            results["worker"] = {
                "state": row.state,
                "seconds": round(time.monotonic() - started, 2),
                "lines_stored": count_lines(conn.db, row.id),
                "peak_rss_before_mb": before,
                "peak_rss_after_mb": peak_mb(worker.pid),
            }
            print(json.dumps({"worker": results["worker"]}), file=sys.stderr)

            api, client = start_api(env, home)
            before = peak_mb(api.pid)
            size = 0
            with client.stream("GET", f"/logs/{row.id}/download") as response:
                for chunk in response.iter_bytes():
                    size += len(chunk)
            results["download"] = {
                "status": response.status_code,
                "bytes": size,
                "peak_rss_before_mb": before,
                "peak_rss_after_mb": peak_mb(api.pid),
            }
            print(json.dumps({"download": results["download"]}), file=sys.stderr)

            worker_before, executor_before, api_before = peak_mb(worker.pid), peak_mb(executor.pid), peak_mb(api.pid)
            big = f"from engine.sdk import outputs\\noutputs({{'blob': 'x' * {args.output_mb} * 1024 * 1024}})"
            row, runs = run(
                conn, f'id: big\nnamespace: bench\ntasks:\n  - {{id: emit, type: python, script: "{big}"}}\n'
            )
            read = client.get(f"/executions/{row.id}")
            results["big_output"] = {
                "state": row.state,
                "error": (runs[0].error or "")[:200],
                "api_response_bytes": len(read.content),
                "worker_peak_rss_mb": [worker_before, peak_mb(worker.pid)],
                "executor_peak_rss_mb": [executor_before, peak_mb(executor.pid)],
                "api_peak_rss_mb": [api_before, peak_mb(api.pid)],
            }
            print(json.dumps(results, indent=2))
        finally:
            for process in (executor, worker, api):
                if process is not None:
                    process.terminate()
            for process in (executor, worker, api):
                if process is not None:
                    process.wait(30)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
