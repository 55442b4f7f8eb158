"""What crashes leave behind that no event will report, found by an executor's sweeps: attempts whose worker
vanished, queued runs whose job no worker holds, executions nobody advanced for a while. Each sweep is named after
the failure it handles; the executor calls them now and then (engine/runtime/executor.py)."""

from __future__ import annotations

import datetime as dt
import logging
import time

import redis
from sqlalchemy import Engine

from engine.runtime import events
from engine.runtime.queue import requeue_runs, waiting_in_queue
from engine.store import executions as store
from engine.store.database import session_scope
from engine.store.tables import utcnow

log = logging.getLogger("lanner.executor")


class LostWork:
    def __init__(self, db: Engine, r: redis.Redis, *, heartbeat_timeout: float, queued_recovery_after: float) -> None:
        self.db, self.r = db, r
        self.heartbeat_timeout, self.queued_recovery_after = heartbeat_timeout, queued_recovery_after
        self._suspects: dict[str, float] = {}  # run id -> when its heartbeat was first seen missing
        self._unqueued: dict[tuple[str, int], float] = {}  # (run id, attempt) -> when first seen not waiting

    def fail_lost_attempts(self) -> None:
        """Runs whose worker stopped sending heartbeats (killed, crashed, cut off) fail their attempt."""
        now = time.monotonic()
        started_before = utcnow() - dt.timedelta(seconds=self.heartbeat_timeout)
        with session_scope(self.db) as session:
            running = store.running_worker_runs(session, started_before)
        if not running:
            self._suspects.clear()
            return
        with self.r.pipeline(transaction=False) as pipe:
            for run_id, _, _ in running:
                pipe.exists(events.heartbeat_key(run_id))
            alive = pipe.execute()
        still_missing: dict[str, float] = {}
        for (run_id, execution_id, attempt), beating in zip(running, alive, strict=True):
            if beating:
                continue
            first_missed = self._suspects.get(run_id, now)
            still_missing[run_id] = first_missed
            if now - first_missed < self.heartbeat_timeout:
                continue
            reason = f"the worker stopped responding (no heartbeat for {self.heartbeat_timeout:g}s)"
            with session_scope(self.db) as session:
                failed = store.fail_lost_attempt(session, run_id, attempt, reason)
            if failed:
                log.warning("task run %s of %s: %s", run_id, execution_id, reason)
                events.publish_event(self.r, execution_id)
                still_missing.pop(run_id)
        self._suspects = still_missing

    def requeue_lost_jobs(self) -> None:
        """Queued runs whose job is not waiting in the queue: a worker took it and died before claiming the
        run (RQ still holds the job as started, in its intermediate list, or as failed), or the job is gone
        (Redis restarted empty, or an executor died before enqueueing).

        A live worker claims a run a moment after taking its job, so a run seen unclaimed and not waiting
        for ``queued_recovery_after`` seconds gets a new job. The claim (engine/store/executions.py) is the
        only guard against running an attempt twice: if the first worker was only slow, whichever job claims
        the attempt second does nothing.
        """
        with session_scope(self.db) as session:
            queued = store.queued_worker_runs(session, limit=5000)
        runs = [(run_id, attempts + 1, group) for run_id, attempts, group in queued]
        now = time.monotonic()
        unqueued = {
            run: self._unqueued.get(run, now)
            for run, waiting in zip(runs, waiting_in_queue(self.r, runs), strict=True)
            if not waiting
        }
        lost = [run for run, first_seen in unqueued.items() if now - first_seen >= self.queued_recovery_after]
        if lost:
            log.warning("re-enqueueing %d queued task run(s) whose jobs no worker holds any more", len(lost))
            requeue_runs(self.r, lost)
            for run in lost:
                unqueued.pop(run)
        self._unqueued = unqueued

    def revisit_stale_executions(self, older_than: dt.datetime) -> None:
        """Executions not terminal and untouched since ``older_than`` are advanced again (lost events or
        timers)."""
        with session_scope(self.db) as session:
            stale = store.stale_executions(session, older_than, limit=1000)
        if stale:
            with self.r.pipeline(transaction=False) as pipe:
                for execution_id in stale:
                    events.publish_event(pipe, execution_id)
                pipe.execute()
