"""How each realtime trigger is doing, kept in Redis by the listener that runs it and read by the Triggers page,
the API and ``lanner trigger list``: connected or not, where, last message, counts, last error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from engine.metrics import record

PREFIX = "lanner:trigger-health:"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Health:
    """The writer, for the one listener that holds the trigger."""

    def __init__(self, r: redis.Redis, key: str) -> None:
        self.r, self.key, self._labels = r, PREFIX + key, tuple(key.split("/", 2))

    def connected(self, where: str, consumer: str) -> None:
        self.r.hset(self.key, mapping={"connected": 1, "where": where, "consumer": consumer, "since": _now()})
        record.trigger_connected(*self._labels, True)

    def disconnected(self) -> None:
        self.r.hset(self.key, mapping={"connected": 0, "since": _now()})
        record.trigger_connected(*self._labels, False)

    def failed(self, error: str) -> None:
        self.r.hset(self.key, mapping={"connected": 0, "last_error": error[:1000], "last_error_at": _now()})
        record.trigger_connected(*self._labels, False)

    def received(self, count: int) -> None:
        with self.r.pipeline(transaction=False) as pipe:
            pipe.hincrby(self.key, "received", count)
            pipe.hset(self.key, "last_message_at", _now())
            pipe.execute()

    def started(self, execution_id: str) -> None:
        with self.r.pipeline(transaction=False) as pipe:
            pipe.hincrby(self.key, "started", 1)
            pipe.hset(self.key, "last_execution_id", execution_id)
            pipe.execute()

    def duplicate(self, count: int) -> None:
        self.r.hincrby(self.key, "duplicates", count)


@dataclass(frozen=True)
class TriggerHealth:
    connected: bool = False
    where: str | None = None
    consumer: str | None = None
    since: str | None = None
    last_message_at: str | None = None
    received: int = 0
    started: int = 0
    duplicates: int = 0
    last_execution_id: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None


def read_health(r: redis.Redis, keys: Iterable[str]) -> dict[str, TriggerHealth]:
    """The health of these triggers (``namespace/flow/trigger``); one never run by a listener has none."""
    keys = list(keys)
    with r.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(PREFIX + key)
        answers = pipe.execute()
    found = {}
    for key, fields in zip(keys, answers, strict=True):
        if not fields:
            continue
        text = {k.decode(): v.decode() for k, v in fields.items()}
        found[key] = TriggerHealth(
            connected=text.get("connected") == "1",
            where=text.get("where"),
            consumer=text.get("consumer"),
            since=text.get("since"),
            last_message_at=text.get("last_message_at"),
            received=int(text.get("received", 0)),
            started=int(text.get("started", 0)),
            duplicates=int(text.get("duplicates", 0)),
            last_execution_id=text.get("last_execution_id"),
            last_error=text.get("last_error"),
            last_error_at=text.get("last_error_at"),
        )
    return found
