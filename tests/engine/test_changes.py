"""One change feed per process for the open lists (engine/runtime/changes.py): one Redis subscription whatever the
number of open tabs, and a tab reads its rows only when something changed (or after a quiet while)."""

from __future__ import annotations

import asyncio
import contextlib

import redis

from engine.runtime import changes as changes_module
from engine.runtime import events
from engine.runtime.changes import Changes


async def _open_list(feed: Changes, reads: list[int], *, every: float = 0.05, idle: float = 30.0) -> None:
    """A tab: reads its rows (counted) each time the feed says so."""
    async with contextlib.aclosing(feed.watch(every=every, idle=idle)) as versions:
        async for _ in versions:
            reads.append(1)


async def _until(condition, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_many_open_lists_share_one_subscription_and_read_only_when_an_execution_changed(redis_server):
    publisher = redis.Redis.from_url(redis_server)

    async def main() -> tuple[Changes, list[list[int]], list[int]]:
        feed = Changes(redis_server)
        tabs: list[list[int]] = [[] for _ in range(10)]
        tasks = [asyncio.create_task(_open_list(feed, reads)) for reads in tabs]
        await _until(lambda: feed.subscriptions == 1)
        await asyncio.sleep(1.0)  # quiet: no tab reads anything (a poller per tab would have read 10 times a second)
        quiet = [len(reads) for reads in tabs]
        for _ in range(3):
            publisher.publish(events.CHANGES_CHANNEL, "e1")
            await asyncio.sleep(0.4)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return feed, tabs, quiet

    feed, tabs, quiet = asyncio.run(main())
    assert quiet == [0] * 10
    assert [len(reads) for reads in tabs] == [3] * 10  # each change read once by each tab, heard once by the process
    assert feed.subscriptions == 1 and feed.viewers == 0


def test_changes_close_together_are_read_once_and_a_quiet_list_still_rereads_after_idle(redis_server):
    publisher = redis.Redis.from_url(redis_server)

    async def main() -> tuple[list[int], list[int]]:
        feed = Changes(redis_server)
        busy: list[int] = []
        quiet: list[int] = []
        tasks = [
            asyncio.create_task(_open_list(feed, busy, every=10.0)),
            asyncio.create_task(_open_list(feed, quiet, every=0.05, idle=0.3)),
        ]
        await _until(lambda: feed.subscriptions == 1)
        publisher.publish(events.CHANGES_CHANNEL, "e1")
        await _until(lambda: busy == [1])
        for _ in range(20):  # a busy system: the list reads at most once per ``every``
            publisher.publish(events.CHANGES_CHANNEL, "e2")
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return busy, quiet

    busy, quiet = asyncio.run(main())
    assert busy == [1]
    assert len(quiet) >= 3  # the heard changes, then the idle re-reads (to ask who is watching)


def test_without_redis_the_lists_read_as_often_as_they_polled(monkeypatch):
    monkeypatch.setattr(changes_module, "NO_REDIS_POLL", 0.1)

    async def main() -> list[int]:
        feed = Changes(None)
        reads: list[int] = []
        task = asyncio.create_task(_open_list(feed, reads))
        await asyncio.sleep(0.55)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return reads

    assert 3 <= len(asyncio.run(main())) <= 6


def test_the_executor_announces_each_execution_it_changes(cluster):
    async def main() -> int:
        feed = Changes(cluster.redis_url)
        reads: list[int] = []
        task = asyncio.create_task(_open_list(feed, reads))
        await _until(lambda: feed.subscriptions == 1)
        execution_id = await asyncio.to_thread(
            cluster.run, "id: a\nnamespace: test.lists\ntasks:\n  - {id: a, type: return, value: 1}\n"
        )
        await asyncio.to_thread(cluster.wait, execution_id)
        await _until(lambda: len(reads) >= 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return len(reads)

    assert asyncio.run(main()) >= 1
