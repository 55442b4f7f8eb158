"""Studio pages follow executions through the studio process's shared followers (``engine.runtime.live``): one
reader per execution however many tabs show it, each tab woken at every change instead of polling."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from engine.config import load_settings
from engine.runtime.live import Update, followers
from studio import services

RECHECK_SECONDS = 2.0  # a quiet tab asks again this often whether its viewer may still see the execution


@contextlib.asynccontextmanager
async def watch(execution_id: str, after: int) -> AsyncIterator[AsyncIterator[Update]]:
    """The updates of ``execution_id`` after line ``after``; leaving the block lets the follower go."""
    hub = followers(services.database(), load_settings().redis_url)
    async with contextlib.aclosing(hub.watch(execution_id, after=after, idle=RECHECK_SECONDS)) as updates:
        yield updates
