"""Lists followed live: one listener per process tells every open list (executions, triggers) that something changed.

The executor announces each execution it changes on one channel (``events.announce_change``). A process keeps one
subscription to it while some list is open, and counts what it hears in a version number; each open list waits
for the version to move (or for a quiet ``idle`` period, to check its viewer's access again) and only then reads
its rows. Twenty open tabs cost one subscription and no reads while nothing changes, instead of twenty pollers.

Without Redis nothing can be heard: the version then moves every ``NO_REDIS_POLL`` seconds, as the lists polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator

import redis
import redis.asyncio as aioredis

from engine.runtime import events

NO_REDIS_POLL = 1.0  # the period when announcements cannot be heard at all
MIN_INTERVAL = 0.1  # announcements closer together than this move the version once


class Changes:
    """The change feed of one process (one event loop): ``watch`` it from every open list."""

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url = redis_url
        self.version = 0
        self.viewers = 0
        self.subscriptions = 0  # subscriptions made, for tests and the benchmark
        self._changed = asyncio.Event()  # replaced at each change: viewers wait on the one they last saw
        self._task: asyncio.Task | None = None

    def _bump(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def watch(self, *, every: float, idle: float) -> AsyncIterator[int]:
        """The version, each time it moved (at most once per ``every`` seconds), or after ``idle`` quiet seconds
        (unchanged then). Close the iterator (``contextlib.aclosing``) when the list closes."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="list changes")
        self.viewers += 1
        try:
            seen, last = self.version, 0.0
            while True:
                changed = self._changed  # taken before looking: a change while we yield is not missed
                if self.version == seen:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), idle)
                spacing = last + every - time.monotonic()
                if spacing > 0:
                    await asyncio.sleep(spacing)  # a busy system moves the version often: lists read at most this often
                seen, last = self.version, time.monotonic()
                yield seen
        finally:
            self.viewers -= 1
            if self.viewers == 0 and self._task is not None:
                self._task.cancel()
                self._task = None

    async def _listen(self) -> None:
        client = aioredis.Redis.from_url(self.redis_url) if self.redis_url else None
        pubsub = None
        try:
            while True:
                if pubsub is None and client is not None:
                    pubsub = await self._subscribe(client)
                if pubsub is None:
                    await asyncio.sleep(NO_REDIS_POLL)
                    self._bump()
                    continue
                try:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=60)
                except (redis.RedisError, OSError):
                    pubsub = None  # subscribed again on the next turn; what was missed is read as a change
                    self._bump()
                    continue
                if message is not None:
                    await asyncio.sleep(MIN_INTERVAL)
                    while await pubsub.get_message(ignore_subscribe_messages=True, timeout=0) is not None:
                        pass
                    self._bump()
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def _subscribe(self, client: aioredis.Redis) -> aioredis.client.PubSub | None:
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(events.CHANGES_CHANNEL)
        except (redis.RedisError, OSError):
            return None
        self.subscriptions += 1
        return pubsub


_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Changes] = weakref.WeakKeyDictionary()


def changes(redis_url: str | None) -> Changes:
    """The change feed of the running event loop (one per process in a server): every open list shares it."""
    loop = asyncio.get_running_loop()
    feed = _per_loop.get(loop)
    if feed is None:
        feed = _per_loop[loop] = Changes(redis_url)
    return feed
