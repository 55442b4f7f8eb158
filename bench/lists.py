"""What an open executions list (or triggers page) costs its process per tab, polling vs the shared change feed.

Each simulated tab reads one page of the executions list from the store (``engine.store.search``, 25 rows of a
history of ``--history`` executions, on SQLite in a temporary folder) as the studio pages do:

- ``poll`` (the pages before issue 13): every tab sleeps ``--every`` seconds and reads, whatever happened;
- ``feed`` (engine/runtime/changes.py): every tab reads when the process heard that an execution changed, at
  most every ``--every`` seconds, or after ``--idle`` quiet seconds (to ask who is watching).

Two scenarios: ``quiet`` (nothing changes) and ``busy`` (an execution changes every 0.2 s, announced on Redis as
the executor does). For 1 and ``--tabs`` tabs the bench measures this process's CPU time over ``--window``
seconds and the store reads; ``cores_per_extra_tab`` is (cores with N tabs - cores with 1) / (N - 1).

Figures, not a test: nothing here asserts a threshold.

Run: .venv/bin/python bench/lists.py [--tabs 20] [--window 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis.asyncio as aioredis  # noqa: E402

from engine.runtime import events  # noqa: E402
from engine.runtime.changes import Changes  # noqa: E402
from engine.runtime.connection import embedded_redis  # noqa: E402
from engine.store.database import open_database, session_scope  # noqa: E402
from engine.store.search import ExecutionFilter, search_executions  # noqa: E402
from engine.store.tables import Execution  # noqa: E402


def seed(db, count: int) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with session_scope(db) as session:
        for i in range(count):
            created = start + dt.timedelta(seconds=i)
            session.add(
                Execution(
                    id=str(uuid.uuid4()),
                    namespace="bench.lists",
                    flow_id=f"f{i % 20}",
                    flow_revision=1,
                    state="SUCCESS" if i % 10 else "RUNNING",
                    created_at=created,
                    updated_at=created,
                )
            )


async def measure(db, redis_url: str, mode: str, scenario: str, tabs: int, args) -> dict:
    reads = 0

    def read() -> None:
        nonlocal reads
        reads += 1
        with session_scope(db) as session:
            search_executions(session, ExecutionFilter(namespace="bench.lists"), size=25)

    async def poll_tab() -> None:
        while True:
            await asyncio.sleep(args.every)
            read()  # the page's handler reads inside the event loop, as Reflex runs it

    async def feed_tab(feed: Changes) -> None:
        async with contextlib.aclosing(feed.watch(every=args.every, idle=args.idle)) as versions:
            async for _ in versions:
                read()

    async def announcer() -> None:
        client = aioredis.Redis.from_url(redis_url)
        try:
            while True:
                await client.publish(events.CHANGES_CHANNEL, "e")
                await asyncio.sleep(0.2)
        finally:
            await client.aclose()

    feed = Changes(redis_url)
    tasks = [asyncio.create_task(poll_tab() if mode == "poll" else feed_tab(feed)) for _ in range(tabs)]
    if scenario == "busy":
        tasks.append(asyncio.create_task(announcer()))
    await asyncio.sleep(1.5)  # settle: subscriptions made, first reads done
    reads, cpu, wall = 0, time.process_time(), time.monotonic()
    await asyncio.sleep(args.window)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"cores": round(cpu / wall, 4), "reads_per_s": round(reads / wall, 2), "subscriptions": feed.subscriptions}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tabs", type=int, default=20)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument("--every", type=float, default=1.0, help="the executions list polled once a second")
    parser.add_argument("--idle", type=float, default=2.0, help="studio/live.py RECHECK_SECONDS")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lanner-bench-lists-"))
    try:
        db = open_database(f"sqlite:///{home / 'lanner.db'}")
        seed(db, args.history)
        results: dict = {"tabs": args.tabs, "window_s": args.window, "history": args.history}
        with embedded_redis(home) as redis_url:
            for scenario in ("quiet", "busy"):
                for mode in ("poll", "feed"):
                    one = asyncio.run(measure(db, redis_url, mode, scenario, 1, args))
                    many = asyncio.run(measure(db, redis_url, mode, scenario, args.tabs, args))
                    extra = (many["cores"] - one["cores"]) / (args.tabs - 1)
                    results[f"{scenario}_{mode}"] = {
                        "one_tab": one,
                        f"{args.tabs}_tabs": many,
                        "cores_per_extra_tab": round(extra, 5),
                    }
                    print(json.dumps({f"{scenario}_{mode}": results[f"{scenario}_{mode}"]}), file=sys.stderr)
        print(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
