"""Task runs as RQ jobs on one queue that every worker listens to."""

from __future__ import annotations

import contextlib

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

TASK_QUEUE = "lanner-tasks"
JOB_FUNCTION = "engine.runtime.worker.run_attempt"
DEFAULT_TIMEOUT = 24 * 3600  # the task's own timeout is enforced by the worker

# Which of the given job ids are waiting: listed on the queue and with their record. One pass over the
# list inside Redis, so a long queue costs the sweep one round trip, not one per run.
_WAITING = """
local listed = {}
for _, id in ipairs(redis.call('lrange', KEYS[1], 0, -1)) do listed[id] = true end
local waiting = {}
for i, id in ipairs(ARGV) do
  waiting[i] = (listed[id] and redis.call('exists', KEYS[2] .. id) == 1) and 1 or 0
end
return waiting
"""


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
                args=(run_id, attempt),
                job_id=job_id(run_id, attempt),
                result_ttl=0,
                failure_ttl=3600,
                pipeline=pipe,
            )
        pipe.execute()


def waiting_in_queue(connection: redis.Redis, runs: list[tuple[str, int]]) -> list[bool]:
    """For each (task run id, attempt), whether its job waits in the queue for a worker.

    A job a worker took is not waiting, whatever RQ still says about it: left in RQ's intermediate list
    or marked started by a worker that died, moved to the failed registry by RQ's clean-up, or gone
    with a Redis that restarted empty.
    """
    if not runs:
        return []
    queue = task_queue(connection)
    script = connection.register_script(_WAITING)
    answer = script(keys=[queue.key, Job.redis_job_namespace_prefix], args=[job_id(*run) for run in runs])
    return [bool(flag) for flag in answer]


def requeue_runs(connection: redis.Redis, runs: list[tuple[str, int]]) -> None:
    """Send the jobs of these runs again, after removing what is left of their old jobs anywhere in RQ."""
    queue = task_queue(connection)
    for run in runs:
        stale = job_id(*run)
        connection.lrem(queue.intermediate_queue_key, 0, stale)
        with contextlib.suppress(NoSuchJobError):
            Job.fetch(stale, connection=connection).delete()
    enqueue_runs(connection, runs)
