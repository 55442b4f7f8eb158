"""Studio pages follow executions through the studio process's shared followers (``engine.runtime.live``): one
reader per execution however many tabs show it, each tab woken at every change instead of polling. Lists
(executions, triggers) follow the process's one change feed (``engine.runtime.changes``) the same way."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from engine.config import load_settings
from engine.runtime.changes import changes
from engine.runtime.live import Update, followers
from studio import services

RECHECK_SECONDS = 2.0  # a quiet tab asks again this often whether its viewer may still see the execution


@contextlib.asynccontextmanager
async def watch(execution_id: str, after: int) -> AsyncIterator[AsyncIterator[Update]]:
    """The updates of ``execution_id`` after line ``after``; leaving the block lets the follower go."""
    hub = followers(services.database(), load_settings().redis_url)
    async with contextlib.aclosing(hub.watch(execution_id, after=after, idle=RECHECK_SECONDS)) as updates:
        yield updates


@contextlib.asynccontextmanager
async def list_changes(every: float) -> AsyncIterator[AsyncIterator[int]]:
    """A version that moves when some execution changed (at most once per ``every`` seconds), or every
    ``RECHECK_SECONDS`` of quiet: an open list reads its rows again, for its viewer, only then."""
    feed = changes(load_settings().redis_url)
    async with contextlib.aclosing(feed.watch(every=every, idle=RECHECK_SECONDS)) as versions:
        yield versions
