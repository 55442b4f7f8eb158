"""One follower per execution, fanned out to every viewer (engine/runtime/live.py), on a real executor, workers,
database and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import time

from engine.runtime.live import MIN_INTERVAL, Followers, Update

TALK = (
    "id: talk\nnamespace: test.live\ntasks:\n  - id: talk\n    type: shell\n"
    "    commands: ['for i in $(seq 1 {count}); do echo line $i; sleep {pause}; done']\n"
)


async def _collect(hub: Followers, execution_id: str, after: int = 0, keep: int | None = None) -> list[Update]:
    updates: list[Update] = []
    async with contextlib.aclosing(hub.watch(execution_id, after=after, idle=0.5)) as stream:
        async for update in stream:
            updates.append(update)
            if keep is not None and sum(len(u.lines) for u in updates) >= keep:
                break
    return updates


def _messages(updates: list[Update]) -> list[str]:
    return [line.message for update in updates for line in update.lines]


def test_many_viewers_share_one_follower_and_each_gets_every_line_in_order(cluster):
    execution_id = cluster.run(TALK.format(count=60, pause=0.03))
    hub = Followers(cluster.db, cluster.redis_url)

    async def main() -> list[list[Update]]:
        viewers = [asyncio.create_task(_collect(hub, execution_id)) for _ in range(8)]
        await asyncio.sleep(0.5)
        assert hub.following() == [execution_id] and hub.started == 1
        return await asyncio.gather(*viewers)

    began = time.monotonic()
    every = asyncio.run(main())
    elapsed = time.monotonic() - began
    for updates in every:
        assert _messages(updates) == [f"line {i}" for i in range(1, 61)]
        assert updates[-1].ended and updates[-1].state == "SUCCESS"
        assert not any(u.ended for u in updates[:-1])
    assert hub.started == 1 and hub.following() == []
    # one reader for eight viewers: at most one read per announcement burst (MIN_INTERVAL), not one per viewer
    assert hub.reads <= elapsed / MIN_INTERVAL + 5, (hub.reads, elapsed)


def test_a_viewer_resumes_from_a_position_and_the_follower_stops_with_its_last_viewer(cluster):
    execution_id = cluster.run(TALK.format(count=40, pause=0.05))
    hub = Followers(cluster.db, cluster.redis_url)

    async def main() -> tuple[list[Update], list[Update]]:
        first = await _collect(hub, execution_id, keep=10)
        await asyncio.sleep(0)  # the cancelled follower finishes
        assert hub.following() == []  # the last viewer left mid-execution: no one reads for nobody
        position = [line for u in first for line in u.lines][9].id
        return first, await _collect(hub, execution_id, after=position)

    first, rest = asyncio.run(main())
    assert _messages(first)[:10] + _messages(rest) == [f"line {i}" for i in range(1, 41)]
    assert hub.started == 2 and rest[-1].ended


def test_a_viewer_left_behind_pages_through_the_store_a_page_at_a_time(cluster):
    count = 1300  # pages of 500 lines, while the follower keeps only the last 20 to 40
    execution_id = cluster.run(TALK.format(count=count, pause=0))
    hub = Followers(cluster.db, cluster.redis_url, window=20)

    async def slow_viewer() -> list[Update]:
        updates: list[Update] = []
        async with contextlib.aclosing(hub.watch(execution_id, idle=0.5)) as stream:
            async for update in stream:
                updates.append(update)
                await asyncio.sleep(0.3)  # a slow connection: the follower's window moves on without it
        return updates

    updates = asyncio.run(slow_viewer())
    assert _messages(updates) == [f"line {i}" for i in range(1, count + 1)]
    assert max(len(u.lines) for u in updates) <= 500 and updates[-1].ended
