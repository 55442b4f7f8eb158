"""Latency of the database and Redis calls every process makes.

Database: SQLAlchemy's cursor events, listened to once for every engine of the process, by kind of statement.
Redis: ``engine.runtime.connection.connect`` gives a ``TimedRedis`` (a ``redis.Redis`` measuring each command,
and each pipeline as one call). Blocking reads (XREADGROUP with BLOCK, a worker's BLMOVE) are measured too: their
time is mostly waiting, which is why the command is a label.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from sqlalchemy import event
from sqlalchemy.engine import Engine

from engine.metrics import record
from engine.metrics import registry as m
from engine.metrics.labels import OTHER, BoundedValues

_OPERATIONS = ("SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "WITH")
_database_children: dict[str, Any] = {}
_redis_children: dict[object, Any] = {}
_redis_names = BoundedValues(100)  # distinct Redis command names; RQ and the engine use a few dozen
_listening = threading.Lock()
_installed = False


def _before(conn, cursor, statement, parameters, context, executemany) -> None:
    context._lanner_started = time.perf_counter()  # the execution context lives for this one statement


def _after(conn, cursor, statement, parameters, context, executemany) -> None:
    started = getattr(context, "_lanner_started", None)
    if started is None:  # began before the listeners were installed
        return
    first = statement[:16].lstrip().split(None, 1)  # the first word, without copying a long statement
    operation = first[0].upper() if first else OTHER
    child = _database_children.get(operation)
    if child is None:
        operation = operation if operation in _OPERATIONS else OTHER
        child = _database_children[operation] = m.DATABASE_DURATION.labels(operation)
    child.observe(time.perf_counter() - started)


def time_database() -> None:
    """Time every statement of every SQLAlchemy engine of this process (once; nothing with LANNER_METRICS=0)."""
    global _installed
    with _listening:
        if _installed or not record.ENABLED:
            return
        event.listen(Engine, "before_cursor_execute", _before)
        event.listen(Engine, "after_cursor_execute", _after)
        _installed = True


def _redis_child(command: object) -> Any:
    child = _redis_children.get(command)  # type: ignore[arg-type]
    if child is None:
        name = command.decode() if isinstance(command, bytes) else str(command)
        name = name.split(" ", 1)[0].upper()
        child = _redis_children[command] = m.REDIS_DURATION.labels(name if _redis_names.admit(name) else OTHER)  # type: ignore[index]
    return child


def observe_redis(command: str, seconds: float) -> None:
    """A Redis call timed by its caller (commands sent ahead, engine/runtime/sent_ahead.py)."""
    if record.ENABLED:
        _redis_child(command).observe(seconds)


class TimedPipeline(redis.client.Pipeline):
    def execute(self, raise_on_error: bool = True) -> list[Any]:
        started = time.perf_counter()
        try:
            return super().execute(raise_on_error)
        finally:
            observe_redis("PIPELINE", time.perf_counter() - started)


class TimedRedis(redis.Redis):
    """A Redis client whose commands are timed into ``lanner_redis_command_duration_seconds``."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        started = time.perf_counter()
        try:
            return super().execute_command(*args, **options)
        finally:
            _redis_child(args[0] if args else OTHER).observe(time.perf_counter() - started)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> TimedPipeline:
        return TimedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


def redis_class() -> type[redis.Redis]:
    """The client class processes connect with: timed, unless LANNER_METRICS=0."""
    return TimedRedis if record.ENABLED else redis.Redis


def forget_children() -> None:
    """Drop the label children bound so far (the metrics were made again: ``registry.use_folder``)."""
    _database_children.clear()
    _redis_children.clear()
