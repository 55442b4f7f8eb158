"""Task runs as RQ jobs: one queue per worker group, and the default queue for runs that name no group.

A worker serves the queues of the groups it was started with (``lanner worker --group gpu``), or the default
queue. ``queue_name`` is the one way to name a group's queue.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

TASK_QUEUE = "lanner-tasks"  # the default queue: task runs without a worker group, workers without --group
JOB_FUNCTION = "engine.runtime.worker.run_attempt"
DEFAULT_TIMEOUT = 24 * 3600  # the task's own timeout is enforced by the worker

#: (task run id, attempt about to start, worker group or None for the default queue)
Run = tuple[str, int, str | None]

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


def queue_name(group: str | None) -> str:
    """The RQ queue of a worker group (None: the default queue)."""
    return TASK_QUEUE if group is None else f"{TASK_QUEUE}:{group}"


def task_queue(connection: redis.Redis, group: str | None = None) -> Queue:
    return Queue(queue_name(group), connection=connection, default_timeout=DEFAULT_TIMEOUT)


def job_id(task_run_id: str, attempt: int) -> str:
    return f"{task_run_id}_{attempt}"


def _by_group(runs: Iterable[Run]) -> dict[str | None, list[Run]]:
    grouped: dict[str | None, list[Run]] = defaultdict(list)
    for run in runs:
        grouped[run[2]].append(run)
    return grouped


def enqueue_runs(connection: redis.Redis, runs: list[Run], pipeline: redis.client.Pipeline | None = None) -> None:
    """Enqueue runs on their groups' queues in one round trip (added to ``pipeline`` when given: its caller
    sends it)."""
    if not runs:
        return
    if pipeline is None:
        with connection.pipeline() as pipe:
            enqueue_runs(connection, runs, pipe)
            pipe.execute()
        return
    for group, of_group in _by_group(runs).items():
        queue = task_queue(connection, group)
        for run_id, attempt, _ in of_group:
            queue.enqueue_call(
                JOB_FUNCTION,
                args=(run_id, attempt),
                job_id=job_id(run_id, attempt),
                result_ttl=0,
                failure_ttl=3600,
                pipeline=pipeline,
            )


def waiting_in_queue(connection: redis.Redis, runs: list[Run]) -> list[bool]:
    """For each run, whether its job waits in its group's queue for a worker.

    A job a worker took is not waiting, whatever RQ still says about it: left in RQ's intermediate list
    or marked started by a worker that died, moved to the failed registry by RQ's clean-up, or gone
    with a Redis that restarted empty.
    """
    script = connection.register_script(_WAITING)
    waiting: dict[Run, bool] = {}
    for group, of_group in _by_group(runs).items():
        keys = [task_queue(connection, group).key, Job.redis_job_namespace_prefix]
        answer = script(keys=keys, args=[job_id(run_id, attempt) for run_id, attempt, _ in of_group])
        waiting.update(zip(of_group, (bool(flag) for flag in answer), strict=True))
    return [waiting[run] for run in runs]


def requeue_runs(connection: redis.Redis, runs: list[Run]) -> None:
    """Send the jobs of these runs again, after removing what is left of their old jobs anywhere in RQ."""
    for run_id, attempt, group in runs:
        stale = job_id(run_id, attempt)
        connection.lrem(task_queue(connection, group).intermediate_queue_key, 0, stale)
        with contextlib.suppress(NoSuchJobError):
            Job.fetch(stale, connection=connection).delete()
    enqueue_runs(connection, runs)
