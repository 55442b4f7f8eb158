"""The purge, beside an executor's loop: ended executions past their retention (with their logs and files), expired
KV entries, and the run-history summaries of closed days. One executor of the cluster purges per interval (a Redis
key it sets first), a few batches at a time, in a thread of its own: a retention backlog, or a month of days to
summarize on a new install (100-450 ms), never holds up advancing executions."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import redis
from sqlalchemy import Engine

from engine.runtime import events
from engine.services import kv, retention
from engine.store import task_summaries
from engine.store.tables import utcnow

log = logging.getLogger("lanner.executor")
PURGE_KEY = "lanner:purge"  # held by the executor purging now; it expires after LANNER_PURGE_INTERVAL
PURGE_BATCHES_PER_SWEEP = 4  # batches of retention.BATCH_SIZE per sweep: the rest waits for the next sweep


class Purge:
    def __init__(self, db: Engine, r: redis.Redis, name: str, retention: dt.timedelta | None, interval: float) -> None:
        """``retention``: LANNER_RETENTION; ``interval``: LANNER_PURGE_INTERVAL (seconds); ``name``: the
        executor's, which holds the purge key while it purges."""
        self.db, self.r, self.name = db, r, name
        self.retention, self.interval = retention, interval
        self._release = r.register_script(events.RELEASE_IF_HELD)
        self._next = 0.0
        self._running: threading.Thread | None = None

    def start_if_due(self) -> None:
        """Start a purge beside the loop once the interval passed, unless the last one still runs."""
        if time.monotonic() < self._next or (self._running and self._running.is_alive()):
            return
        self._next = time.monotonic() + self.interval
        self._running = threading.Thread(target=self._beside_the_loop, name="lanner-purge", daemon=True)
        self._running.start()

    def join(self, timeout: float) -> None:
        """Wait for the purge running, if any (its batches commit one by one: one cut short by the process' end
        is done again by the next purge)."""
        if self._running is not None:
            self._running.join(timeout)

    def _beside_the_loop(self) -> None:
        try:
            self.run_once()
        except Exception:  # tried again at the next interval
            log.exception("purging expired executions failed")

    def run_once(self) -> None:
        """One purge, if no other executor of the cluster purged within the interval. When batches are left, the
        next sweep continues."""
        if not self.r.set(PURGE_KEY, self.name, nx=True, px=max(int(self.interval * 1000), 1)):
            return
        report, more = retention.purge_expired(self.db, self.retention, max_batches=PURGE_BATCHES_PER_SWEEP)
        if report.executions:
            log.info(
                "purged %d expired execution(s), %d log line(s), %d file(s)",
                report.executions, report.logs, report.files,
            )  # fmt: skip
        if dropped := kv.drop_expired(self.db):  # expired KV entries already read as absent: free their rows
            log.info("dropped %d expired KV entr%s", dropped, "y" if dropped == 1 else "ies")
        if summarized := task_summaries.summarize_closed_days(self.db, utcnow()):  # run-history charts read them
            log.info("summarized the task runs of %d closed day(s)", len(summarized))
        if more:
            self._next = 0.0
            self._release(keys=[PURGE_KEY], args=[self.name])
