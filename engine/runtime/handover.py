"""A worker told to stop (SIGTERM: a rolling update, a scale-down) finishes its task run or hands it back.

RQ's warm shutdown already stops taking jobs and lets the running one end. Lanner bounds that wait with
LANNER_WORKER_GRACE_PERIOD (25 s by default, under Kubernetes' 30 s before SIGKILL): when it runs out, the task is
asked to stop as a kill would ask it (``RunContext.check``; scripts and shell commands are stopped), and the run
is handed back: QUEUED again at the same attempt, its attempt row removed (``store.hand_back_attempt``), and
its job sent again once RQ has let go of the old one. Another worker runs it from the start; no failure is
recorded and the retry policy counts nothing.

A task that does not stop when asked (a long computation inside the worker process) is handed back from the
timer's thread ``FORCE_AFTER`` seconds later, and the process exits at once so that the abandoned attempt can
never record an end over the new one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable

import redis
from sqlalchemy import Engine

from engine.runtime import cluster, events
from engine.runtime.queue import enqueue_runs, requeue_runs
from engine.store import executions as store
from engine.store.database import session_scope

log = logging.getLogger("lanner.worker")
FORCE_AFTER = 2.0  # seconds a task asked to stop has before the worker hands its run back without it
HANDED_BACK = "the worker was stopped before the task ended: the run is handed back to another worker"


class Handover:
    """This worker process' shutdown: the run it holds, the grace period's timer, what it handed back."""

    def __init__(self) -> None:
        self.expired = threading.Event()  # the grace period is over: the running task is asked to stop
        self.job_done = threading.Event()
        self.ending = threading.Lock()  # held while an attempt records its end, and by a forced hand-back
        self.held: tuple[str, int] | None = None  # (task run id, attempt) this process runs now
        self.handed_back: list[tuple[str, int]] = []  # jobs to send again once RQ has finished the old ones
        self.timer: threading.Timer | None = None
        self.database: Callable[[], Engine] | None = None  # the worker's (opened once per process)
        self.r: redis.Redis | None = None

    def hold(self, run_id: str, attempt: int) -> None:
        """The attempt this process just claimed (called by ``run_attempt``)."""
        self.held = (run_id, attempt)
        self.job_done.clear()

    def ended(self) -> None:
        """The attempt held recorded its end (under ``ending``): nothing is left to hand back."""
        self.held = None

    def stop_requested(self, database: Callable[[], Engine], r: redis.Redis, grace: float) -> None:
        """The worker was told to stop (from the signal handler): give the running attempt ``grace`` seconds."""
        cluster.mark_stopping()
        self.database, self.r = database, r
        if self.held is not None and self.timer is None:
            log.warning("stopping: the running task run has %gs to finish before it is handed back", grace)
            self.timer = threading.Timer(grace, self._expire)
            self.timer.daemon = True
            self.timer.start()

    def stop_now(self) -> None:
        """Told to stop a second time: the grace period ends now."""
        if self.timer is not None:
            self.timer.cancel()
        threading.Thread(target=self._expire, daemon=True).start()

    def should_hand_back(self) -> bool:
        return self.expired.is_set()

    def hand_back(self, run_id: str, execution_id: str, attempt: int) -> bool:
        """Put the attempt back in the queue (its job is sent by ``job_finished``); False if it had ended already."""
        with session_scope(self.database()) as session:
            done = store.hand_back_attempt(session, run_id, attempt)
        self.held = None
        if done:
            self.handed_back.append((run_id, attempt))
            with contextlib.suppress(redis.RedisError), self.r.pipeline(transaction=False) as pipe:
                events.announce(pipe, execution_id, "state")
                pipe.execute()
            log.warning("task run %s of %s handed back", run_id, execution_id)
        return done

    def job_finished(self, r: redis.Redis) -> None:
        """RQ has finished the job (and dropped its record): send the handed-back runs' jobs again."""
        self.held = None
        self.job_done.set()
        if self.handed_back:
            enqueue_runs(r, self.handed_back)
            self.handed_back = []

    def _expire(self) -> None:
        self.expired.set()
        if self.job_done.wait(FORCE_AFTER) or self.held is None:
            return
        self._force()

    def _force(self) -> None:
        """The task did not stop: hand its run back from here and leave, before it could record anything."""
        self.ending.acquire()  # never released: the process exits (an attempt ending now ends first)
        try:
            run_id, attempt = self.held or (None, 0)
            if run_id is not None:
                with session_scope(self.database()) as session:
                    done = store.hand_back_attempt(session, run_id, attempt)
                if done:
                    requeue_runs(self.r, [(run_id, attempt)])  # the old job's record goes with it
                    log.warning("task run %s did not stop when asked: handed back", run_id)
        except Exception:
            log.exception("handing back the running task run failed; the executor's sweep will recover it")
        finally:
            logging.shutdown()
            os._exit(0)


HANDOVER = Handover()  # one per process: signals are the process'
