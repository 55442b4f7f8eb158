"""What one API call costs the API process: CPU milliseconds and client wall time per call, for the calls the
engine's protocol makes (a trigger, a poll of an execution's state) and a full read of an execution.

Starts ``lanner api`` alone on a fresh SQLite home and the given Redis (no executor: the triggered runs stay
queued, which does not change what a call costs), calls each route ``--calls`` times one after another, and reads
the API process' CPU time from the operating system before and after. Prints JSON and a table.

With ``--token``, an administrator is set up first and every call sends an API token, as a signed-in install's
clients do (without it, the install has no account yet and nobody signs in).

Run: .venv/bin/python bench/api_calls.py [--calls 500] [--token] [--redis-url redis://127.0.0.1:6379/15]
     [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.runtime.connection import embedded_redis  # noqa: E402

FLOW = """\
id: one
namespace: bench.api
tasks:
  - id: only
    type: return
    value: 1
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(home: Path, database_url: str, redis_url: str) -> tuple[subprocess.Popen, httpx.Client]:
    port = _free_port()
    env = {**os.environ, "LANNER_HOME": str(home), "LANNER_DATABASE_URL": database_url, "LANNER_REDIS_URL": redis_url}
    process = subprocess.Popen([sys.executable, "-m", "engine", "api", "--port", str(port)], env=env)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.get("/namespaces").status_code == 200:
                return process, client
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("lanner api did not answer")


def measure(process: psutil.Process, calls: int, call: Callable[[], httpx.Response]) -> dict:
    for _ in range(min(50, calls)):  # warm-up: imports, caches, the first connections
        call().raise_for_status()
    before, started = process.cpu_times(), time.perf_counter()
    for _ in range(calls):
        call().raise_for_status()
    wall, after = time.perf_counter() - started, process.cpu_times()
    cpu = (after.user - before.user) + (after.system - before.system)
    return {
        "calls": calls,
        "cpu_ms_per_call": round(cpu / calls * 1000, 2),
        "wall_ms_per_call": round(wall / calls * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--redis-url", default=None, help="default: an embedded Redis")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary home")
    parser.add_argument("--only", default="trigger,poll,read", help="some of trigger,poll,read")
    parser.add_argument("--token", action="store_true", help="calls signed in with an API token")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        database_url = args.database_url or f"sqlite:///{home / 'lanner.db'}"
        with embedded_redis(home) if args.redis_url is None else _given(args.redis_url) as redis_url:
            process, client = _serve(home, database_url, redis_url)
            try:
                if args.token:
                    _sign_in_with_a_token(client)
                client.post("/flows", content=FLOW, headers={"content-type": "application/x-yaml"}).raise_for_status()
                api = psutil.Process(process.pid)
                started = client.post("/executions/trigger/bench.api/one").json()["id"]
                calls = {
                    "trigger": lambda: client.post("/executions/trigger/bench.api/one"),
                    "poll": lambda: client.get(f"/executions/{started}", params={"taskRuns": "false"}),
                    "read": lambda: client.get(f"/executions/{started}"),
                }
                results = {name: measure(api, args.calls, calls[name]) for name in args.only.split(",")}
            finally:
                process.terminate()
                process.wait(60)
    print(json.dumps({**results, "signed_in_with_a_token": args.token}, indent=2))
    print(f"{'call':<10}{'API CPU ms':>12}{'wall ms':>10}")
    for name, figures in results.items():
        print(f"{name:<10}{figures['cpu_ms_per_call']:>12}{figures['wall_ms_per_call']:>10}")


def _sign_in_with_a_token(client: httpx.Client) -> None:
    """The first administrator, then a token of theirs sent with every call (the session cookie dropped)."""
    setup = {"username": "bench", "password": "bench-password-1"}
    client.post("/auth/setup", json=setup).raise_for_status()
    token = client.post("/tokens", json={"name": "bench"}).json()["token"]
    client.cookies.clear()
    client.headers["authorization"] = f"Bearer {token}"


class _given:
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
