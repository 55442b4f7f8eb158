"""The connections API routes use, opened once per process."""

from __future__ import annotations

import functools

from engine.commands import Connections
from engine.config import load_settings
from engine.connection import connect
from engine.store.database import open_database


@functools.cache
def connections() -> Connections:
    settings = load_settings()
    if not settings.redis_url:
        raise RuntimeError("the API needs LANNER_REDIS_URL (lanner server and lanner api set it)")
    return Connections(open_database(settings.database_url), connect(settings.redis_url))
