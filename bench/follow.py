"""What following one running execution live costs the API server per viewer, printing JSON figures.

On the embedded defaults (a temporary LANNER_HOME: SQLite + embedded Redis, one executor, one worker and
``lanner api``), one execution prints a line every 50 ms for a few minutes. The bench then opens 1, then
``--viewers`` Server-Sent-Events streams of it (``/executions/{id}/follow``), and for each count measures the
API process's CPU time (user + system, from /proc) over ``--window`` seconds. ``cores_per_extra_viewer`` is
(cores with N viewers - cores with 1) / (N - 1).

Studio pages follow through the same followers (engine/runtime/live.py) inside the studio process; this bench
measures the API's streams, which cost the same per viewer.

Figures, not a test: nothing here asserts a threshold.

Run: .venv/bin/python bench/follow.py [--viewers 20] [--window 15]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
sys.path.insert(0, str(ROOT / "bench"))

from resources import start_api  # noqa: E402

from engine.runtime.connection import embedded_redis  # noqa: E402

TALK = (
    "id: talk\nnamespace: bench\ntasks:\n  - id: talk\n    type: shell\n"
    "    commands: ['for i in $(seq 1 {count}); do echo line $i of a steady task; sleep 0.05; done']\n"
)
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def newest_line(client: httpx.Client, execution_id: str) -> int:
    """Viewers start from here: the window measures following, not replaying what was already printed."""
    newest = 0
    while page := client.get(f"/logs/{execution_id}", params={"after": newest, "limit": 10_000}).json():
        newest = page[-1]["id"]
    return newest


async def viewer(base_url: str, execution_id: str, after: int, received: list[int], index: int) -> None:
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=None) as client,
        client.stream("GET", f"/executions/{execution_id}/follow", params={"after": after}) as response,
    ):
        async for chunk in response.aiter_text():
            received[index] += chunk.count("event: log")


async def measure(base_url: str, execution_id: str, after: int, pid: int, viewers: int, window: float) -> dict:
    received = [0] * viewers
    tasks = [asyncio.create_task(viewer(base_url, execution_id, after, received, i)) for i in range(viewers)]
    await asyncio.sleep(3)  # every stream open and past its replay
    settled = list(received)
    started_cpu, started = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(window)
    cores = (cpu_seconds(pid) - started_cpu) / (time.monotonic() - started)
    lines = [now - before for now, before in zip(received, settled, strict=True)]
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await task
    await asyncio.sleep(2)  # the server notices the closed streams
    return {"viewers": viewers, "cores": round(cores, 4), "lines_per_viewer_in_window": [min(lines), max(lines)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--window", type=float, default=15.0)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lanner-bench-"))
    with embedded_redis(home) as redis_url:
        env = {
            **os.environ,
            "LANNER_HOME": str(home),
            "LANNER_DATABASE_URL": f"sqlite:///{home / 'lanner.db'}",
            "LANNER_REDIS_URL": redis_url,
        }
        processes = [
            subprocess.Popen([sys.executable, "-m", "engine", "executor"], env=env),
            subprocess.Popen([sys.executable, "-m", "engine", "worker", "-n", "1"], env=env),
        ]
        try:
            api, client = start_api(env, home)
            processes.append(api)
            client.post("/flows", content=TALK.format(count=100_000), headers={"Content-Type": "application/x-yaml"})
            execution_id = client.post("/executions/trigger/bench/talk").json()["id"]
            while client.get(f"/executions/{execution_id}").json()["state"] != "RUNNING":
                time.sleep(0.2)
            time.sleep(2)
            base_url = str(client.base_url)
            idle_start, started = cpu_seconds(api.pid), time.monotonic()
            time.sleep(args.window)
            figures: dict = {
                "no_viewer_cores": round((cpu_seconds(api.pid) - idle_start) / (time.monotonic() - started), 4)
            }
            newest = newest_line(client, execution_id)
            one = asyncio.run(measure(base_url, execution_id, newest, api.pid, 1, args.window))
            newest = newest_line(client, execution_id)
            many = asyncio.run(measure(base_url, execution_id, newest, api.pid, args.viewers, args.window))
            figures |= {
                "one_viewer": one,
                "many_viewers": many,
                "cores_per_extra_viewer": round((many["cores"] - one["cores"]) / (args.viewers - 1), 5),
            }
            print(json.dumps(figures, indent=2))
            client.post(f"/executions/{execution_id}/kill")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
