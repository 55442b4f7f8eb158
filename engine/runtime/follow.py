"""Following an execution from synchronous code (the command line): its log lines from a position, and its state,
until it ends, through the same follower as the API's stream and the studio (``engine.runtime.live``), run on an
event loop of its own."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import redis
import redis.asyncio as aioredis
from sqlalchemy import Engine

from engine.core.states import State
from engine.runtime.live import Followers
from engine.store.tables import LogLine


def _async_twin(r: redis.Redis) -> aioredis.Redis:
    """An asyncio client to the server ``r`` talks to, with the same connection settings."""
    pool = r.connection_pool
    connection_class = getattr(aioredis.connection, pool.connection_class.__name__)
    return aioredis.Redis(
        connection_pool=aioredis.ConnectionPool(connection_class=connection_class, **pool.connection_kwargs)
    )


def follow(
    db: Engine, r: redis.Redis, execution_id: str, *, after: int = 0, timeout: float | None = None, poll: float = 0.5
) -> Iterator[LogLine | State]:
    """Yield log lines (oldest first, each once) and every new state, until the execution has ended
    and its last line was yielded. Lines are read by id, so a follower resuming ``after`` a line it
    saw misses nothing and repeats nothing. ``poll``: how often the deadline is checked while nothing happens."""
    deadline = None if timeout is None else time.monotonic() + timeout
    loop = asyncio.new_event_loop()
    client = _async_twin(r)
    updates = Followers(db, None, client=client).watch(execution_id, after=after, idle=poll)
    last_state: State | None = None
    try:
        while True:
            try:
                update = loop.run_until_complete(updates.__anext__())
            except StopAsyncIteration:
                return
            yield from update.lines
            state = State(update.state)
            if state != last_state:
                last_state = state
                yield state
            if update.ended:
                return
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_id} did not end in time")
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(updates.aclose())
            pending = asyncio.all_tasks(loop)  # the follower, cancelled with its last viewer
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        with contextlib.suppress(Exception):
            loop.run_until_complete(client.aclose())
        loop.close()
