"""The connections an entry point opens once and hands to every service call: Lanner's database (migrated on
first use) and, for the changes that wake the executors, Redis."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from sqlalchemy import Engine

from engine.store.database import open_database, session_scope

__all__ = ["Connections", "open_database", "session_scope"]


@dataclass
class Connections:
    """The database and Redis connections every command needs."""

    db: Engine
    redis: redis.Redis
