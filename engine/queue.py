"""Task runs as RQ jobs on one queue that every worker listens to."""

from __future__ import annotations

import redis
from rq import Queue
from rq.job import Job

TASK_QUEUE = "lanner-tasks"
JOB_FUNCTION = "engine.worker.run_attempt"
DEFAULT_TIMEOUT = 24 * 3600  # the task's own timeout is enforced by the worker


def task_queue(connection: redis.Redis) -> Queue:
    return Queue(TASK_QUEUE, connection=connection, default_timeout=DEFAULT_TIMEOUT)


def job_id(task_run_id: str, attempt: int) -> str:
    return f"{task_run_id}_{attempt}"


def enqueue_runs(connection: redis.Redis, runs: list[tuple[str, int]]) -> None:
    """Enqueue (task run id, attempt about to start) pairs in one round trip."""
    if not runs:
        return
    queue = task_queue(connection)
    with connection.pipeline() as pipe:
        for run_id, attempt in runs:
            queue.enqueue_call(
                JOB_FUNCTION,
                args=(run_id,),
                job_id=job_id(run_id, attempt),
                result_ttl=0,
                failure_ttl=3600,
                pipeline=pipe,
            )
        pipe.execute()


def job_exists(connection: redis.Redis, task_run_id: str, attempt: int) -> bool:
    return Job.exists(job_id(task_run_id, attempt), connection=connection)
