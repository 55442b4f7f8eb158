"""The connections of this process: Lanner's database (migrated on first use) and, for the changes that wake the
executors, Redis.

An entry point that serves many callers (the studio) opens them once with ``database()``/``connections()`` and
shares them with everything it serves, so a studio process holds one connection pool however many pages are open;
tests point the process at another database with ``database.cache_clear()`` after changing the settings. A command
that runs once (the CLI) or an app that owns its lifetime (the API) builds its ``Connections`` itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from engine.config import load_settings
from engine.store.database import open_database, session_scope

if TYPE_CHECKING:
    import redis

__all__ = ["Connections", "connections", "database", "open_database", "session_scope"]


@dataclass
class Connections:
    """The database and Redis connections every command needs."""

    db: Engine
    redis: redis.Redis


@functools.cache
def database() -> Engine:
    """The configured database (``LANNER_DATABASE_URL``), migrated on first use."""
    return open_database(load_settings().database_url)


@functools.cache
def connections() -> Connections:
    """The database and Redis, for the services that change executions (they wake the executors)."""
    # Loaded on first use: a process that only reads never imports the Redis client.
    from engine.runtime.connection import connect

    settings = load_settings()
    if not settings.redis_url:
        raise RuntimeError("running, killing and restarting need LANNER_REDIS_URL (lanner server sets it)")
    return Connections(database(), connect(settings.redis_url))


def redis_if_configured() -> redis.Redis | None:
    """The process' Redis when one is configured, else None (a reader that can do without it: a trigger's health)."""
    return connections().redis if load_settings().redis_url else None
