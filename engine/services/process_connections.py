"""The database and Redis connections of this process, opened once on first use and shared by all it serves.

The studio's services read through these (``studio.services.database``/``connections`` are these functions), so
a studio process holds one connection pool however many pages are open. Tests point the process at another
database with ``database.cache_clear()`` after changing the settings.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from engine.config import load_settings
from engine.store.database import open_database

if TYPE_CHECKING:
    from engine.services.commands import Connections


@functools.cache
def database() -> Engine:
    """The configured database (``LANNER_DATABASE_URL``), migrated on first use."""
    return open_database(load_settings().database_url)


@functools.cache
def connections() -> Connections:
    """The database and Redis, for the services that change executions (they wake the executors)."""
    # Loaded on first use: a process that only reads never imports the Redis client and the commands.
    from engine.runtime.connection import connect
    from engine.services.commands import Connections

    settings = load_settings()
    if not settings.redis_url:
        raise RuntimeError("running, killing and restarting need LANNER_REDIS_URL (lanner server sets it)")
    return Connections(database(), connect(settings.redis_url))
