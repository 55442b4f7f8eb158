"""Redis commands sent now and answered later: their round trip overlaps the work done meanwhile.

A round trip to Redis is a wait of 0.3-0.8 ms on a busy machine (two context switches). Where the answers are
not needed at once (whether an executor got its locks, which it needs only before committing an advance; RQ's
bookkeeping of a job starting, whose answer says only that it was written), the commands go out at once and the
answers are read when they are needed, by which time they have long arrived: the wait is spent on database work.

The connection is the client's pool's, held until the answers are read (or ``discard``). Answers are Redis' own
(``b"OK"``, ``None``, integers), without redis-py's response callbacks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import redis

from engine.metrics.timing import observe_redis


class SentAhead:
    """``commands`` (tuples of a command's words) sent; ``answers()`` reads their answers, in order.

    ``transaction``: sent inside MULTI/EXEC, so applied all together or not at all (as a redis-py pipeline's
    default). A failure to send raises here, a failure to read from ``answers`` (the connection is then closed,
    never given back to the pool with answers left unread on it); so does an error answer, once all are read."""

    def __init__(self, r: redis.Redis, commands: Sequence[tuple[Any, ...]], *, transaction: bool = False) -> None:
        self._pool = r.connection_pool
        self._transaction = transaction
        self._count = len(commands)
        self._answers: list[Any] | None = None
        self._connection = self._pool.get_connection()
        started = time.perf_counter()
        words = [("MULTI",), *commands, ("EXEC",)] if transaction else list(commands)
        try:
            self._connection.send_packed_command(self._connection.pack_commands(words))
        except BaseException:
            self.discard()
            raise
        self._sending = time.perf_counter() - started

    def answers(self) -> list[Any]:
        """The commands' answers (a command's error is raised as ``redis.ResponseError``), waited for if needed."""
        if self._answers is not None:
            return self._answers
        if self._connection is None:
            raise redis.ConnectionError("the answers of commands sent ahead were discarded")
        started = time.perf_counter()
        try:
            if self._transaction:
                for _ in range(self._count + 1):  # MULTI's OK, then QUEUED for each command
                    self._connection.read_response()
                answers = list(self._connection.read_response() or [])
            else:
                answers = [self._connection.read_response() for _ in range(self._count)]
        except BaseException:
            self.discard()
            raise
        self._pool.release(self._connection)
        self._connection = None
        observe_redis("PIPELINE", self._sending + time.perf_counter() - started)
        for answer in answers:
            if isinstance(answer, redis.ResponseError):
                raise answer
        self._answers = answers
        return answers

    def discard(self) -> None:
        """Give the answers up (the commands, once sent, are applied all the same); the connection is closed."""
        if self._connection is not None:
            self._connection.disconnect()
            self._pool.release(self._connection)
            self._connection = None
