"""The heartbeats and log shipping of the task runs a worker process is running: two threads per process, not two
per attempt.

While a run is kept (``PULSE.keep``), its heartbeat key is set every LANNER_HEARTBEAT_INTERVAL (the executor's
sweep takes a RUNNING run started longer than LANNER_HEARTBEAT_TIMEOUT ago without one for lost) and its buffered
log lines are written every ``SHIP_SECONDS``. Beating and shipping have a thread each, so a slow database write
never holds up a heartbeat.
Starting two threads per attempt and joining them at its end cost about a millisecond of a task's few.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import redis

from engine.config import load_settings
from engine.runtime import events

SHIP_SECONDS = 0.2  # how often buffered log lines are written; also how often the beat thread looks


@dataclass
class _Kept:
    r: redis.Redis
    key: str
    flush: Callable[[], None]
    next_beat: float = 0.0
    live: bool = True
    beaten: bool = False  # its key was set: dropped at the end (most tasks end before their first beat)
    beating: threading.Lock = field(default_factory=threading.Lock)  # a beat never lands after the release


class Pulse:
    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @contextlib.contextmanager
    def keep(self, r: redis.Redis, run_id: str, flush: Callable[[], None]) -> Iterator[None]:
        """Beat for ``run_id`` until the block ends, and ship its log lines meanwhile (``flush``); then drop its
        heartbeat key. The caller flushes what is left.

        The first beat comes from the beat thread, within ``SHIP_SECONDS``: the executor looks for heartbeats only
        of runs started longer than LANNER_HEARTBEAT_TIMEOUT ago, so a task that ends sooner costs no Redis
        round trip here at all."""
        kept = _Kept(r, events.heartbeat_key(run_id), flush)
        with self._lock:
            self._kept[run_id] = kept
            self._start()
        try:
            yield
        finally:
            with self._lock:
                self._kept.pop(run_id, None)
            with kept.beating:
                kept.live = False
            if kept.beaten:
                with contextlib.suppress(redis.RedisError):
                    r.delete(kept.key)

    def _start(self) -> None:
        """The two threads, once per process (after a fork too: a child has none of its parent's threads)."""
        if self._threads and all(thread.is_alive() for thread in self._threads):
            return
        self._threads = [
            threading.Thread(target=self._beats, name="lanner-heartbeats", daemon=True),
            threading.Thread(target=self._ships, name="lanner-log-shipper", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _each(self) -> list[_Kept]:
        with self._lock:
            return list(self._kept.values())

    @staticmethod
    def _beat(kept: _Kept) -> None:
        with kept.beating, contextlib.suppress(redis.RedisError):  # a blip: the next beat retries
            if kept.live:
                kept.beaten = True  # before the SET: a beat that fails half-way may still have set the key
                kept.r.set(kept.key, b"1", px=int(load_settings().heartbeat_timeout * 1000))
                kept.next_beat = time.monotonic() + load_settings().heartbeat_interval

    def _beats(self) -> None:
        while True:
            time.sleep(SHIP_SECONDS)
            for kept in self._each():
                if time.monotonic() >= kept.next_beat:
                    self._beat(kept)

    def _ships(self) -> None:
        while True:
            time.sleep(SHIP_SECONDS)
            for kept in self._each():
                with contextlib.suppress(Exception):  # lines of a failed write stay buffered for the next try
                    kept.flush()


PULSE = Pulse()
