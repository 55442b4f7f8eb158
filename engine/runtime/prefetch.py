"""Prefetch: when work is waiting, a worker takes its next job as the attempt it runs ends, and claims that job's
task run in the transaction that records the end. One write transaction per task run instead of two (a claim,
then an end), and one wake-up fewer: the job is in hand when RQ's loop asks for the next one.

The next job is taken only at the end of an attempt, never while a task runs: a prefetched job never waits behind
a long task while another worker is idle (the trap of a broker's prefetch count). It is taken as RQ takes one (into
the queue's intermediate list, where recovery looks) and the claim is the same compare-and-set as a worker's own,
so everything that holds for a job taken and a run claimed holds here:
- the worker dies with the job taken but its run not claimed (the transaction rolled back): the run is still
  QUEUED, and the executor's sweep for lost jobs sends it again;
- the worker dies with the run claimed but not started: the attempt has no heartbeat, and the sweep for lost
  attempts fails it, as for a worker that dies just after its own claim;
- the worker is told to stop between the two: its run is handed back (QUEUED again at the same attempt, as
  engine/runtime/handover.py does) and its job sent again, before the process exits.

``LANNER_WORKER_PREFETCH=0`` turns it off (``bench/engine.py`` compares both).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from rq import Queue
from rq.job import Job
from sqlalchemy import Engine
from sqlmodel import Session

from engine.config import load_settings
from engine.runtime.queue import JOB_FUNCTION
from engine.store import executions as store
from engine.store.database import session_scope

log = logging.getLogger("lanner.worker")


@dataclass
class Prefetched:
    job: Job
    queue: Queue
    run_id: str | None  # None: not a task run's job (RQ's own, or malformed): run by RQ as any job
    attempt: int | None
    claimed: bool = False  # its claim was committed with the end of the attempt before it
    run: Any = None  # the run that claim returned (None: the run did not wait for this attempt)


def _task_run(job: Job) -> tuple[str | None, int | None]:
    """(task run id, attempt) of a Lanner job, else (None, None)."""
    try:
        if job.func_name != JOB_FUNCTION or not job.args:
            return None, None
        attempt = job.args[1] if len(job.args) > 1 else None
        return str(job.args[0]), (int(attempt) if attempt is not None else None)
    except Exception:  # a job whose data cannot be read: RQ's own handling reports it when it runs
        return None, None


class Prefetch:
    """This worker process' next job, if it took one (one per process, as the worker is)."""

    def __init__(self) -> None:
        self.worker: Any = None  # the RQ worker serving this process (LannerWorker attaches itself)
        self.next: Prefetched | None = None  # taken, not yet handed to RQ's loop
        self.started: Prefetched | None = None  # handed to RQ's loop: its claim is used once, by its job

    def attach(self, worker: Any) -> None:
        self.worker = worker
        self.next = self.started = None

    def take(self) -> Prefetched | None:
        """The next job waiting in the worker's queues, taken without waiting (None: none waits, prefetch is off,
        the worker is stopping, or this process is no prefetching worker)."""
        worker = self.worker
        if worker is None or self.next is not None or worker._stop_requested or not load_settings().worker_prefetch:
            return None
        try:
            found = Queue.dequeue_any(
                worker._ordered_queues,
                None,
                connection=worker.connection,
                job_class=worker.job_class,
                serializer=worker.serializer,
                death_penalty_class=worker.death_penalty_class,
            )
        except redis.RedisError:
            return None  # RQ's own loop meets it again, and waits
        except Exception:  # a job RQ cannot load: left for RQ's loop, which reports it
            log.debug("prefetch skipped a job it could not load", exc_info=True)
            return None
        if found is None:
            return None
        job, queue = found
        job.redis_server_version = worker.get_redis_server_version()  # as RQ's own dequeue sets them
        worker.reorder_queues(reference_queue=queue)
        self.next = Prefetched(job, queue, *_task_run(job))
        return self.next

    @staticmethod
    def claim(session: Session, upcoming: Prefetched | None, worker_name: str) -> None:
        """Inside the transaction that ends an attempt: claim the upcoming job's run too."""
        if upcoming is not None and upcoming.run_id is not None:
            upcoming.run = store.claim_attempt(session, upcoming.run_id, worker_name, upcoming.attempt)

    @staticmethod
    def committed(upcoming: Prefetched | None) -> None:
        """That transaction committed: the claim holds."""
        if upcoming is not None and upcoming.run_id is not None:
            upcoming.claimed = True

    def pop(self) -> tuple[Job, Queue] | None:
        """For RQ's loop: the job taken, to run now."""
        self.started, self.next = self.next, None
        return None if self.started is None else (self.started.job, self.started.queue)

    def claimed_run(self, run_id: str, attempt: int | None) -> tuple[bool, Any]:
        """(True, run) when this job's run was claimed with the end of the attempt before it (run None: it did not
        wait for this attempt); (False, None) when the job must claim its run itself."""
        upcoming, self.started = self.started, None
        if upcoming is None or not upcoming.claimed or (upcoming.run_id, upcoming.attempt) != (run_id, attempt):
            return False, None
        return True, upcoming.run

    def give_back(self, database: Callable[[], Engine]) -> None:
        """The worker stops with a job taken and not run: its run waits again (handed back if it was claimed) and
        its job goes back to the front of its queue, as if never taken."""
        upcoming, self.next = self.next, None
        if upcoming is None:
            return
        job, queue = upcoming.job, upcoming.queue
        try:
            if upcoming.claimed and upcoming.run is not None:
                with session_scope(database()) as session:
                    store.hand_back_attempt(session, upcoming.run.id, upcoming.run.attempt_count)
            with queue.connection.pipeline() as pipe:
                pipe.lrem(queue.intermediate_queue_key, 0, job.id)
                if upcoming.claimed and upcoming.run is None:
                    pipe.delete(job.key)  # its run did not wait for this attempt: the job has nothing to do
                else:
                    pipe.lpush(queue.key, job.id)
                pipe.execute()
            log.info("stopping: the prefetched job %s goes back to its queue", job.id)
        except Exception:
            log.exception("giving back a prefetched job failed; the executor's sweeps will recover its run")


PREFETCH = Prefetch()
